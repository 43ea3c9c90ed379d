"""QueryEval-style scores for generated queries, the signal that ranks preference candidates and
gates generator versions.

    score = w_sim x (cos(query, document) + 1) / 2  +  w_ret x P_bm25(document | query)  -  copy_penalty x trigram share

``P_bm25`` is the softmax of the target document's BM25 score over the whole corpus (InPars+'s
QueryEval uses the same two halves). Documents outside the BM25 top ``bm25_depth`` share no term
with the query or score below the last hit; they enter the softmax at score 0, which is exact for
the former and a tight bound for the latter. The copy penalty uses the validation checks' trigram
share, so a query lifted from the document cannot win a preference pair on retrieval alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.data.records import Corpus, Queries
from synthir.quality.checks import ChecksConfig, is_copy
from synthir.quality.text import ngram_share


class QueryEvalConfig(ConfigBlock):
    """``query_eval:``: the reference-free query score (embedding similarity + BM25 self-retrieval - copying)."""

    yaml_path = "query_eval"
    encoder: str = Field("package:all-minilm-l6-v2", description="bi-encoder for the query/document cosine")
    similarity_weight: float = Field(0.5, ge=0, description="weight of the cosine term")
    retrieval_weight: float = Field(0.5, ge=0, description="weight of the BM25 softmax term")
    bm25_temperature: float = Field(1.0, gt=0, description="BM25 scores are divided by this before the softmax")
    bm25_depth: int = Field(1000, ge=1, description="hits read per query; the rest of the corpus counts at score 0")
    copy_penalty: float = Field(0.5, ge=0, description="times the share of the query's word trigrams found in the document")
    self_retrieval_k: int = Field(10, ge=1, description='"retrieves its source document" means rank <= k')


@dataclass
class QueryScore:
    score: float
    similarity: float  # cosine mapped to [0, 1]
    retrieval: float  # softmax probability of the source document
    copy_share: float
    is_copy: bool
    rank: int | None  # 1-based BM25 rank of the source document within bm25_depth
    empty: bool = False

    def retrieves_source(self, k: int) -> bool:
        return self.rank is not None and self.rank <= k


def bm25_softmax(hits: dict[str, float], target: str, corpus_size: int, temperature: float = 1.0) -> float:
    """P(target) under a softmax over all ``corpus_size`` documents; documents not in ``hits`` score 0."""
    scaled = {doc: score / temperature for doc, score in hits.items()}
    unseen = max(corpus_size - len(scaled), 0)
    top = max([0.0, *scaled.values()])
    denominator = sum(math.exp(s - top) for s in scaled.values()) + unseen * math.exp(-top)
    return math.exp(scaled.get(target, 0.0) - top) / denominator if denominator > 0 else 0.0


class QueryEvalScorer:
    """Scores many (query, source document) pairs at once: one batched BM25 search, one encoder pass."""

    def __init__(self, corpus: Corpus, config: QueryEvalConfig | None = None, checks: ChecksConfig | None = None):
        from synthir.models import resolve_model
        from synthir.retrieval.bm25 import BM25Index
        from synthir.retrieval.reranker import Reranker

        self.corpus = corpus
        self.config = config or QueryEvalConfig()
        self.checks = checks or ChecksConfig()
        self.index = BM25Index.build(corpus)
        self.encoder = Reranker(resolve_model(self.config.encoder), model_type="bi-encoder")

    def score(self, queries: Sequence[str], doc_ids: Sequence[str], show_progress: bool = False) -> list[QueryScore]:
        if len(queries) != len(doc_ids):
            raise ValueError(f"{len(queries)} queries but {len(doc_ids)} document ids")
        missing = sorted({d for d in doc_ids if d not in self.corpus})
        if missing:
            raise KeyError(f"document id(s) not in corpus {self.corpus.name!r}: {missing[:5]}")
        texts = [" ".join(q.split()) for q in queries]
        ids = [f"q{i}" for i in range(len(texts))]
        run = self.index.search(Queries({qid: t for qid, t in zip(ids, texts) if t}), k=self.config.bm25_depth,
                                show_progress=show_progress)
        documents = [self.corpus[d].contents for d in doc_ids]
        cosines = self.encoder.score(texts, documents, doc_ids=list(doc_ids))
        scores = []
        for qid, text, doc_id, document, cosine in zip(ids, texts, doc_ids, documents, cosines):
            if not text:  # an empty query retrieves nothing and says nothing
                scores.append(QueryScore(0.0, 0.0, 0.0, 0.0, False, None, empty=True))
                continue
            hits = run.scores.get(qid, {})
            rank = next((i for i, (d, _) in enumerate(run.ranked(qid), start=1) if d == doc_id), None)
            similarity = (max(-1.0, min(1.0, cosine)) + 1) / 2
            retrieval = bm25_softmax(hits, doc_id, len(self.corpus), self.config.bm25_temperature)
            share = ngram_share(text, document, self.checks.copy_ngram.n)
            total = (self.config.similarity_weight * similarity + self.config.retrieval_weight * retrieval
                     - self.config.copy_penalty * share)
            scores.append(QueryScore(total, similarity, retrieval, share, is_copy(text, document, self.checks), rank))
        return scores

    def summary(self, scores: Sequence[QueryScore]) -> dict[str, float]:
        """The figures a generator is judged by: mean score, copy rate, self-retrieval share."""
        n = len(scores)
        if n == 0:
            return {"query_eval": 0.0, "copy_rate": 0.0, "self_retrieval": 0.0, "similarity": 0.0, "retrieval": 0.0,
                    "empty_rate": 0.0, "queries": 0.0}
        k = self.config.self_retrieval_k
        return {
            "query_eval": sum(s.score for s in scores) / n,
            "copy_rate": sum(s.is_copy for s in scores) / n,
            "self_retrieval": sum(s.retrieves_source(k) for s in scores) / n,
            "similarity": sum(s.similarity for s in scores) / n,
            "retrieval": sum(s.retrieval for s in scores) / n,
            "empty_rate": sum(s.empty for s in scores) / n,
            "queries": float(n),
        }
