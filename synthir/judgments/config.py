"""``evaluation:``: what the promotion gate takes as its source of truth, and how sure it must be.

Sources:
- ``judged``: the collection's own qrels (the default when it has them);
- ``golden``: another labelled collection (a team's golden set, a public benchmark kept as a canary);
- ``synthetic``: held-out pseudo-judgments (the default without qrels). A seeded set of documents is
  held out of everything training sees; an evaluation generator, by default a different model from
  the training generator, writes queries for them; the same checks keep the well-formed ones; each
  query's source document is its one relevant document. No retrieval-based filter is applied to
  them: a filter that uses one of the compared systems favours that system.
- ``llm_judge``: an LLM grades the pooled top-k documents of every compared system 0-3 (UMBRELA),
  for the user's own unjudged queries (``queries_file``, or the collection's queries) or, without
  any, the held-out synthetic queries. Grades are cached by (query, document, judge).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

from pydantic import Field, ValidationInfo, field_validator, model_validator

from synthir.config import ConfigBlock, ConfigError
from synthir.generation.backends import LocalGenerator, generator_block
from synthir.generation.generate import DecodingConfig
from synthir.generation.prompts import Prompt
from synthir.quality.checks import ChecksConfig

# Gemma-3-270M writes the evaluation queries while SmolLM2 writes the training ones: a proxy written
# by the training generator would reward a model for learning that generator's habits.
DEFAULT_EVALUATION_GENERATOR = "package:gemma3-270m"


class SyntheticJudgmentsConfig(ConfigBlock):
    """``evaluation.synthetic:``: the held-out documents and the generator that writes their queries."""

    yaml_path = "evaluation.synthetic"
    held_out_documents: int = Field(200, ge=1, description="documents held out of training; each gets evaluation queries")
    max_held_out_fraction: float = Field(0.2, gt=0, lt=1, description="at most this share of the corpus is held out")
    generator: generator_block("evaluation.synthetic.generator") = Field(
        default_factory=lambda: LocalGenerator(model=DEFAULT_EVALUATION_GENERATOR),
        description="the evaluation generator; by default a different model from the training generator")
    prompt: Prompt = Field("inpars", description="inpars | inpars-gbq | a template file (a static prompt)")
    num_examples: Optional[int] = Field(None, ge=0, description="few-shot examples shown; null: the template's own")
    decoding: DecodingConfig = Field(default_factory=lambda: DecodingConfig(max_new_tokens=48),
                                     description="truncation and sampling of the evaluation generator")
    checks: ChecksConfig = Field(default_factory=ChecksConfig, description="the checks that keep well-formed queries")
    seed: int = Field(2024, description="which documents are held out (a hash of seed and document id)")
    untrained_bias: float = Field(
        0.01, ge=0, description="nDCG@10 taken off the candidate's gain over the untrained base model before the "
                                "margin and the paired test: held-out synthetic queries favour a model trained on "
                                "synthetic queries beyond what humans see (CISI: +0.009 alone and fused in one run, +0.003 "
                                "and -0.006 in another; benchmarks/label_free_gate.py re-measures it) | 0: none")


class LLMJudgeConfig(ConfigBlock):
    """``evaluation.llm_judge:``: the judge model and how deep it looks."""

    yaml_path = "evaluation.llm_judge"
    generator: generator_block("evaluation.llm_judge.generator") = Field(
        default_factory=lambda: LocalGenerator(model="package:smollm2-135m-instruct"),
        description="the judge: local or served (an instruction-tuned model; hf:meta-llama/Llama-3.1-8B-Instruct "
                    "or a served one for real use)")
    pool_depth: int = Field(10, ge=1, description="top documents of every compared system that get judged")
    max_doc_tokens: int = Field(256, ge=16, description="passages are truncated to this many judge tokens")
    queries: Literal["auto", "collection", "synthetic"] = Field(
        "auto", description="auto (the user's or the collection's queries when there are any, else synthetic) | "
                            "collection | synthetic (the held-out synthetic queries)")


# Below these the gate's verdict says little: settings beyond them need evaluation.allow_weak_gate.
WEAK_ALPHA = 0.1
SENSIBLE_MIN_QUERIES = 20


def gate_weakenings(alpha: float, min_queries: int) -> list[str]:
    """What in ``alpha`` and ``min_queries`` weakens the gate below its sensible bounds (empty: nothing)."""
    return ([f"alpha {alpha} is above {WEAK_ALPHA}" + (" (no significance required)" if alpha >= 1 else "")]
            if alpha > WEAK_ALPHA else []) + (
        [f"min_queries {min_queries} is below {SENSIBLE_MIN_QUERIES}"] if min_queries < SENSIBLE_MIN_QUERIES else [])


class CalibrationConfig(ConfigBlock):
    """``evaluation.calibration:``: a few judged queries of this collection (a golden set, 10 to 50) that
    calibrate the synthetic gate by prediction-powered inference (``synthir.judgments.calibration``)."""

    yaml_path = "evaluation.calibration"
    queries: Optional[str] = Field(None, description="the golden queries (.jsonl, .tsv or TREC topics); null: the "
                                                     "synthetic gate is not calibrated")
    qrels: Optional[str] = Field(None, description="their judgments (TREC qrels, or BEIR's query-id/corpus-id/score "
                                                   ".tsv), documents of this collection")
    judge_model: str = Field("package:smollm2-135m-instruct", description="the generator whose judgment (the document "
                             "it most likely writes the query from, by query likelihood) gives every query a proxy gain")
    judge_depth: int = Field(5, ge=1, description="each system's top documents the judge reads per query")

    @model_validator(mode="after")
    def _queries_with_their_judgments(self):
        if bool(self.queries) != bool(self.qrels):
            raise ValueError("calibration needs both `queries:` and `qrels:` (the golden queries and their judgments), "
                             "or neither")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.queries)


class EvaluationConfig(ConfigBlock):
    """``evaluation:``: the gate's source of truth and the evidence it needs to promote."""

    yaml_path = "evaluation"
    source: Literal["auto", "judged", "golden", "synthetic", "llm_judge"] = Field(
        "auto", description="auto (judged when the collection has qrels, else synthetic) | judged | golden | "
                            "synthetic | llm_judge")
    golden: Optional[str] = Field(None, validate_default=True,
                                  description="golden: a labelled collection (BEIR folder or ir_datasets id)")
    golden_split: str = Field("test", description="golden: the qrels split")
    synthetic: SyntheticJudgmentsConfig = Field(default_factory=SyntheticJudgmentsConfig,
                                                description="synthetic: the held-out pseudo-judgments")
    llm_judge: LLMJudgeConfig = Field(default_factory=LLMJudgeConfig, description="llm_judge: the judge")
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig,
                                           description="synthetic: a few judged queries that calibrate the gate's "
                                                       "gain over the untrained model (PPI++)")
    queries_file: Optional[str] = Field(None, description="your own unjudged queries (a query log: .jsonl, .tsv or "
                                                          "TREC topics), graded by llm_judge")
    significance_test: Literal["randomisation", "t-test"] = Field(
        "randomisation", description="paired test of the candidate's per-query nDCG@10 against each baseline")
    alpha: float = Field(0.05, gt=0, le=1, description="promote only when every one-sided p-value is below this "
                                                       "(1: no significance required)")
    min_queries: int = Field(30, ge=1, description="promote only on at least this many evaluation queries")
    allow_weak_gate: bool = Field(False, description="allow alpha above 0.1 (1: no significance required) or "
                                                     "min_queries below 20; the decision, the version's tags and its "
                                                     "model card then say that the gate was weakened")

    @model_validator(mode="after")
    def _weakening_the_gate_is_explicit(self):
        weakened = gate_weakenings(self.alpha, self.min_queries)
        if weakened and not self.allow_weak_gate:
            raise ValueError(f"evaluation: {'; '.join(weakened)} would let a model no better than BM25 or production "
                             "be promoted; raise it, or set evaluation.allow_weak_gate: true to weaken the gate on "
                             "purpose (the decision and the registered version then say so)")
        return self

    @model_validator(mode="after")
    def _calibration_calibrates_synthetic_judgments(self):
        if self.calibration.enabled and self.source not in ("auto", "synthetic"):
            raise ValueError(f"evaluation.calibration calibrates synthetic judgments; with source: {self.source} its "
                             "queries do not count: set source: synthetic (or auto), or drop calibration")
        return self

    @field_validator("golden")
    @classmethod
    def _golden_needs_a_collection(cls, golden: Optional[str], info: ValidationInfo) -> Optional[str]:
        if info.data.get("source") == "golden" and not golden:
            raise ValueError("source: golden needs `golden:` naming a labelled collection (a BEIR folder or an "
                             "ir_datasets id)")
        return golden


def collection_has_judgments(collection: str, split: str = "test") -> bool:
    """Whether ``collection`` has qrels for ``split``, decided without reading the corpus (the pipeline
    picks its evaluation steps while it is composed)."""
    from synthir.data.collections import IRDS_PREFIX

    path = Path(collection)
    if not collection.startswith(IRDS_PREFIX) and path.exists():
        return path.is_dir() and (path / "qrels" / f"{split}.tsv").exists()
    if "://" in collection:  # object storage or a URL: look without downloading
        import fsspec

        try:
            fs, root = fsspec.core.url_to_fs(collection)
            return bool(fs.exists(f"{root.rstrip('/')}/qrels/{split}.tsv"))
        except Exception:  # unreachable or no fsspec package for it: load_collection reports that
            return False
    import ir_datasets

    try:
        return bool(ir_datasets.load(collection.removeprefix(IRDS_PREFIX)).has_qrels())
    except KeyError:
        return False  # load_collection then reports the unknown id


def resolve_source(evaluation: EvaluationConfig, collection: str, split: str = "test") -> str:
    """``judged``, ``golden`` or ``synthetic``: ``auto`` resolved against the collection. Asking for
    ``judged`` on a collection without qrels fails here, before any step runs."""
    has_judgments = collection_has_judgments(collection, split)
    if evaluation.source == "auto":
        return "judged" if has_judgments else "synthetic"
    if evaluation.source == "judged" and not has_judgments:
        raise ConfigError(f"evaluation.source: judged, but {collection!r} has no qrels/{split}.tsv; use "
                         "source: synthetic (held-out pseudo-judgments) or golden (another labelled collection)")
    return evaluation.source


def collection_has_queries(collection: str, evaluation: EvaluationConfig) -> bool:
    """Whether evaluation queries of the user's own exist: ``queries_file``, or a ``queries.jsonl``
    beside the corpus (decided without reading it)."""
    return bool(evaluation.queries_file) or (Path(collection) / "queries.jsonl").is_file()


def llm_judge_queries(evaluation: EvaluationConfig, collection: str) -> str:
    """``collection`` or ``synthetic``: which queries the LLM judge grades for."""
    choice = evaluation.llm_judge.queries
    if choice == "auto":
        return "collection" if collection_has_queries(collection, evaluation) else "synthetic"
    if choice == "collection" and not collection_has_queries(collection, evaluation):
        raise ConfigError(f"evaluation.llm_judge.queries: collection, but {collection!r} has no queries.jsonl and "
                         "evaluation.queries_file is not set")
    return choice
