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
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from synthir.data.synthetic import SyntheticQuery
from synthir.quality.text import (
    DEFAULT_RESIDUE_PATTERNS,
    duplicate_key,
    exact_copy,
    is_printable,
    lcs_ratio,
    ngram_share,
    words,
)

logger = logging.getLogger(__name__)
POLICIES = ("quarantine", "warn", "fail")


@dataclass
class Check:
    enabled: bool = True
    policy: str = "quarantine"
    fail_above: float | None = None

    def fail_threshold(self) -> float | None:
        if self.fail_above is not None:
            return self.fail_above
        return 0.0 if self.policy == "fail" else None


@dataclass
class LengthCheck(Check):
    min_tokens: int = 2
    max_tokens: int = 40


@dataclass
class ResidueCheck(Check):
    patterns: list[str] = field(default_factory=lambda: list(DEFAULT_RESIDUE_PATTERNS))


@dataclass
class DuplicateCheck(Check):
    max_ratio: float = 0.5  # dataset level: fail the run when more than this share are near-duplicates
    policy: str = "quarantine"


@dataclass
class NgramCopyCheck(Check):
    n: int = 3
    max_share: float = 0.8


@dataclass
class LcsCopyCheck(Check):
    max_ratio: float = 0.9


@dataclass
class ChecksConfig:
    not_empty: Check = field(default_factory=Check)
    length: LengthCheck = field(default_factory=LengthCheck)
    prompt_residue: ResidueCheck = field(default_factory=ResidueCheck)
    single_line: Check = field(default_factory=Check)
    printable: Check = field(default_factory=Check)
    near_duplicates: DuplicateCheck = field(default_factory=DuplicateCheck)
    copy_exact: Check = field(default_factory=lambda: Check(fail_above=0.5))
    copy_ngram: NgramCopyCheck = field(default_factory=NgramCopyCheck)
    copy_lcs: LcsCopyCheck = field(default_factory=LcsCopyCheck)

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> ChecksConfig:
        """Build from YAML (``checks:`` mapping); unknown checks or fields fail naming them."""
        config = cls()
        for name, values in (raw or {}).items():
            if name not in {f.name for f in fields(cls)}:
                raise ValueError(f"checks.{name}: unknown check; known: {[f.name for f in fields(cls)]}")
            current = getattr(config, name)
            allowed = {f.name for f in fields(current)}
            unknown = set(values or {}) - allowed
            if unknown:
                raise ValueError(f"checks.{name}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
            updated = type(current)(**{**current.__dict__, **(values or {})})
            if updated.policy not in POLICIES:
                raise ValueError(f"checks.{name}.policy must be one of {POLICIES}, got {updated.policy!r}")
            setattr(config, name, updated)
        return config

    def enabled_checks(self) -> dict[str, Check]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name).enabled}


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
