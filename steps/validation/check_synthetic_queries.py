from typing import Annotated, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import validation
from synthir.quality import ChecksConfig, QuarantinedQueries, ValidationReport


@step(experiment_tracker=True)
def check_synthetic_queries(
    queries: SyntheticQueries, corpus: Corpus, checks: ChecksConfig = ChecksConfig()
) -> Tuple[
    Annotated[SyntheticQueries, "checked_queries"],
    Annotated[QuarantinedQueries, "quarantine"],
    Annotated[ValidationReport, "check_report"],
]:
    """``synthir.flow.validation.check_synthetic_queries``: Great Expectations checks and copy detection;
    rows go to the quarantine per each check's policy."""
    checked = validation.check_synthetic_queries(queries, corpus, checks)
    log_metadata(metadata=checked.metadata)
    return checked.checked, checked.quarantine, checked.report
