"""BM25 indexing and search throughput on CISI, with a baseline measured in the same run.

    python benchmarks/bm25_throughput.py [--collection ../shared/data/cisi] [--repeats 3] [--query-copies 20]

Indexing: documents/s of a cold build (fresh cache dir each repeat), median of repeats.
Search:   queries/s of ``BM25Index.search`` (Anserini's multi-threaded SearchCollection, hits read back
          from its run file) against a baseline loop that calls pyserini's ``LuceneSearcher.search`` once
          per query and collects docid/score, as a plain pyserini script would.
The CISI queries are repeated ``--query-copies`` times (with distinct ids) to get a measurable workload.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from synthir.data import Queries, load_collection
from synthir.evaluation import evaluate
from synthir.retrieval import BM25Config, BM25Index

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--query-copies", type=int, default=20)
    parser.add_argument("--k", type=int, default=1000)
    args = parser.parse_args()

    collection = load_collection(args.collection)
    corpus, queries = collection.corpus, collection.judged_queries()

    index_seconds = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            index = BM25Index.build(corpus, BM25Config(), cache_dir=cache)
            index_seconds.append(index.info.seconds)
    with tempfile.TemporaryDirectory() as cache:
        index = BM25Index.build(corpus, BM25Config(), cache_dir=cache)
        workload = Queries({f"{qid}#{copy}": text for copy in range(args.query_copies) for qid, text in queries})
        index.search(Queries(dict(list(queries)[:10])), k=args.k, show_progress=False)  # JIT warm-up

        from pyserini.search.lucene import LuceneSearcher  # importable once BM25Index.build bootstrapped the JVM

        searcher = LuceneSearcher(str(index.info.path))
        searcher.set_bm25(k1=0.9, b=0.4)
        started = time.perf_counter()
        for qid, text in workload:
            hits = searcher.search(text, k=args.k)
            {hit.docid: hit.score for hit in hits}
        baseline_seconds = time.perf_counter() - started

        started = time.perf_counter()
        run = index.search(workload, k=args.k, show_progress=False)
        batch_seconds = time.perf_counter() - started

        ndcg = evaluate(index.search(queries, k=args.k, show_progress=False), collection.qrels).aggregate["nDCG@10"]

    median_index = statistics.median(index_seconds)
    baseline_qps = len(workload) / baseline_seconds
    batch_qps = len(workload) / batch_seconds
    assert len(run) == len(workload)
    print(f"collection: {args.collection} ({len(corpus)} documents, {len(queries)} queries x {args.query_copies} copies, k={args.k})")
    print(f"indexing:   {len(corpus) / median_index:,.0f} docs/s (median of {args.repeats} cold builds, {median_index:.2f} s each)")
    print(f"search:     baseline (one query at a time) {baseline_qps:,.1f} queries/s")
    print(f"search:     synthir BM25Index.search ({index.config.threads or 'all'} threads) {batch_qps:,.1f} queries/s")
    print(f"search:     speed-up {batch_qps / baseline_qps:.2f}x")
    print(f"quality:    nDCG@10 {ndcg:.4f} (reference 0.358)")


if __name__ == "__main__":
    main()
