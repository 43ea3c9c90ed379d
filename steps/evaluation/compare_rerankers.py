from typing import Annotated, List, Optional

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Queries, Run
from synthir.flow import retrieval


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
    """``synthir.flow.retrieval.compare_rerankers``: BM25 and each reranker (a packaged model,
    ``registry:<name>@production`` or a folder) re-scoring BM25's top ``depth``, with paired significance."""
    compared = retrieval.compare_rerankers(bm25_run, corpus, queries, qrels, rerankers, depth, fusion_weight)
    log_metadata(metadata={k: v for k, v in compared.metadata.items() if v is not None})
    return compared.value
