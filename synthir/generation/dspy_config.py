"""The DSPy blocks of a config (``dspy:``, ``optimise:`` with ``optimisation:`` and ``metric:``).

Apart from the modules that run DSPy, so that checking a config does not import it."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from synthir.config import ConfigBlock


class DSPyOptions(ConfigBlock):
    """``dspy:``: how a DSPy program's outputs are repaired, retried or replaced."""

    yaml_path = "dspy"
    retries: int = Field(1, ge=0, description="sampled retries after a rejected output and its repair")
    max_tokens: int = Field(128, ge=1, description="generated tokens per call (reasoning and query)")
    fallback_prompt: Optional[str] = Field("inpars", description="static template used when the model breaks the "
                                           "format; null: none (the query is left empty and counted as failed)")


OPTIMISERS = ("bootstrap", "random_search", "mipro", "none")


class SelfRetrievalMetricConfig(ConfigBlock):
    """``metric:``: the label-free score a DSPy program is optimised against."""

    yaml_path = "metric"
    retrieval: Literal["bm25", "reranker"] = Field(
        "bm25", description="bm25: reciprocal rank of the source document in the top k | reranker: pair score")
    k: int = Field(10, ge=1, description="retrieval depth for bm25")
    copy_penalty: float = Field(0.5, ge=0, description="subtracted, times the query's trigram share found in the document")
    reranker_model: str = Field("package:all-minilm-l6-v2", description="for retrieval: reranker")
    threshold: float = Field(0.2, description="a bootstrapped demo must score at least this")


class PromptOptimisationConfig(ConfigBlock):
    """``optimisation:``: which DSPy program is compiled, how, on how many documents."""

    yaml_path = "optimisation"
    program: Literal["cot", "predict"] = Field("cot", description="cot (ChainOfThought) | predict (Predict)")
    optimiser: Literal[OPTIMISERS] = Field("bootstrap", description="bootstrap | random_search | mipro | none")
    train_size: int = Field(16, ge=1, description="corpus documents the optimiser draws demos from")
    dev_size: int = Field(24, ge=1, description="corpus documents the programs are scored on")
    max_bootstrapped_demos: int = Field(2, ge=0, description="demos kept")
    seed_prompt: str = Field("inpars", description="whose few-shot examples seed the teacher")
    num_seed_examples: int = Field(2, ge=0, description="seed demos")
    num_candidate_programs: int = Field(4, ge=1, description="random_search: candidates tried")
    mipro_auto: Literal["light", "medium", "heavy"] = Field("light", description="mipro: light | medium | heavy")
    max_doc_tokens: int = Field(256, ge=1, description="document truncation")
    max_tokens: int = Field(128, ge=1, description="generated tokens per call (reasoning and query)")
    score_zero_shot: bool = Field(True, description="also score the zero-shot program on dev (a baseline; slow with small models)")
    seed: int = Field(42, description="sampling seed")


class OptimiseConfig(ConfigBlock):
    """``optimise:``: compile a DSPy program on the corpus first, in the same run."""

    yaml_path = "optimise"
    optimisation: PromptOptimisationConfig = Field(default_factory=PromptOptimisationConfig,
                                                   description="which program, which optimiser, how many documents")
    metric: SelfRetrievalMetricConfig = Field(default_factory=SelfRetrievalMetricConfig,
                                              description="the label-free self-retrieval metric")
