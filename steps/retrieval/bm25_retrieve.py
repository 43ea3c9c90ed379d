from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus, Queries, Run
from synthir.flow import retrieval


@step(experiment_tracker=True)
def bm25_retrieve(
    corpus: Corpus,
    queries: Queries,
    top_k: int = 1000,
    k1: float = 0.9,
    b: float = 0.4,
    include_title: bool = True,
    threads: int = 0,
) -> Annotated[Run, "bm25_run"]:
    """``synthir.flow.retrieval.bm25_retrieve``: BM25 top-k for each query (the index cached per corpus fingerprint)."""
    retrieved = retrieval.bm25_retrieve(corpus, queries, top_k, k1, b, include_title, threads)
    log_metadata(metadata=retrieved.metadata)
    return retrieved.value
