import tempfile
from pathlib import Path
from typing import Annotated, List, Optional

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Run, write_run_trec
from synthir.data.errors import require_judgments
from synthir.evaluation import DEFAULT_MEASURES, EvaluationResult, evaluate
from synthir.evaluation.report import metrics_markdown, plot_per_query
from synthir.tracking import log_artifact, log_metrics, log_params

logger = get_logger(__name__)

@step(experiment_tracker=True)
def evaluate_run(
    run: Run,
    qrels: Qrels,
    system: str = "bm25",
    measures: Optional[List[str]] = None,
    exclude_query_ids: Optional[List[str]] = None,
    corpus: Optional[Corpus] = None,
) -> Annotated[EvaluationResult, "evaluation"]:
    """Score a run with ir_measures; log figures, the run file, the per-query table and a plot to MLflow.

    ``exclude_query_ids``: judged queries to leave out (few-shot examples shown to a generator).
    ``corpus``: the corpus the run ranks; a run of its passages is scored as a run of documents."""
    require_judgments(len(qrels), "evaluating a run", "a corpus-only collection is evaluated by inpars_pipeline's "
                      "label-free gate (evaluation: {source: synthetic})")
    exclude_query_ids = exclude_query_ids or []
    measures = measures or list(DEFAULT_MEASURES)
    if corpus is not None:
        run = corpus.document_run(run)
    result = evaluate(run, qrels, measures=measures, system=system, exclude_query_ids=exclude_query_ids)
    logger.info("\n%s", metrics_markdown([result]))
    log_params({"measures": ",".join(measures), "system": system,
                "excluded_queries": ",".join(exclude_query_ids)}, prefix="eval.")
    # Plain metric names (ndcg_at_10, ...) are shared by every pipeline so MLflow runs compare directly.
    log_metrics(result.metrics())
    log_metrics({"queries": result.num_queries}, prefix="eval.")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_file = f"{system}.run"
        try:
            write_run_trec(run, folder / run_file, tag=system)
        except ValueError as err:  # an id with a space: a TSV keeps it exact where TREC cannot
            run_file = f"{system}.run.tsv"
            logger.warning("%s; the run is logged as %s instead", err, run_file)
            run.to_frame().to_csv(folder / run_file, sep="\t", index=False)
        result.to_frame().to_csv(folder / f"{system}.per_query.tsv", sep="\t", index=False)
        plot_per_query([result], folder / f"{system}.per_query.png")
        for name in (run_file, f"{system}.per_query.tsv", f"{system}.per_query.png"):
            log_artifact(folder / name, artifact_path="evaluation")
    log_metadata(metadata={"system": system, **result.metrics()})
    return result
