"""Training triples: (query, positive document, hard negative from BM25).

Negatives are sampled from the query's BM25 top ``depth``, excluding its positive document (the
InPars toolkit forgot this, so a query could be trained against its own source) and every document
judged relevant for it when judgments are given. Sampling is seeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthir.data.io import atomic_write
from synthir.data.records import Corpus, Qrels, Queries, frame_fingerprint
from synthir.data.synthetic import SyntheticQueries
from synthir.retrieval import BM25Index


@dataclass
class Triples:
    """One row per (query, positive, negative); ids and texts both kept."""

    frame: pd.DataFrame  # columns: query_id, query, pos_id, positive, neg_id, negative
    corpus_fingerprint: str = ""

    def __len__(self) -> int:
        return len(self.frame)

    def fingerprint(self) -> str:
        """Content hash of every triple (ids and texts), in training order."""
        return frame_fingerprint(self.frame)

    def to_dataset(self):
        """A ``datasets.Dataset`` with sentence-transformers' column names (``anchor``, ``positive``,
        ``negative``), the ids beside them: what GPL, sentence-transformers and FlagEmbedding train from."""
        from datasets import Dataset

        frame = self.frame.rename(columns={"query": "anchor", "teacher_margin": "label"})
        columns = ["anchor", "positive", "negative", "query_id", "pos_id", "neg_id"]
        # with teacher margins (``add_teacher_margins``): sentence-transformers' MarginMSE ``label``
        columns += [c for c in ("label", "pos_teacher", "neg_teacher") if c in frame]
        return Dataset.from_pandas(frame[columns], preserve_index=False)

    def write_tsv(self, path: str | Path) -> Path:
        """The InPars / sentence-transformers TSV: query, positive text, negative text."""
        with atomic_write(path) as out:
            for row in self.frame.itertuples():
                out.write("\t".join(" ".join(str(v).split()) for v in (row.query, row.positive, row.negative)) + "\n")
        return Path(path)


def build_triples(
    queries: SyntheticQueries,
    corpus: Corpus,
    negatives_per_query: int = 1,
    depth: int = 100,
    seed: int = 42,
    judged: Qrels | None = None,
    index: BM25Index | None = None,
) -> Triples:
    index = index or BM25Index.build(corpus)
    rows = [q for q in queries if q.query]
    ids = [f"{q.doc_id}-{q.extra.get('index', i)}" for i, q in enumerate(rows)]
    run = index.search(Queries(dict(zip(ids, (q.query for q in rows)))), k=depth, show_progress=False)
    rng = random.Random(seed)
    records = []
    for qid, q in zip(ids, rows):
        excluded = {q.doc_id} | (judged.relevant(qid) if judged else set())
        candidates = [d for d, _ in run.ranked(qid) if d not in excluded]
        if len(candidates) < negatives_per_query:  # BM25 found too little: fill from the corpus
            pool = [d for d in corpus.documents if d not in excluded and d not in candidates]
            candidates += rng.sample(pool, min(len(pool), negatives_per_query - len(candidates)))
        for neg in rng.sample(candidates, min(negatives_per_query, len(candidates))):
            records.append((qid, q.query, q.doc_id, corpus[q.doc_id].contents, neg, corpus[neg].contents))
    frame = pd.DataFrame(records, columns=["query_id", "query", "pos_id", "positive", "neg_id", "negative"])
    return Triples(frame, corpus_fingerprint=corpus.fingerprint())
