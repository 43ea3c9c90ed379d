"""Training triples: (query, positive document, hard negative from BM25).

Negatives are sampled from the query's BM25 top ``depth``, excluding its positive document (the
InPars toolkit forgot this, so a query could be trained against its own source) and every document
judged relevant for it when judgments are given. Sampling is seeded.

With ``dev_fraction`` the queries of a seeded share of the positive documents become a label-free
**dev set** instead of training triples: each dev query with its source document and its BM25 top
``dev_depth`` as candidates, the re-ranking task evaluation scores. Training selects its checkpoint
and stops early on it (``training.dev_fraction``); it never chooses anything on test queries.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from synthir.data.io import atomic_write
from synthir.data.records import Corpus, Qrels, Queries, frame_fingerprint, stable_order
from synthir.data.synthetic import SyntheticQueries
from synthir.retrieval import BM25Index


@dataclass
class Triples:
    """One row per (query, positive, negative); ids and texts both kept."""

    frame: pd.DataFrame  # columns: query_id, query, pos_id, positive, neg_id, negative
    corpus_fingerprint: str = ""
    # the dev set, one row per (dev query, candidate): query_id, query, doc_id, text, relevant (bool)
    dev: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.frame)

    def fingerprint(self) -> str:
        """Content hash of every triple (ids and texts), in training order, and of the dev set."""
        if self.dev is None:
            return frame_fingerprint(self.frame)
        return frame_fingerprint(self.frame) + frame_fingerprint(self.dev)

    def with_frame(self, frame: pd.DataFrame) -> Triples:
        """The same triples' corpus and dev set with other training rows (teacher margins, a warm-start plan)."""
        return dataclasses.replace(self, frame=frame)

    def dev_samples(self) -> list[dict]:
        """The dev set as sentence-transformers' re-ranking samples: ``query``, ``positive`` and
        ``negative`` texts (``RerankingEvaluator``, ``CrossEncoderRerankingEvaluator``)."""
        if self.dev is None or self.dev.empty:
            return []
        return [{"query": group["query"].iloc[0],
                 "positive": group.loc[group["relevant"], "text"].tolist(),
                 "negative": group.loc[~group["relevant"], "text"].tolist()}
                for _, group in self.dev.groupby("query_id", sort=False)]

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
    dev_fraction: float = 0.0,
    dev_depth: int = 20,
    miner: NegativeMiner | None = None,
) -> Triples:
    """Triples for every query, negatives from BM25 (or from ``miner``, a dense model's ranks);
    with ``dev_fraction`` > 0, the queries of that share of the positive documents (at least one
    document, seeded) form the dev set instead, each ranked against its BM25 top ``dev_depth`` (its
    source document always among them)."""
    if not 0.0 <= dev_fraction < 1.0:
        raise ValueError(f"training.dev_fraction must be in [0, 1), got {dev_fraction}")
    queries.require_documents_in(corpus)
    index = index or BM25Index.build(corpus)
    rows = [q for q in queries if q.query]
    ids = [f"{q.doc_id}-{q.extra.get('index', i)}" for i, q in enumerate(rows)]
    run = index.search(Queries(dict(zip(ids, (q.query for q in rows)))), k=max(depth, dev_depth), show_progress=False)
    positives = sorted({q.doc_id for q in rows})
    # at least one dev document, and at least one left to train on
    dev_count = min(len(positives) - 1, max(1, round(dev_fraction * len(positives)))) if dev_fraction else 0
    dev_documents = set(stable_order(positives, seed)[:dev_count])
    rng = random.Random(seed)
    train_rows = [(qid, q) for qid, q in zip(ids, rows) if q.doc_id not in dev_documents]
    mined = miner.mine(train_rows, corpus, negatives_per_query, depth, seed) if miner else None
    passages_of = corpus.passages_by_document()  # a passage's document's other passages are never its negatives
    records, dev_records = [], []
    for qid, q in zip(ids, rows):
        ranked = [d for d, _ in run.ranked(qid)]
        own = set(passages_of[corpus.document_of(q.doc_id)])
        if q.doc_id in dev_documents:
            candidates = [q.doc_id] + [d for d in ranked[:dev_depth] if d not in own]
            dev_records += [(qid, q.query, d, corpus[d].contents, d == q.doc_id) for d in candidates]
            continue
        excluded = own | (judged.relevant(qid) if judged else set())
        if mined is not None:  # the dense model's negatives, already guarded and sampled
            records += [(qid, q.query, q.doc_id, corpus[q.doc_id].contents, neg, corpus[neg].contents)
                        for neg in mined.get(qid, []) if neg not in excluded]
            continue
        candidates = [d for d in ranked[:depth] if d not in excluded]
        if len(candidates) < negatives_per_query:  # BM25 found too little: fill from the corpus
            pool = [d for d in corpus.documents if d not in excluded and d not in candidates]
            candidates += rng.sample(pool, min(len(pool), negatives_per_query - len(candidates)))
        for neg in rng.sample(candidates, min(negatives_per_query, len(candidates))):
            records.append((qid, q.query, q.doc_id, corpus[q.doc_id].contents, neg, corpus[neg].contents))
    frame = pd.DataFrame(records, columns=["query_id", "query", "pos_id", "positive", "neg_id", "negative"])
    dev = pd.DataFrame(dev_records, columns=DEV_COLUMNS) if dev_fraction else None
    return Triples(frame, corpus_fingerprint=corpus.fingerprint(), dev=dev)


DEV_COLUMNS = ["query_id", "query", "doc_id", "text", "relevant"]


@dataclass
class NegativeMiner:
    """Hard negatives mined by a dense model (``training.negative_miner: base_model``):
    sentence-transformers' ``mine_hard_negatives`` over the whole corpus, sampling each query's
    negatives from the model's ranks ``skip``+1..``depth`` and dropping any that score within
    ``relative_margin`` of the positive (the false-negative guard)."""

    model: str  # a model reference: package:, hf:, a folder
    skip: int = 0
    relative_margin: float = 0.05
    batch_size: int = 32

    @classmethod
    def configured(cls, negative_miner: str, negative_skip: int, negative_margin: float, miner_model: str,
                   **_) -> NegativeMiner | None:
        """The miner ``RerankerTrainingConfig.triples_options()`` describes; None for BM25 negatives."""
        if negative_miner == "bm25":
            return None
        return cls(miner_model, skip=negative_skip, relative_margin=negative_margin)

    def mine(self, rows, corpus: Corpus, count: int, depth: int, seed: int) -> dict[str, list[str]]:
        """query id -> negative document ids, for ``rows`` of (query id, synthetic query)."""
        from datasets import Dataset
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.util import mine_hard_negatives

        from synthir.models import resolve_model
        from synthir.runtime import pick_device

        if not rows:
            return {}
        if depth - self.skip < count:
            raise ValueError(f"training.negative_skip {self.skip} leaves {depth - self.skip} of negative_depth {depth} "
                             f"ranks for {count} negatives per query; lower negative_skip or raise negative_depth")
        texts = {d: doc.contents for d, doc in corpus.documents.items() if doc.contents.strip()}
        doc_of = {}
        for doc_id, text in texts.items():  # duplicate texts: the first id stands for all
            doc_of.setdefault(text, doc_id)
        # one row per query id (queries with the same text stay apart: mine_hard_negatives would merge them)
        pairs = Dataset.from_dict({"anchor": [q.query for _, q in rows],
                                   "positive": [corpus[q.doc_id].contents for _, q in rows]})
        model = SentenceTransformer(str(resolve_model(self.model)), device=pick_device("auto"))
        state = random.getstate()  # its random sampling uses the global generator: seed it, then put it back
        random.seed(seed)
        try:
            mined = mine_hard_negatives(pairs, model, corpus=list(texts.values()), range_min=self.skip,
                                        range_max=min(depth, len(texts) - 1),
                                        relative_margin=self.relative_margin or None, num_negatives=count,
                                        sampling_strategy="random", output_format="triplet", batch_size=self.batch_size,
                                        verbose=False)
        finally:
            random.setstate(state)
        by_pair: dict[tuple[str, str], list[str]] = {}
        for row in mined:
            by_pair.setdefault((row["anchor"], row["positive"]), []).append(doc_of[row["negative"]])
        return {qid: by_pair.get((q.query, corpus[q.doc_id].contents), []) for qid, q in rows}
