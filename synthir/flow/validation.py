"""Checks, the validation policy and filters (the validation steps' twins)."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Optional

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.quality import (
    ChecksConfig,
    FilteredQueries,
    QuarantinedQueries,
    ValidationFailed,
    ValidationReport,
    check_queries,
    filter_queries,
    validate_filter_specs,
)
from synthir.quality.filters import ScoresFilter
from synthir.tracking import log_metrics, log_params, log_text

logger = logging.getLogger(__name__)


class CheckedQueries(NamedTuple):
    checked: SyntheticQueries
    quarantine: QuarantinedQueries
    report: ValidationReport
    metadata: dict[str, Any]


def check_synthetic_queries(queries: SyntheticQueries, corpus: Corpus, checks: ChecksConfig | dict | None = None) -> CheckedQueries:
    """Great Expectations checks and copy detection; rows go to the quarantine per each check's policy."""
    if queries.corpus_fingerprint and queries.corpus_fingerprint != corpus.fingerprint():
        raise ValueError(
            f"the synthetic queries were generated for corpus {queries.corpus_fingerprint}, but `collection` "
            f"has fingerprint {corpus.fingerprint()}; validate against the corpus they were generated for"
        )
    config = ChecksConfig.from_dict(checks or {})
    kept, quarantine, report = check_queries(queries, config)
    for name, outcome in report.checks.items():
        logger.info("check %-16s %-10s %5d failing (%.1f%%)%s", name, outcome["policy"], outcome["failed"],
                    100 * outcome["share"], "  -> fails the run" if outcome["fails_run"] else "")
    log_params({"checks": {k: v.model_dump() for k, v in config.enabled_checks().items()}}, prefix="validation.")
    log_metrics(report.metrics(), prefix="validation.")
    log_text(report.to_html(), "validation/check_report.html")
    return CheckedQueries(kept, quarantine, report, {"quarantined": len(quarantine), "copy_rate": report.copy_rate})


def enforce_validation_policy(report: ValidationReport) -> None:
    """Fail when a check's failing share exceeds its bound; called after the report and the quarantine
    are saved, so nothing is lost when it fails."""
    if report.failed:
        raise ValidationFailed("validation failed: " + "; ".join(report.failure_reasons)
                               + " (see the check_report and quarantine artifacts)")
    require_output("check_synthetic_queries", report.after_checks, report.total, "queries that pass the checks",
                   "every query was quarantined (see the check_report and quarantine artifacts)")


class FilteredResult(NamedTuple):
    filtered: FilteredQueries
    report: ValidationReport
    metadata: dict[str, Any]


def filter_synthetic_queries(queries: SyntheticQueries, corpus: Corpus, check_report: ValidationReport,
                             filters: Optional[list] = None) -> FilteredResult:
    """Apply the configured filters in order (scores, reranker, consistency, none)."""
    filters = validate_filter_specs([ScoresFilter(keep=0.8)] if filters is None else filters)
    filtered, report = filter_queries(queries, filters, corpus, check_report)
    require_output("filter_synthetic_queries", len(filtered), len(queries), "queries",
                   f"the filters {[f.name for f in filters]} kept none; loosen keep / top_k")
    log_params({"filters": [f.model_dump() for f in filters]}, prefix="validation.")
    log_metrics({k: v for k, v in report.metrics().items() if k.startswith(("filter.", "queries_kept", "kept_fraction"))},
                prefix="validation.")
    log_text(report.to_html(), "validation/validation_report.html")
    return FilteredResult(filtered, report, {"kept": report.kept, "kept_fraction": report.kept_fraction})
