"""Is query likelihood under the generator a teacher that knows more than the fused base model? (UPR, issue 20)

    python benchmarks/query_likelihood_teacher.py [--depth 10] [--model package:smollm2-135m-instruct]
        [--queries N] [--collection DIR]

UPR (Sachan et al. 2022) scores a (query, document) pair by the mean log-probability of the query's
tokens after a prompt holding the document (``synthir.training.query_likelihood``, the scorer the
``teacher_likelihood_model`` teacher uses). Here the pool is each judged CISI query's top ``--depth``
under the offline teacher that MarginMSE uses today (the untrained all-MiniLM-L6-v2 fused with BM25,
weight 0.7), and the pool is re-ordered by each scorer: BM25, the untrained model, the fused teacher,
query likelihood, and query likelihood fused (min-max per query) into the teacher and into the
untrained model at several shares. Every row re-orders the same documents, so the figures compare the
scorers' ordering and nothing else. A probe on the test queries: it chooses nothing, it says whether
a query-likelihood teacher is worth its cost (the seconds per pair are printed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from synthir.data import load_collection
from synthir.data.records import Run
from synthir.evaluation import evaluate
from synthir.models import resolve_model
from synthir.retrieval import BM25Index
from synthir.retrieval.rerank import fuse, rerank
from synthir.retrieval.reranker import Reranker
from synthir.training.query_likelihood import QueryLikelihood

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
HEADLINE = "nDCG@10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--model", default="package:smollm2-135m-instruct", help="the causal LM whose likelihood scores")
    parser.add_argument("--depth", type=int, default=10, help="the fused teacher's top documents re-ordered per query")
    parser.add_argument("--queries", type=int, default=None, help="the first N judged queries only (a quick look)")
    parser.add_argument("--weight", type=float, default=0.7, help="the base model's share in the fused teacher")
    args = parser.parse_args()

    collection = load_collection(args.collection)
    corpus = collection.corpus
    queries = collection.judged_queries()
    query_ids = list(queries.queries)[: args.queries]
    bm25 = BM25Index.build(corpus).search(queries, k=1000, show_progress=False)
    untrained = rerank(bm25, queries, corpus, Reranker(resolve_model("package:all-minilm-l6-v2"), "bi-encoder"),
                       depth=100, name="untrained")
    teacher = fuse(untrained, bm25, args.weight)
    pool = {q: sorted(teacher.scores[q], key=teacher.scores[q].get, reverse=True)[: args.depth] for q in query_ids}

    scorer = QueryLikelihood(args.model)
    started = time.perf_counter()
    likelihood = scorer.run(pool, queries, corpus)
    seconds = time.perf_counter() - started
    pairs = sum(len(docs) for docs in pool.values())

    def on_pool(run: Run) -> Run:
        return Run({q: {d: run.scores[q][d] for d in pool[q]} for q in query_ids}, name=run.name)

    def ndcg(run: Run) -> float:
        return evaluate(run, collection.qrels, measures=[HEADLINE]).per_query[HEADLINE].loc[query_ids].mean()

    base, fused = on_pool(untrained), on_pool(teacher)
    print(f"{collection.name}: {len(query_ids)} judged queries, the fused teacher's top {args.depth} re-ordered; "
          f"{args.model} scored {pairs} pairs in {seconds:.0f} s ({seconds / pairs:.3f} s/pair)\n")
    print(f"| scorer | {HEADLINE} |\n|---|---|")
    for name, run in (("BM25", on_pool(bm25)), ("untrained", base), (f"fused teacher (weight {args.weight})", fused),
                      ("query likelihood", likelihood)):
        print(f"| {name} | {ndcg(run):.4f} |")
    for share in (0.9, 0.8, 0.7, 0.6, 0.5):
        print(f"| fused teacher {share} + query likelihood {1 - share:.1f} | {ndcg(fuse(fused, likelihood, share)):.4f} |")
        print(f"| untrained {share} + query likelihood {1 - share:.1f} | {ndcg(fuse(base, likelihood, share)):.4f} |")


if __name__ == "__main__":
    main()
