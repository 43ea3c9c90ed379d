"""Held-out evaluation of query generators: each writes queries for the same documents (none of
which appeared in the preference data), scored with QueryEval.

Figures per generator: ``query_eval`` (mean score), ``copy_rate`` (share the validation checks call
a copy), ``self_retrieval`` (share whose source document is in the BM25 top k), ``similarity``,
``retrieval``, ``empty_rate``, ``docs_per_s``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Optional

from pydantic import BaseModel, Field

from synthir.cpo.query_eval import QueryEvalScorer
from synthir.data.records import Corpus
from synthir.generation.backends import as_generator_spec, make_backend
from synthir.generation.generate import QueryGenerationConfig, generate_queries
from synthir.generation.prompts import PromptTemplate


def held_out_documents(corpus: Corpus, exclude: set[str], count: int, seed: int) -> Corpus:
    """A seeded sample of non-empty documents outside ``exclude`` (the preference data's documents)."""
    candidates = sorted(d.doc_id for d in corpus if d.doc_id not in exclude and d.contents.strip())
    if not candidates:
        raise ValueError(f"no held-out documents: every non-empty document of {corpus.name!r} is in the preference data")
    chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))
    return Corpus({d: corpus[d] for d in chosen}, name=f"{corpus.name}-held-out", source=corpus.source)


@dataclass
class GeneratorEvaluation:
    name: str
    model: str
    figures: dict[str, float]
    queries: list[dict[str, Any]] = field(default_factory=list)  # doc_id, query, score, copy, rank


def evaluate_generator(
    name: str,
    generator: Any,
    held_out: Corpus,
    template: PromptTemplate,
    scorer: QueryEvalScorer,
    generation: QueryGenerationConfig,
    show_progress: bool = True,
) -> GeneratorEvaluation:
    """Queries from ``generator`` (a backend spec, e.g. ``{"model": "registry:inpars-generator@production"}``)
    for every held-out document, and their QueryEval figures."""
    generator = as_generator_spec(generator)
    backend = make_backend(generator)
    run = generate_queries(held_out, backend, template, generation, show_progress=show_progress)
    rows = list(run.queries)
    scores = scorer.score([r.query for r in rows], [r.doc_id for r in rows], show_progress=False)
    figures = {**scorer.summary(scores), "docs_per_s": run.figures["docs_per_s"]}
    queries = [{"doc_id": r.doc_id, "query": r.query, "score": s.score, "copy": s.is_copy, "rank": s.rank}
               for r, s in zip(rows, scores)]
    return GeneratorEvaluation(name, generator.model, figures, queries)


class GeneratorComparison(BaseModel):
    """What the generator gate decides on: each system's held-out figures (QueryEval, copy rate, ...)."""

    metric: str = Field("query_eval", description="the gate's metric")
    held_out_documents: int = Field(description="documents every generator wrote queries for")
    candidate: dict[str, float] = Field(description="the tuned generator's figures")
    base: dict[str, float] = Field(description="the untuned student's figures")
    production: Optional[dict[str, float]] = Field(None, description="the production version's figures; null: none yet")
    production_version: Optional[str] = Field(None, description="its registry version")


def compare_generators(systems: dict[str, str], runtime: dict[str, Any], held_out: Corpus, template: PromptTemplate,
                       scorer: QueryEvalScorer, generation: QueryGenerationConfig,
                       production_version: str | None = None) -> tuple[GeneratorComparison, dict[str, GeneratorEvaluation]]:
    """``systems`` (``base``, ``candidate``, optionally ``production``: model references) each write
    queries for the same held-out documents with the same local ``runtime`` settings."""
    from synthir.generation.backends import LocalGenerator

    results = {name: evaluate_generator(name, LocalGenerator(**runtime, model=model), held_out, template, scorer, generation)
               for name, model in systems.items()}
    comparison = GeneratorComparison(
        held_out_documents=len(held_out), candidate=results["candidate"].figures, base=results["base"].figures,
        production=results["production"].figures if "production" in results else None,
        production_version=production_version)
    return comparison, results
