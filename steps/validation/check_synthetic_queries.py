from typing import Annotated, Tuple

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.quality import ChecksConfig, QuarantinedQueries, ValidationReport, check_queries
from synthir.tracking import log_metrics, log_params, log_text

logger = get_logger(__name__)


@step(experiment_tracker=True)
def check_synthetic_queries(
    queries: SyntheticQueries, corpus: Corpus, checks: ChecksConfig = ChecksConfig()
) -> Tuple[
    Annotated[SyntheticQueries, "checked_queries"],
    Annotated[QuarantinedQueries, "quarantine"],
    Annotated[ValidationReport, "check_report"],
]:
    """Great Expectations checks and copy detection; rows go to the quarantine per each check's policy."""
    if queries.corpus_fingerprint and queries.corpus_fingerprint != corpus.fingerprint():
        raise ValueError(
            f"the synthetic queries were generated for corpus {queries.corpus_fingerprint}, but `collection` "
            f"has fingerprint {corpus.fingerprint()}; validate against the corpus they were generated for"
        )
    config = ChecksConfig.from_dict(checks)
    kept, quarantine, report = check_queries(queries, config)
    for name, outcome in report.checks.items():
        logger.info("check %-16s %-10s %5d failing (%.1f%%)%s", name, outcome["policy"], outcome["failed"],
                    100 * outcome["share"], "  -> fails the run" if outcome["fails_run"] else "")
    log_params({"checks": {k: v.model_dump() for k, v in config.enabled_checks().items()}}, prefix="validation.")
    log_metrics(report.metrics(), prefix="validation.")
    log_text(report.to_html(), "validation/check_report.html")
    log_metadata(metadata={"quarantined": len(quarantine), "copy_rate": report.copy_rate})
    return kept, quarantine, report
