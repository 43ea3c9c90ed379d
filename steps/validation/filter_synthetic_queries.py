from typing import Annotated, Any, Dict, List, Optional, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.quality import FilteredQueries, ValidationReport, filter_queries, validate_filter_specs
from synthir.quality.filters import ScoresFilter
from synthir.tracking import log_metrics, log_params, log_text


@step(experiment_tracker=True)
def filter_synthetic_queries(
    queries: SyntheticQueries, corpus: Corpus, check_report: ValidationReport,
    filters: Optional[List[Dict[str, Any]]] = None,
) -> Tuple[Annotated[FilteredQueries, "filtered_queries"], Annotated[ValidationReport, "validation_report"]]:
    """Apply the configured filters in order (scores, reranker, consistency, none)."""
    filters = validate_filter_specs([ScoresFilter(keep=0.8)] if filters is None else filters)
    filtered, report = filter_queries(queries, filters, corpus, check_report)
    require_output("filter_synthetic_queries", len(filtered), len(queries), "queries",
                   f"the filters {[f.name for f in filters]} kept none; loosen keep / top_k")
    log_params({"filters": [f.model_dump() for f in filters]}, prefix="validation.")
    log_metrics({k: v for k, v in report.metrics().items() if k.startswith(("filter.", "queries_kept", "kept_fraction"))},
                prefix="validation.")
    log_text(report.to_html(), "validation/validation_report.html")
    log_metadata(metadata={"kept": report.kept, "kept_fraction": report.kept_fraction})
    return filtered, report
