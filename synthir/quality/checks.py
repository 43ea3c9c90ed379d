"""Data checks on synthetic queries with Great Expectations 1.x, and what to do with failing rows.

Each check is one GX expectation over a table of per-query measures (``measure_queries``). Its
policy says what happens to the rows it flags:
- ``quarantine``: the rows move to the quarantine artifact (kept, counted, viewable), not silently lost;
- ``warn``: the rows stay, the count is logged;
- ``fail``: the run fails (after the report and quarantine are saved) when the failing share exceeds
  ``fail_above`` (0 by default for this policy).
Any check can also set ``fail_above`` with another policy: e.g. quarantine copies, but fail the run
when more than 30% of the queries are copies, which is how a degenerate generator shows up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, List, Literal, Optional

import pandas as pd
from pydantic import Field

from synthir.config import ConfigBlock, StrictModel
from synthir.data.synthetic import SyntheticQuery
from synthir.quality.text import (
    DEFAULT_RESIDUE_PATTERNS,
    duplicate_key,
    exact_copy,
    is_printable,
    lcs_ratio,
    ngram_share,
    repeated_ngram_share,
    words,
)

logger = logging.getLogger(__name__)
POLICIES = ("quarantine", "warn", "fail")


class Check(StrictModel):
    """One check: whether it runs, what happens to the rows it flags, when it fails the run."""

    enabled: bool = Field(True, description="run this check")
    policy: Literal[POLICIES] = Field("quarantine", description="quarantine (rows set aside, kept) | warn (rows stay, counted) | fail")
    fail_above: Optional[float] = Field(None, ge=0, le=1, description="fail the run when more than this share fails, whatever the policy")

    def fail_threshold(self) -> float | None:
        if self.fail_above is not None:
            return self.fail_above
        return 0.0 if self.policy == "fail" else None


class LengthCheck(Check):
    min_tokens: int = Field(2, ge=0, description="fewest word tokens")
    max_tokens: int = Field(40, ge=1, description="most word tokens")


class ResidueCheck(Check):
    patterns: List[str] = Field(default_factory=lambda: list(DEFAULT_RESIDUE_PATTERNS),
                                description="regular expressions of template labels (Example 3:, Document:, ...)")


class DuplicateCheck(Check):
    max_ratio: float = Field(0.5, ge=0, le=1, description="fail the run when more than this share are near-duplicates")


class ExactCopyCheck(Check):
    fail_above: Optional[float] = Field(0.5, ge=0, le=1, description="fail the run when more than this share are verbatim "
                                        "copies (the sign of a degenerate generator)")


class NgramCopyCheck(Check):
    n: int = Field(3, ge=1, description="word n-gram size")
    max_share: float = Field(0.8, ge=0, le=1, description="flag when more than this share of the query's n-grams are in the document")


class RepetitionCheck(Check):
    n: int = Field(3, ge=1, description="word n-gram size")
    max_share: float = Field(0.3, ge=0, le=1, description="flag when more than this share of the query's n-grams "
                             "repeat an earlier one of the query (a decoding loop)")


class LcsCopyCheck(Check):
    max_ratio: float = Field(0.9, ge=0, le=1, description="flag when the longest common substring exceeds this share of the query")


class ChecksConfig(ConfigBlock):
    """``checks:``: one entry per check; each field left out keeps its default."""

    yaml_path = "checks"
    not_empty: Check = Field(default_factory=Check, description="empty or blank queries")
    length: LengthCheck = Field(default_factory=LengthCheck, description="too few or too many word tokens")
    prompt_residue: ResidueCheck = Field(default_factory=ResidueCheck, description="template labels left in the query")
    single_line: Check = Field(default_factory=Check, description="queries spanning several lines")
    printable: Check = Field(default_factory=Check, description="control or unassigned characters")
    repetition: RepetitionCheck = Field(default_factory=RepetitionCheck, description="a decoding loop: the query "
                                        "repeats its own word n-grams")
    near_duplicates: DuplicateCheck = Field(default_factory=DuplicateCheck, description="an earlier query with the same words")
    copy_exact: ExactCopyCheck = Field(default_factory=ExactCopyCheck, description="the query appears verbatim in its document")
    copy_ngram: NgramCopyCheck = Field(default_factory=NgramCopyCheck, description="most of its word n-grams occur in the document")
    copy_lcs: LcsCopyCheck = Field(default_factory=LcsCopyCheck, description="a long common substring with the document")

    def enabled_checks(self) -> dict[str, Check]:
        return {name: getattr(self, name) for name in type(self).model_fields if getattr(self, name).enabled}


def is_copy(query: str, document: str, checks: ChecksConfig | None = None) -> bool:
    """The validation checks' copy verdict (exact substring, n-gram share or LCS above their limits)."""
    checks = checks or ChecksConfig()
    return (exact_copy(query, document)
            or ngram_share(query, document, checks.copy_ngram.n) > checks.copy_ngram.max_share
            or lcs_ratio(query, document) > checks.copy_lcs.max_ratio)


def measure_queries(rows: list[SyntheticQuery], config: ChecksConfig) -> pd.DataFrame:
    """One row per query with the measures the expectations test."""
    seen: set[str] = set()
    duplicate = []
    for row in rows:
        key = duplicate_key(row.query)
        duplicate.append(bool(key) and key in seen)
        seen.add(key)
    return pd.DataFrame({
        "doc_id": [r.doc_id for r in rows],
        "query": [r.query for r in rows],
        "query_stripped": [r.query.strip() for r in rows],
        "n_tokens": [len(words(r.query)) for r in rows],
        "printable": [is_printable(r.query) for r in rows],
        "repetition": [repeated_ngram_share(r.query, config.repetition.n) for r in rows],
        "duplicate": duplicate,
        "copy_exact": [exact_copy(r.query, r.doc_text) for r in rows],
        "copy_ngram": [ngram_share(r.query, r.doc_text, config.copy_ngram.n) for r in rows],
        "copy_lcs": [lcs_ratio(r.query, r.doc_text) for r in rows],
    })


def build_suite(config: ChecksConfig):
    import great_expectations as gx

    e = gx.expectations
    suite = gx.ExpectationSuite(name="synthetic_queries")
    enabled = config.enabled_checks()

    def add(check: str, expectation) -> None:
        if check in enabled:
            expectation.meta = {"check": check}
            suite.add_expectation(expectation)

    add("not_empty", e.ExpectColumnValueLengthsToBeBetween(column="query_stripped", min_value=1))
    add("length", e.ExpectColumnValuesToBeBetween(column="n_tokens", min_value=config.length.min_tokens,
                                                  max_value=config.length.max_tokens))
    add("prompt_residue", e.ExpectColumnValuesToNotMatchRegexList(column="query", regex_list=config.prompt_residue.patterns))
    add("single_line", e.ExpectColumnValuesToNotMatchRegex(column="query", regex=r"[\r\n]"))
    add("printable", e.ExpectColumnValuesToBeInSet(column="printable", value_set=[True]))
    add("repetition", e.ExpectColumnValuesToBeBetween(column="repetition", max_value=config.repetition.max_share))
    add("near_duplicates", e.ExpectColumnValuesToBeInSet(column="duplicate", value_set=[False]))
    add("copy_exact", e.ExpectColumnValuesToBeInSet(column="copy_exact", value_set=[False]))
    add("copy_ngram", e.ExpectColumnValuesToBeBetween(column="copy_ngram", max_value=config.copy_ngram.max_share))
    add("copy_lcs", e.ExpectColumnValuesToBeBetween(column="copy_lcs", max_value=config.copy_lcs.max_ratio))
    return suite


@dataclass
class CheckOutcome:
    name: str
    policy: str
    failed_rows: list[int]
    share: float
    fails_run: bool
    gx_success: bool
    sample: list[str]


def run_checks(table: pd.DataFrame, config: ChecksConfig) -> tuple[dict[str, CheckOutcome], dict[str, Any]]:
    """Validate the table with GX; returns the outcome per check and GX's JSON result."""
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # its INFO lines drown the step log
    context = gx.get_context(mode="ephemeral")
    asset = context.data_sources.add_pandas("synthir").add_dataframe_asset("synthetic_queries")
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": table})
    result = batch.validate(build_suite(config), result_format={"result_format": "COMPLETE"})
    enabled = config.enabled_checks()
    total = max(len(table), 1)
    outcomes: dict[str, CheckOutcome] = {}
    for item in result.results:
        name = item.expectation_config.meta["check"]
        check = enabled[name]
        failed = sorted(int(i) for i in (item.result.get("unexpected_index_list") or []))
        share = len(failed) / total
        threshold = check.fail_threshold()
        if name == "near_duplicates":  # a dataset-level bound: some duplicates are normal
            limit = config.near_duplicates.max_ratio if threshold is None else min(threshold, config.near_duplicates.max_ratio)
            fails_run = share > limit
        else:
            fails_run = threshold is not None and share > threshold
        outcomes[name] = CheckOutcome(
            name=name, policy=check.policy, failed_rows=failed, share=share, fails_run=fails_run,
            gx_success=bool(item.success), sample=[table["query"].iloc[i] for i in failed[:5]],
        )
    return outcomes, result.to_json_dict()
