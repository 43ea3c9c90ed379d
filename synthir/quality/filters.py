"""Filters applied after the checks, in the configured order.

- ``scores``: mean token log-probability of the query under its generator (InPars); keep the top ``keep``.
- ``reranker``: score of (query, source document) by a relevance model; keep the top ``keep``.
  ``model_type: bi-encoder`` (cosine of sentence embeddings; offline default all-MiniLM-L6-v2),
  ``cross-encoder`` (sentence-transformers CrossEncoder, e.g. a monoBERT/MiniLM MS MARCO checkpoint) or
  ``monot5`` (log-probability of "true", as InPars-v2 filters with monoT5-3B). Left out, the type and
  ``max_length`` come from a trained model's marker (a zero-shot folder: bi-encoder, 256 tokens).
- ``consistency``: Promptagator's round-trip filter, which the InPars toolkit lacks: keep a query only
  if BM25 over the corpus ranks its source document within ``top_k``.
- ``none``: keep everything.

``keep`` is a count (int >= 1) or a fraction of the incoming queries (0 < float <= 1).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from synthir.data.records import Corpus, Queries
from synthir.data.synthetic import SyntheticQuery
from synthir.models import RERANKER_TYPES

logger = logging.getLogger(__name__)
FILTERS = ("scores", "reranker", "consistency", "none")
FILTER_FIELDS = {
    "scores": {"keep"},
    "reranker": {"keep", "model", "model_type", "batch_size", "max_length"},
    "consistency": {"top_k"},
    "none": set(),
}


@dataclass
class FilterStep:
    name: str
    before: int
    after: int
    params: dict[str, Any]


def validate_filter_specs(specs: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    checked = []
    for position, spec in enumerate(specs or []):
        if not isinstance(spec, dict) or "name" not in spec:
            raise ValueError(f"filters[{position}]: expected a mapping with 'name' (one of {FILTERS})")
        name = spec["name"]
        if name not in FILTERS:
            raise ValueError(f"filters[{position}].name: unknown filter {name!r}; known: {FILTERS}")
        unknown = set(spec) - {"name"} - FILTER_FIELDS[name]
        if unknown:
            raise ValueError(f"filters[{position}] ({name}): unknown field(s) {sorted(unknown)}; allowed: {sorted(FILTER_FIELDS[name])}")
        if "keep" in spec:
            try:
                keep_count(spec["keep"], 1)
            except ValueError as err:
                raise ValueError(f"filters[{position}].keep ({name}): {err}") from None
        if "model_type" in spec and spec["model_type"] not in RERANKER_TYPES:
            raise ValueError(f"filters[{position}].model_type ({name}): {spec['model_type']!r} is not supported; "
                             f"choose one of {RERANKER_TYPES}")
        for field_name in ("batch_size", "max_length", "top_k"):
            value = spec.get(field_name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"filters[{position}].{field_name} ({name}): expected a whole number >= 1, got {value!r}")
        checked.append(spec)
    return checked


def keep_count(keep: int | float, total: int) -> int:
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or keep <= 0:
        raise ValueError(f"keep must be a count >= 1 or a fraction in (0, 1], got {keep!r}")
    if isinstance(keep, float) and keep <= 1:
        return math.ceil(keep * total)
    return min(int(keep), total)


def top_k(rows: list[SyntheticQuery], scores: list[float], keep: int | float) -> list[SyntheticQuery]:
    """The ``keep`` best rows by score; stable for ties, returned in their original order."""
    count = keep_count(keep, len(rows))
    best = sorted(range(len(rows)), key=lambda i: -scores[i])[:count]
    return [rows[i] for i in sorted(best)]


def scores_filter(rows: list[SyntheticQuery], keep: int | float = 0.5) -> list[SyntheticQuery]:
    return top_k(rows, [r.mean_log_prob for r in rows], keep)


def relevance_scores(rows: list[SyntheticQuery], model: str = "package:all-minilm-l6-v2",
                     model_type: str | None = None, batch_size: int = 64, max_length: int | None = None) -> list[float]:
    """(query, source document) scores from the same ``Reranker`` the training side uses: bf16 where
    supported, and a bi-encoder embeds each document once however many queries share it."""
    from synthir.models import resolve_model
    from synthir.training.rerankers import Reranker

    scorer = Reranker(resolve_model(model), model_type=model_type, max_length=max_length, batch_size=batch_size)
    scorer.precompute([r.doc_id for r in rows], [r.doc_text for r in rows])
    return scorer.score([r.query for r in rows], [r.doc_text for r in rows], [r.doc_id for r in rows])


def reranker_filter(rows: list[SyntheticQuery], keep: int | float = 0.5, **kwargs: Any) -> list[SyntheticQuery]:
    return top_k(rows, relevance_scores(rows, **kwargs), keep) if rows else rows


def consistency_filter(rows: list[SyntheticQuery], corpus: Corpus, top_k: int = 10) -> list[SyntheticQuery]:
    """Keep queries whose source document BM25 ranks within ``top_k`` over the whole corpus."""
    if not rows:
        return rows
    from synthir.retrieval import BM25Index

    index = BM25Index.build(corpus)
    run = index.search(Queries({str(i): r.query for i, r in enumerate(rows)}), k=top_k, show_progress=False)
    return [r for i, r in enumerate(rows) if r.doc_id in run.scores.get(str(i), {})]


def apply_filters(rows: list[SyntheticQuery], specs: list[dict[str, Any]], corpus: Corpus) -> tuple[list[SyntheticQuery], list[FilterStep]]:
    steps = []
    for spec in validate_filter_specs(specs):
        params = {k: v for k, v in spec.items() if k != "name"}
        before = len(rows)
        if spec["name"] == "scores":
            rows = scores_filter(rows, **params)
        elif spec["name"] == "reranker":
            rows = reranker_filter(rows, **params)
        elif spec["name"] == "consistency":
            rows = consistency_filter(rows, corpus, **params)
        steps.append(FilterStep(spec["name"], before, len(rows), params))
        logger.info("filter %s: %d -> %d queries", spec["name"], before, len(rows))
    return rows, steps
