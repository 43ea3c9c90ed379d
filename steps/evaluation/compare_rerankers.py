import tempfile
from pathlib import Path
from typing import Annotated, List, Optional

from zenml import step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Queries, Run
from synthir.evaluation import evaluate
from synthir.evaluation.report import metrics_markdown, plot_per_query, plot_win_loss
from synthir.models import resolve_model
from synthir.retrieval.rerank import fuse, rerank
from synthir.retrieval.reranker import Reranker
from synthir.tracking import log_artifact, log_metrics, log_params

logger = get_logger(__name__)

@step(experiment_tracker=True)
def compare_rerankers(
    bm25_run: Run,
    corpus: Corpus,
    queries: Queries,
    qrels: Qrels,
    rerankers: Optional[List[str]] = None,
    depth: int = 100,
    fusion_weight: Optional[float] = None,
) -> Annotated[str, "comparison_table"]:
    """BM25 and each reranker (a packaged zero-shot model, ``registry:inpars-reranker@production`` or a
    folder) re-scoring BM25's top ``depth``, on the same queries; a table with each one's paired significance over
    BM25, a per-query plot and a win/loss plot per reranker."""
    bm25_documents = corpus.document_run(bm25_run)  # passages rank documents (the identity for whole documents)
    results = [evaluate(bm25_documents, qrels, system="bm25")]
    for position, ref in enumerate(rerankers or []):
        model = Reranker(resolve_model(ref))  # type and length from the model's marker; plain folders: bi-encoder
        run = corpus.document_run(rerank(bm25_run, queries, corpus, model, depth=depth, name=ref))
        if fusion_weight is not None:
            run = fuse(run, bm25_documents, fusion_weight)
        result = evaluate(run, qrels, system=f"reranker{position}")
        results.append(result)
        log_params({f"reranker{position}": ref}, prefix="compare.")
        log_metrics(result.metrics(), prefix=f"eval.reranker{position}.")
    table = metrics_markdown(results, against=results[:1])  # each reranker's gain over BM25, paired significance
    logger.info("Rerankers on the same queries:\n%s", table)
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(plot_per_query(results, Path(tmp) / "rerankers.per_query.png"), "evaluation")
        for result in results[1:]:
            log_artifact(plot_win_loss(result, results[:1], Path(tmp) / f"{result.system}.win_loss.png"), "evaluation")
    return table
