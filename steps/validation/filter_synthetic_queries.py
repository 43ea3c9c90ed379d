import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.quality import FilteredQueries, ValidationReport, filter_queries, validate_filter_specs
from synthir.quality.filters import ScoresFilter
from synthir.tracking import log_artifact, log_metrics, log_params


@step(experiment_tracker=True)
def filter_synthetic_queries(
    queries: SyntheticQueries, corpus: Corpus, check_report: ValidationReport,
    filters: Optional[List[Dict[str, Any]]] = None,
) -> Tuple[Annotated[FilteredQueries, "filtered_queries"], Annotated[ValidationReport, "validation_report"]]:
    """Apply the configured filters in order (scores, reranker, consistency, none)."""
    filters = validate_filter_specs([ScoresFilter(keep=0.8)] if filters is None else filters)
    filtered, report = filter_queries(queries, filters, corpus, check_report)
    log_params({"filters": [f.model_dump() for f in filters]}, prefix="validation.")
    log_metrics({k: v for k, v in report.metrics().items() if k.startswith(("filter.", "queries_kept", "kept_fraction"))},
                prefix="validation.")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "validation_report.html"
        path.write_text(report.to_html(), encoding="utf-8")
        log_artifact(path, "validation")
    log_metadata(metadata={"kept": report.kept, "kept_fraction": report.kept_fraction})
    return filtered, report
