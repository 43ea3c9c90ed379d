from pipelines.checked import checked_pipeline
from steps.data.load_collection import load_collection
from steps.evaluation.compare_rerankers import compare_rerankers
from steps.evaluation.evaluate_run import evaluate_run
from steps.retrieval.bm25_retrieve import bm25_retrieve
from synthir.parameters import Collection, Fusion, MaxQueries, RerankDepth, Rerankers, Split, TopK


@checked_pipeline
def evaluation_pipeline(
    collection: Collection = "data/demo",
    split: Split = "test",
    top_k: TopK = 1000,
    max_queries: MaxQueries = None,
    rerankers: Rerankers = (),
    rerank_depth: RerankDepth = 100,
    fusion_weight: Fusion = None,
) -> None:
    """Evaluate BM25 on a labelled collection (a BEIR folder or an ir_datasets id), and optionally
    rerankers (zero-shot, ``registry:inpars-reranker@production``, a folder) over its top ``rerank_depth``."""
    corpus, queries, qrels = load_collection(collection=collection, split=split, max_queries=max_queries)
    run = bm25_retrieve(corpus=corpus, queries=queries, top_k=top_k)
    evaluate_run(run=run, qrels=qrels, system="bm25", corpus=corpus)
    if rerankers:
        compare_rerankers(run, corpus, queries, qrels, rerankers=list(rerankers), depth=rerank_depth, fusion_weight=fusion_weight)
