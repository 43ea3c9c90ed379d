from typing import Annotated, List, Optional

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Run
from synthir.evaluation import EvaluationResult
from synthir.flow import retrieval


@step(experiment_tracker=True)
def evaluate_run(
    run: Run,
    qrels: Qrels,
    system: str = "bm25",
    measures: Optional[List[str]] = None,
    exclude_query_ids: Optional[List[str]] = None,
    corpus: Optional[Corpus] = None,
) -> Annotated[EvaluationResult, "evaluation"]:
    """``synthir.flow.retrieval.evaluate_run``: a run scored with ir_measures (figures, the run file, the
    per-query table and a plot to MLflow); a run of ``corpus``'s passages is scored as a run of documents."""
    evaluated = retrieval.evaluate_run(run, qrels, system, measures, exclude_query_ids, corpus)
    log_metadata(metadata=evaluated.metadata)
    return evaluated.value
