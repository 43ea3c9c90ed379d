"""Preference data for CPO: for each (document, reference query), a teacher and a student query,
all three scored with QueryEval, chosen/rejected by the ALMA rule.

ALMA-R's rule (Xu et al., 2024, the paper that introduced CPO): among the reference, the teacher's
and the student's output, the highest-scoring one is *chosen* and the lowest-scoring one *rejected*.
We drop the pair when the two scores tie (within ``tie_tolerance``) or the two texts are the same
query, so CPO never learns from a preference that is not there. When two candidates share the top
(or bottom) score, the order reference > teacher > student breaks the tie for chosen, and the
reverse for rejected.

References come from any judged collection (each relevant (query, document) pair of the qrels) or
from a filtered synthetic set (``SyntheticQueries``): both arrive as ``SyntheticQueries`` rows.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pandas as pd
from pydantic import Field

from synthir.config import ConfigBlock
from synthir.cpo.query_eval import QueryEvalScorer
from synthir.data.records import Corpus, Qrels, Queries, frame_fingerprint
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.generation.backends.base import GeneratorBackend
from synthir.generation.generate import QueryGenerationConfig, generate_queries
from synthir.generation.prompts import PromptTemplate
from synthir.quality.text import normalise

logger = logging.getLogger(__name__)

SOURCES = ("reference", "teacher", "student")  # also the tie-break order for "chosen"
PAIR_COLUMNS = ["doc_id", "prompt", "chosen", "rejected", "chosen_source", "rejected_source", "chosen_score",
                "rejected_score", "reference", "teacher", "student", "reference_score", "teacher_score", "student_score"]


@dataclass(frozen=True)
class Candidate:
    source: str  # reference | teacher | student
    query: str
    score: float


def alma_select(candidates: list[Candidate], tie_tolerance: float = 1e-6) -> tuple[Candidate, Candidate] | None:
    """(chosen, rejected) by the ALMA rule, or None when there is no preference to learn."""
    if len(candidates) < 2:
        return None
    priority = {source: i for i, source in enumerate(SOURCES)}
    chosen = max(candidates, key=lambda c: (c.score, -priority.get(c.source, len(SOURCES))))
    rejected = min(candidates, key=lambda c: (c.score, -priority.get(c.source, len(SOURCES))))
    if chosen.score - rejected.score <= tie_tolerance or normalise(chosen.query) == normalise(rejected.query):
        return None
    return chosen, rejected


class PreferenceConfig(ConfigBlock):
    """``preferences:``: how the (chosen, rejected) pairs are built."""

    yaml_path = "preferences"
    max_references: Optional[int] = Field(256, ge=1, description="(document, reference) pairs sampled; null: all")
    max_doc_tokens: int = Field(256, ge=1, description="document truncation, in the student's tokens")
    max_new_tokens: int = Field(48, ge=1, description="tokens the teacher and student generate per query")
    tie_tolerance: float = Field(1e-6, ge=0, description="score gap below which a triple is a tie and dropped")
    seed: int = Field(42, description="reference sampling seed")


@dataclass
class PreferencePairs:
    """One row per kept (document, reference): the student's prompt, chosen and rejected completions,
    and all three candidates with their scores (so a pair can be audited)."""

    frame: pd.DataFrame
    teacher: str = ""
    student: str = ""
    prompt_id: str = ""
    reference_source: str = ""
    corpus_fingerprint: str = ""
    figures: dict[str, float] = field(default_factory=dict)
    # how the student was prompted, so the tuned generator is registered with the same prompt
    prompt_source: str = ""  # the template file
    num_examples: int = 2
    max_doc_tokens: int = 256

    def __len__(self) -> int:
        return len(self.frame)

    def fingerprint(self) -> str:
        """Content hash of every pair (prompts, chosen and rejected completions, scores)."""
        return frame_fingerprint(self.frame)

    def training_rows(self) -> list[dict[str, str]]:
        return self.frame[["prompt", "chosen", "rejected"]].to_dict("records")

    @property
    def doc_ids(self) -> set[str]:
        return set(self.frame["doc_id"])

    def meta(self) -> dict[str, Any]:
        return {"teacher": self.teacher, "student": self.student, "prompt_id": self.prompt_id,
                "reference_source": self.reference_source, "corpus_fingerprint": self.corpus_fingerprint,
                "figures": self.figures, "prompt_source": self.prompt_source, "num_examples": self.num_examples,
                "max_doc_tokens": self.max_doc_tokens}


def references_from_qrels(queries: Queries, qrels: Qrels, corpus: Corpus, name: str = "qrels") -> SyntheticQueries:
    """Every judged-relevant (query, document) pair whose document is in the corpus, as reference rows."""
    rows = [SyntheticQuery(doc_id=doc_id, query=queries[qid], generator=name, doc_text=corpus[doc_id].contents,
                           extra={"index": i, "query_id": qid})
            for qid in sorted(qrels.judgments) if qid in queries
            for i, doc_id in enumerate(sorted(qrels.relevant(qid))) if doc_id in corpus]
    if not rows:
        raise ValueError(f"{qrels.source or name}: no judged-relevant document of a known query is in corpus {corpus.name!r}")
    return SyntheticQueries(rows, generator=name, prompt_id="human", corpus_fingerprint=corpus.fingerprint())


def sample_references(references: SyntheticQueries, corpus: Corpus, limit: int | None, seed: int) -> list[SyntheticQuery]:
    usable = [r for r in references if r.query.strip() and r.doc_id in corpus]
    dropped = len(references) - len(usable)
    if dropped:
        logger.warning("%d reference row(s) skipped: empty query or document not in the corpus", dropped)
    if not usable:
        raise ValueError(f"no usable reference queries for corpus {corpus.name!r} (all empty or for unknown documents)")
    if limit is not None and limit < len(usable):
        usable = random.Random(seed).sample(usable, limit)
    return usable


def completion(query: str, template: PromptTemplate) -> str:
    """The text the student should write after the prompt: the query, then the template's first stop."""
    return " " + query.strip() + (template.stop[0] if template.stop else "")


BackendFactory = Callable[[], GeneratorBackend]


def build_preference_pairs(
    corpus: Corpus,
    references: SyntheticQueries,
    teacher: BackendFactory,
    student: BackendFactory,
    template: PromptTemplate,
    scorer: QueryEvalScorer,
    config: PreferenceConfig,
    checkpoint_root: str | Path | None = None,
    show_progress: bool = True,
) -> PreferencePairs:
    """Teacher and student queries for the referenced documents (one model in memory at a time,
    checkpointed like any generation run), QueryEval scores, ALMA selection."""
    started = time.perf_counter()
    rows = sample_references(references, corpus, config.max_references, config.seed)
    doc_ids = list(dict.fromkeys(r.doc_id for r in rows))
    subset = Corpus({d: corpus[d] for d in doc_ids}, name=f"{corpus.name}-references", source=corpus.source)
    generation = QueryGenerationConfig(max_generations=None, seed=config.seed, max_doc_tokens=config.max_doc_tokens,
                                       max_new_tokens=config.max_new_tokens)
    generated: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    prompts: dict[str, str] = {}
    for role, factory in (("teacher", teacher), ("student", student)):
        backend = factory()
        run = generate_queries(subset, backend, template, generation, checkpoint_root=checkpoint_root,
                               show_progress=show_progress)
        generated[role] = {q.doc_id: q.query for q in run.queries}
        names[role] = backend.name
        if role == "student":  # CPO trains on exactly the prompt the student saw
            prompts = {d: template.render(backend.truncate(subset[d].contents, config.max_doc_tokens)) for d in doc_ids}
        del backend, run
    texts, targets = [], []
    for row in rows:
        for query in (row.query, generated["teacher"].get(row.doc_id, ""), generated["student"].get(row.doc_id, "")):
            texts.append(query)
            targets.append(row.doc_id)
    scored = scorer.score(texts, targets, show_progress=show_progress)
    kept, dropped = [], Counter()
    for i, row in enumerate(rows):
        candidates = [Candidate(source, texts[3 * i + j], scored[3 * i + j].score) for j, source in enumerate(SOURCES)]
        selected = alma_select(candidates, config.tie_tolerance)
        if selected is None:
            dropped["tie" if abs(max(c.score for c in candidates) - min(c.score for c in candidates)) <= config.tie_tolerance
                    else "same_text"] += 1
            continue
        chosen, rejected = selected
        kept.append({"doc_id": row.doc_id, "prompt": prompts[row.doc_id], "chosen": completion(chosen.query, template),
                     "rejected": completion(rejected.query, template), "chosen_source": chosen.source,
                     "rejected_source": rejected.source, "chosen_score": chosen.score, "rejected_score": rejected.score,
                     **{c.source: c.query for c in candidates}, **{f"{c.source}_score": c.score for c in candidates}})
    seconds = time.perf_counter() - started
    frame = pd.DataFrame(kept, columns=PAIR_COLUMNS)
    figures = {"references": float(len(rows)), "documents": float(len(doc_ids)), "pairs": float(len(kept)),
               "dropped_ties": float(dropped["tie"]), "dropped_same_text": float(dropped["same_text"]),
               "seconds": seconds, "pairs_per_s": len(kept) / seconds if seconds > 0 else 0.0}
    for source in SOURCES:
        figures[f"mean_score_{source}"] = sum(scored[3 * i + SOURCES.index(source)].score for i in range(len(rows))) / len(rows)
        figures[f"chosen_{source}"] = float((frame["chosen_source"] == source).sum())
        figures[f"rejected_{source}"] = float((frame["rejected_source"] == source).sum())
    logger.info("%d preference pairs from %d references (%d ties, %d identical texts dropped), %.2f pairs/s", len(kept),
                len(rows), dropped["tie"], dropped["same_text"], figures["pairs_per_s"])
    return PreferencePairs(frame, teacher=names["teacher"], student=names["student"], prompt_id=template.full_id,
                           reference_source=references.generator, corpus_fingerprint=corpus.fingerprint(),
                           figures=figures, prompt_source=template.source, num_examples=len(template.selected_examples()),
                           max_doc_tokens=config.max_doc_tokens)
