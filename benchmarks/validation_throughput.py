"""Throughput of the validation checks and filters on 10,000 synthetic queries (queries/s).

    python benchmarks/validation_throughput.py [--queries 10000] [--skip-reranker]

The queries are made from CISI documents (no generator needed): question-style word samples of
their source document, with 10% verbatim copies and 5% near-duplicates mixed in, so every check has
work to do. Timed separately: the per-query measures (copy detection: exact, n-gram share, LCS),
the Great Expectations validation of the whole suite, and each filter (scores, reranker with
all-MiniLM-L6-v2 on CPU, BM25 consistency at top 20). For reference, the InPars toolkit's only check
(exact substring) is timed on the same rows.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from synthir.data import load_collection
from synthir.data.synthetic import SyntheticQuery
from synthir.quality import ChecksConfig
from synthir.quality.checks import measure_queries, run_checks
from synthir.quality.filters import consistency_filter, reranker_filter, scores_filter

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
STARTS = ["how does", "what is", "why do", "which methods", "how can", "what are the effects of"]


def make_queries(collection_dir: str, count: int, seed: int = 0) -> tuple[list[SyntheticQuery], object]:
    corpus = load_collection(collection_dir).corpus
    rng = random.Random(seed)
    documents = list(corpus)
    rows = []
    for i in range(count):
        doc = rng.choice(documents)
        tokens = doc.text.split()
        roll = rng.random()
        if roll < 0.10 and len(tokens) > 12:  # a verbatim copy
            start = rng.randrange(len(tokens) - 10)
            query = " ".join(tokens[start : start + 8])
        elif roll < 0.15 and rows:  # a near-duplicate of an earlier query
            query = rows[-1].query.upper() + "?"
        else:
            query = f"{rng.choice(STARTS)} " + " ".join(rng.sample(tokens, min(6, len(tokens))))
        rows.append(SyntheticQuery(doc_id=doc.doc_id, query=query, log_probs=[-rng.random() * 3 for _ in range(8)],
                                   doc_text=doc.contents, extra={"index": i}))
    return rows, corpus


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:10,.0f} queries/s  ({seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--skip-reranker", action="store_true")
    args = parser.parse_args()
    rows, corpus = make_queries(args.collection, args.queries)
    config = ChecksConfig()
    figures = []

    started = time.perf_counter()
    copies = sum(" ".join(r.query.lower().split()) in " ".join(r.doc_text.lower().split()) for r in rows)
    figures.append(("InPars check (exact substring only)", time.perf_counter() - started))

    started = time.perf_counter()
    table = measure_queries(rows, config)
    figures.append(("measures (copy exact / n-gram / LCS, residue, duplicates)", time.perf_counter() - started))

    started = time.perf_counter()
    outcomes, _ = run_checks(table, config)
    figures.append(("Great Expectations suite (9 expectations)", time.perf_counter() - started))

    started = time.perf_counter()
    scores_filter(rows, keep=0.5)
    figures.append(("filter: scores (top 50% by mean log-prob)", time.perf_counter() - started))

    if not args.skip_reranker:
        started = time.perf_counter()
        reranker_filter(rows, keep=0.5)
        figures.append(("filter: reranker (all-MiniLM-L6-v2 bi-encoder, CPU)", time.perf_counter() - started))

    consistency_filter(rows[:50], corpus, top_k=20)  # builds/caches the index and warms the JVM
    started = time.perf_counter()
    kept = consistency_filter(rows, corpus, top_k=20)
    figures.append(("filter: consistency (BM25 round trip, top 20)", time.perf_counter() - started))

    print(f"{len(rows):,} synthetic queries over {len(corpus):,} CISI documents")
    for name, seconds in figures:
        print(f"  {name:<60} {rate(len(rows), seconds)}")
    flagged = {name: len(o.failed_rows) for name, o in outcomes.items()}
    print(f"flagged rows per check: {flagged}")
    print(f"exact copies found by the InPars check: {copies}; consistency kept {len(kept):,}")


if __name__ == "__main__":
    main()
