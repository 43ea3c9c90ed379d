from zenml import step

from synthir.flow import validation
from synthir.quality import ValidationReport


@step
def enforce_validation_policy(report: ValidationReport) -> None:
    """``synthir.flow.validation.enforce_validation_policy``: a step of its own, so the report and the
    quarantine are saved before it fails the run."""
    validation.enforce_validation_policy(report)
