from zenml import step

from synthir.data.errors import require_output
from synthir.quality import ValidationFailed, ValidationReport


@step
def enforce_validation_policy(report: ValidationReport) -> None:
    """Fail the run when a check's failing share exceeds its bound; runs after the report and the
    quarantine are saved, so nothing is lost when it fails."""
    if report.failed:
        raise ValidationFailed("validation failed: " + "; ".join(report.failure_reasons)
                               + " (see the check_report and quarantine artifacts)")
    require_output("check_synthetic_queries", report.after_checks, report.total, "queries that pass the checks",
                   "every query was quarantined (see the check_report and quarantine artifacts)")
