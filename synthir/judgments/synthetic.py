"""Held-out pseudo-judgments: the label-free evaluation set.

``hold_out`` splits a corpus into what training sees and a seeded set of held-out documents: never a
positive, a negative, or in the training generator's sample, because training is handed only the
rest. ``synthetic_judgments`` has the evaluation generator write queries for the held-out documents,
keeps the rows the checks pass, and judges each query's source document relevant (grade 1). Scoring
then runs over the whole corpus, BM25 top-k and rerank, exactly as for human judgments.

Membership in the held-out set depends on a hash of (seed, document id) only, so it is stable as the
corpus grows: adding documents never moves an old one in or out, except to respect the size cap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from synthir.data.records import Corpus, Qrels, Queries, stable_order
from synthir.judgments.config import SyntheticJudgmentsConfig

logger = logging.getLogger(__name__)


def held_out_count(corpus_size: int, config: SyntheticJudgmentsConfig) -> int:
    return max(1, min(config.held_out_documents, int(corpus_size * config.max_held_out_fraction)))


def hold_out(corpus: Corpus, config: SyntheticJudgmentsConfig) -> tuple[Corpus, Corpus]:
    """(training corpus, held-out corpus): the held-out documents are the non-empty ones with the
    smallest hash of (seed, id), ``held_out_count`` of them, each held out whole (all its passages)."""
    documents = corpus.passages_by_document()
    if len(documents) < 2:
        raise ValueError(f"corpus {corpus.name!r} has {len(documents)} document(s); holding documents out for a "
                         "label-free evaluation needs at least 2")
    non_empty = list(dict.fromkeys(corpus.document_of(d.doc_id) for d in corpus if d.text.strip() or d.title.strip()))
    held = set(stable_order(non_empty, config.seed)[: held_out_count(len(documents), config)])
    training = corpus.subset([p for d, passages in documents.items() if d not in held for p in passages])
    held_out = corpus.subset([p for d in held for p in documents[d]], name=f"{corpus.name}-held-out")
    return training, held_out


def one_passage_each(corpus: Corpus, seed: int) -> Corpus:
    """One passage of each document (a hash of seed and id picks it): the evaluation generator writes
    one query per held-out document, however long, from a passage every system can read whole."""
    chosen: dict[str, str] = {}
    for passage_id in stable_order(corpus.documents, seed):
        chosen.setdefault(corpus.document_of(passage_id), passage_id)
    return corpus.subset(chosen.values())


@dataclass
class SyntheticJudgments:
    """The evaluation queries, their judgments (source document = relevant) and how they were made."""

    queries: Queries
    qrels: Qrels
    figures: dict[str, float] = field(default_factory=dict)
    generator: str = ""
    prompt_id: str = ""


def synthetic_judgments(held_out: Corpus, config: SyntheticJudgmentsConfig, checkpoint_root: str | Path | None = None,
                        backend=None) -> SyntheticJudgments:
    """Queries for every held-out document by the evaluation generator, kept by the checks."""
    from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, make_backend
    from synthir.generation.backends import as_generator_spec
    from synthir.quality import check_queries

    backend = backend or make_backend(as_generator_spec(config.generator))
    template = load_prompt(config.prompt, num_examples=config.num_examples)
    if template.kind == "promptagator":
        raise ValueError("evaluation.synthetic.prompt: promptagator draws its examples from judged queries; "
                         "use inpars, inpars-gbq or a template file")
    generation = QueryGenerationConfig(**config.decoding.model_dump(), max_generations=None, seed=config.seed)
    run = generate_queries(one_passage_each(held_out, config.seed), backend, template, generation,
                           checkpoint_root=checkpoint_root)
    kept, quarantine, report = check_queries(run.queries, config.checks)
    judged: dict[str, str] = {}
    relevant: dict[str, dict[str, int]] = {}
    seen_texts: set[tuple[str, str]] = set()
    for row in kept:
        text = " ".join(row.query.split())
        if text and (row.doc_id, text.lower()) not in seen_texts:
            seen_texts.add((row.doc_id, text.lower()))
            judged[row.query_id], relevant[row.query_id] = text, {held_out.document_of(row.doc_id): 1}  # the document
    qrels = Qrels(relevant, name=f"{held_out.name}-synthetic")
    documents = len({held_out.document_of(p) for p in held_out.documents})
    figures = {"held_out_documents": documents, "held_out_passages": len(held_out), "generated": len(run.queries),
               "quarantined": len(quarantine),
               "evaluation_queries": len(judged), "copy_rate": report.copy_rate,
               "docs_per_s": run.figures.get("docs_per_s", 0.0)}
    logger.info("Synthetic judgments: %d held-out documents -> %d queries by %s, %d kept by the checks",
                documents, len(run.queries), backend.name, len(judged))
    return SyntheticJudgments(Queries(judged, name=qrels.name, source=f"synthetic:{backend.name}"), qrels, figures,
                              generator=backend.name, prompt_id=template.full_id)
