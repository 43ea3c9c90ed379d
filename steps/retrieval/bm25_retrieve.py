import time
from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus, Queries, Run
from synthir.retrieval import BM25Config, BM25Index
from synthir.tracking import log_metrics, log_params


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
    """BM25 top-k for each query; the Lucene index is cached per corpus fingerprint."""
    config = BM25Config(k1=k1, b=b, include_title=include_title, threads=threads)
    index = BM25Index.build(corpus, config)
    started = time.perf_counter()
    run = index.search(queries, k=top_k)
    search_seconds = time.perf_counter() - started
    figures = {"search_queries_per_s": len(queries) / max(search_seconds, 1e-9),
               "index_cached": float(index.info.cached)}
    if not index.info.cached:
        figures["index_docs_per_s"] = len(corpus) / max(index.info.seconds, 1e-9)
    log_params({"k1": k1, "b": b, "include_title": include_title, "top_k": top_k}, prefix="bm25.")
    log_metrics(figures, prefix="bm25.")
    log_metadata(metadata={"index_path": str(index.info.path), **figures})
    return run
