from typing import Annotated, List, Optional, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import validation
from synthir.quality import FilteredQueries, ValidationReport
from synthir.quality.filters import FilterSpec


@step(experiment_tracker=True)
def filter_synthetic_queries(
    queries: SyntheticQueries, corpus: Corpus, check_report: ValidationReport,
    filters: Optional[List[FilterSpec]] = None,
) -> Tuple[Annotated[FilteredQueries, "filtered_queries"], Annotated[ValidationReport, "validation_report"]]:
    """``synthir.flow.validation.filter_synthetic_queries``: the filters in order (scores, reranker,
    consistency, none)."""
    result = validation.filter_synthetic_queries(queries, corpus, check_report, filters)
    log_metadata(metadata=result.metadata)
    return result.filtered, result.report
