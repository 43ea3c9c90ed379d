"""``inpars:``: every parameter of the InPars stages (generation -> validation -> training ->
evaluation -> promotion), in one typed block shared by ``inpars_pipeline`` and ``retraining_pipeline``."""

from __future__ import annotations

from typing import Annotated, List, Optional, Union

from pydantic import AfterValidator, Field, model_validator

from synthir.config import ConfigBlock, Duration, ModelName
from synthir.generation.backends import LocalGenerator, generator_block
from synthir.generation.dspy_config import DSPyOptions, OptimiseConfig
from synthir.generation.generate import DecodingConfig
from synthir.generation.prompts import Prompt
from synthir.judgments.config import EvaluationConfig
from synthir.preparation import DocumentsConfig
from synthir.quality.checks import ChecksConfig
from synthir.quality.filters import Filters, ScoresFilter
from synthir.retrieval.expansion import ExpansionConfig
from synthir.training.config import RerankerTrainingConfig


def fusion_weight(value: float | str | None) -> float | str | None:
    if value is None or value == "tune" or (not isinstance(value, (bool, str)) and 0 <= value <= 1):
        return value
    raise ValueError("expected a weight in [0, 1], 'tune' (chosen on a dev split) or null (the reranker alone)")


FusionWeight = Annotated[Union[float, str, None], AfterValidator(fusion_weight)]


class InParsConfig(ConfigBlock):
    """The InPars stages' parameters; every block left out keeps its defaults."""

    yaml_path = "inpars"
    documents: DocumentsConfig = Field(default_factory=DocumentsConfig, description="boilerplate, duplicates and "
                                       "passages, applied when the collection is loaded")
    # generation
    max_generations: Optional[int] = Field(100, ge=1, description="documents to sample (seeded); null: all")
    generation_budget: Duration = Field(None, description="generate for as many sampled documents as fit in this "
                                        "time (30m, 2h, 1h30m, seconds), in their stable order; the next run continues "
                                        "where this one stopped; null: no limit")
    generation_shards: int = Field(1, ge=1, description="parallel generation steps over round-robin shares of the sample")
    prompt: Prompt = Field("inpars", description="inpars | inpars-gbq | promptagator | dspy-cot | dspy-predict | a template file")
    num_examples: Optional[int] = Field(None, ge=0, description="few-shot examples shown; null: the template's own")
    examples_from: Optional[str] = Field(None, description="promptagator: the labelled collection the examples come from")
    generator: generator_block("generator") = Field(default_factory=LocalGenerator, description="the query generator")
    decoding: DecodingConfig = Field(default_factory=DecodingConfig, description="truncation and sampling")
    dspy_program: Optional[str] = Field(None, description="a saved compiled DSPy program (folder)")
    dspy: DSPyOptions = Field(default_factory=DSPyOptions, description="DSPy repair, retries and fallback")
    optimise: Optional[OptimiseConfig] = Field(None, description="compile a DSPy program on the corpus first")
    query_store: Optional[str] = Field("artifact_store", description="queries kept per document for the next corpus "
                                       "version: artifact_store (the stack's), a path or fsspec URL, or null (off)")
    # validation
    checks: ChecksConfig = Field(default_factory=ChecksConfig, description="the data checks and their policies")
    filters: Filters = Field(default_factory=lambda: [ScoresFilter(keep=0.8)], description="filters, applied in order")
    expansion: ExpansionConfig = Field(default_factory=ExpansionConfig, description="document expansion (doc2query--) "
                                       "of the first stage: training negatives, the teacher and the gate")
    # training, evaluation, promotion
    negatives_per_query: int = Field(1, ge=1, description="hard negatives sampled per query")
    negative_depth: int = Field(100, ge=1, description="BM25 depth the negatives are sampled from")
    training: RerankerTrainingConfig = Field(default_factory=RerankerTrainingConfig, description="the reranker")
    rerank_depth: int = Field(100, ge=1, description="BM25 hits re-scored in evaluation")
    fusion_weight: FusionWeight = Field(0.7, description="BM25 fusion weight in [0, 1]; tune: chosen on a dev split; null: reranker alone")
    registry_name: ModelName = Field("inpars-reranker", description="MLflow registered model")
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig,
                                         description="the gate's source of truth (judged | golden | synthetic) and evidence")
    promotion_margin: float = Field(0.005, ge=0, description="nDCG@10 the candidate must gain over BM25, the untrained "
                                                               "model and production (never negative)")
    exclude_query_ids: List[str] = Field(default_factory=list, description="judged queries left out of evaluation")
    seed: int = Field(42, description="sampling seed (documents, negatives, dev split)")

    @model_validator(mode="after")
    def _budget_with_the_template_generator(self) -> InParsConfig:
        if self.generation_budget is not None and (self.prompt.startswith("dspy-") or self.dspy_program or self.optimise):
            raise ValueError("generation_budget applies to template prompts (inpars, inpars-gbq, promptagator, a "
                             "file); a DSPy program generates for max_generations documents: set that instead")
        return self
