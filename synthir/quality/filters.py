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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, List, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter

from synthir.config import UnionMember, named_block
from synthir.data.records import Corpus, Queries
from synthir.data.synthetic import SyntheticQuery
from synthir.models import RERANKER_TYPES

logger = logging.getLogger(__name__)
FILTERS = ("scores", "reranker", "consistency", "none")

def _count_or_fraction(keep: int | float) -> int | float:
    keep_count(keep, 1)  # raises ValueError naming what is allowed
    return keep


# A count of queries (>= 1) or a fraction of the incoming ones (0 < x <= 1).
Keep = Annotated[Union[int, float], AfterValidator(_count_or_fraction)]


class ScoresFilter(UnionMember):
    """InPars: the top queries by mean token log-probability under their generator."""

    tag = "name"

    name: Literal["scores"] = Field("scores", description="selects this filter")
    keep: Keep = Field(0.5, description="queries kept: a count >= 1 or a fraction in (0, 1]")


class RerankerFilter(UnionMember):
    """InPars-v2: the top queries by a relevance model's score of (query, source document)."""

    tag = "name"

    name: Literal["reranker"] = Field("reranker", description="selects this filter")
    keep: Keep = Field(0.5, description="queries kept: a count >= 1 or a fraction in (0, 1]")
    model: str = Field("package:all-minilm-l6-v2", description="model reference (package:, hf:, registry:, folder)")
    model_type: Optional[Literal[RERANKER_TYPES]] = Field(
        None, description="bi-encoder | cross-encoder | monot5; null: the model's marker, else bi-encoder")
    batch_size: int = Field(64, ge=1, strict=True, description="pairs per forward pass")
    max_length: Optional[int] = Field(None, ge=1, strict=True,
                                      description="tokens per pair; null: the length the model was trained at, else 256")


class ConsistencyFilter(UnionMember):
    """Promptagator's round trip: BM25 over the corpus must rank the source document within top_k."""

    tag = "name"

    name: Literal["consistency"] = Field("consistency", description="selects this filter")
    top_k: int = Field(10, ge=1, strict=True, description="rank the source document must reach")


class NoFilter(UnionMember):
    """Keep everything."""

    tag = "name"

    name: Literal["none"] = Field("none", description="selects this filter")


FilterSpec = Annotated[Union[ScoresFilter, RerankerFilter, ConsistencyFilter, NoFilter], Field(discriminator="name")]
Filters = named_block(List[FilterSpec], "filters", tags=FILTERS)  # the ``filters:`` parameter
_FILTERS = TypeAdapter(Filters)


@dataclass
class FilterStep:
    name: str
    before: int
    after: int
    params: dict[str, Any]


def validate_filter_specs(specs: Sequence[dict[str, Any] | BaseModel] | None) -> list[FilterSpec]:
    """The ``filters:`` list as typed filters; a bad entry raises :class:`ConfigError` naming its
    position and field, the value and what is allowed (``filters[1].keep: ...``)."""
    return _FILTERS.validate_python(list(specs or []))


def keep_count(keep: int | float, total: int) -> int:
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or keep <= 0 or (isinstance(keep, float) and keep > 1):
        raise ValueError(f"keep must be a count >= 1 or a fraction in (0, 1], got {keep!r}")
    if isinstance(keep, float) and keep <= 1:
        return math.ceil(keep * total)
    return min(int(keep), total)


def top_k(rows: list[SyntheticQuery], scores: list[float], keep: int | float) -> list[SyntheticQuery]:
    """The ``keep`` best rows by score; stable for ties, returned in their original order."""
    count = keep_count(keep, len(rows))
    best = sorted(range(len(rows)), key=lambda i: -scores[i])[:count]
    return [rows[i] for i in sorted(best)]


def scores_filter(rows: list[SyntheticQuery], keep: int | float) -> list[SyntheticQuery]:
    return top_k(rows, [r.mean_log_prob for r in rows], keep)


def relevance_scores(rows: list[SyntheticQuery], model: str, model_type: str | None = None, batch_size: int = 64,
                     max_length: int | None = None) -> list[float]:
    """(query, source document) scores from the same ``Reranker`` the training side uses: bf16 where
    supported, and a bi-encoder embeds each document once however many queries share it."""
    from synthir.models import resolve_model
    from synthir.retrieval.reranker import Reranker

    scorer = Reranker(resolve_model(model), model_type=model_type, max_length=max_length, batch_size=batch_size)
    scorer.precompute([r.doc_id for r in rows], [r.doc_text for r in rows])
    return scorer.score([r.query for r in rows], [r.doc_text for r in rows], [r.doc_id for r in rows])


def reranker_filter(rows: list[SyntheticQuery], keep: int | float, **kwargs: Any) -> list[SyntheticQuery]:
    return top_k(rows, relevance_scores(rows, **kwargs), keep) if rows else rows


def consistency_filter(rows: list[SyntheticQuery], corpus: Corpus, top_k: int) -> list[SyntheticQuery]:
    """Keep queries whose source document BM25 ranks within ``top_k`` over the whole corpus."""
    if not rows:
        return rows
    from synthir.retrieval import BM25Index

    index = BM25Index.build(corpus)
    run = index.search(Queries({str(i): r.query for i, r in enumerate(rows)}), k=top_k, show_progress=False)
    return [r for i, r in enumerate(rows) if r.doc_id in run.scores.get(str(i), {})]


def apply_filters(rows: list[SyntheticQuery], specs: Sequence[dict[str, Any] | BaseModel],
                  corpus: Corpus) -> tuple[list[SyntheticQuery], list[FilterStep]]:
    steps = []
    for spec in validate_filter_specs(specs):
        settings = spec.model_dump(exclude={"name"})  # every value, defaults from the schema
        before = len(rows)
        if spec.name == "scores":
            rows = scores_filter(rows, **settings)
        elif spec.name == "reranker":
            rows = reranker_filter(rows, **settings)
        elif spec.name == "consistency":
            rows = consistency_filter(rows, corpus, **settings)
        # the lineage records what the config set, as written
        steps.append(FilterStep(spec.name, before, len(rows), spec.model_dump(exclude={"name"}, exclude_unset=True)))
        logger.info("filter %s: %d -> %d queries", spec.name, before, len(rows))
    return rows, steps
