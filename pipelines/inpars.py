import inspect
from typing import Any, Dict, List, Optional, Union

from zenml import pipeline

from pipelines.generation import optimise_if_configured
from steps.data.load_collection import load_collection
from steps.generation.generate_synthetic_queries import generate_synthetic_queries
from steps.generation.merge_synthetic_queries import merge_synthetic_queries
from steps.training.build_training_triples import build_training_triples
from steps.training.evaluate_rerankers import evaluate_rerankers
from steps.training.register_reranker import register_reranker
from steps.training.train_reranker_model import train_reranker_model
from steps.validation.check_synthetic_queries import check_synthetic_queries
from steps.validation.enforce_validation_policy import enforce_validation_policy
from steps.validation.filter_synthetic_queries import filter_synthetic_queries
from synthir.generation.backends import pin_generator_spec
from synthir.preflight import validate_parameters


def in_dynamic_pipeline() -> bool:
    """A dynamic pipeline runs steps in call order (a failing policy check stops it there); a static
    DAG needs the ordering spelled out with ``after``."""
    from zenml.execution.pipeline.dynamic.run_context import DynamicPipelineRunContext

    return DynamicPipelineRunContext.get() is not None


def inpars_stages(
    corpus,
    queries,
    qrels,
    # generation
    max_generations: Optional[int] = 100,
    generation_shards: int = 1,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    decoding: Dict[str, Any] = {},
    dspy_program: Optional[str] = None,
    dspy: Dict[str, Any] = {},
    optimise: Optional[Dict[str, Any]] = None,
    # validation
    checks: Dict[str, Any] = {},
    filters: List[Dict[str, Any]] = [{"name": "scores", "keep": 0.8}],
    # training, evaluation, promotion
    negatives_per_query: int = 1,
    negative_depth: int = 100,
    training: Dict[str, Any] = {},
    rerank_depth: int = 100,
    fusion_weight: Union[float, str, None] = 0.7,
    registry_name: str = "inpars-reranker",
    promotion_margin: float = 0.005,
    exclude_query_ids: List[str] = [],
    seed: int = 42,
):
    """Generation -> validation -> training -> evaluation -> promotion, wired inside the calling
    pipeline (``inpars_pipeline``, ``retraining_pipeline``). Artifacts pass from step to step, never
    looked up as "the latest", so one run is one lineage. Returns the promotion decision artifact."""
    generator = pin_generator_spec(generator)  # an alias is cached and recorded as the version it names now
    query_program = optimise_if_configured(corpus, generator, optimise)
    generation = dict(corpus=corpus, prompt=prompt, num_examples=num_examples, examples_from=examples_from,
                      generator=generator, max_generations=max_generations, seed=seed, decoding=decoding,
                      query_program=query_program, dspy_program=dspy_program, dspy=dspy)
    if generation_shards > 1:  # parallel steps (pods, GPUs) on orchestrators that run them so
        parts = [generate_synthetic_queries(**generation, shard=[i, generation_shards], id=f"generate_synthetic_queries_{i}")
                 for i in range(generation_shards)]
        synthetic = merge_synthetic_queries(parts, corpus)
    else:
        synthetic = generate_synthetic_queries(**generation)
    checked, _, check_report = check_synthetic_queries(queries=synthetic, corpus=corpus, checks=checks)
    enforce_validation_policy(check_report)
    filtered, _ = filter_synthetic_queries(queries=checked, corpus=corpus, check_report=check_report, filters=filters,
                                           after=None if in_dynamic_pipeline() else "enforce_validation_policy")
    triples = build_training_triples(filtered, corpus, negatives_per_query=negatives_per_query, depth=negative_depth,
                                     seed=seed)
    model = train_reranker_model(triples, filtered, training=training)
    comparison, _ = evaluate_rerankers(model, corpus, queries, qrels, filtered, depth=rerank_depth,
                                       fusion_weight=fusion_weight, seed=seed, registry_name=registry_name,
                                       exclude_query_ids=exclude_query_ids)
    return register_reranker(model, comparison, registry_name=registry_name, margin=promotion_margin)


STAGE_PARAMETERS = [name for name in inspect.signature(inpars_stages).parameters if name not in ("corpus", "queries", "qrels")]


def check_stage_parameters(parameters: Dict[str, Any], where: str) -> None:
    unknown = set(parameters) - set(STAGE_PARAMETERS)
    if unknown:
        raise ValueError(f"{where}: unknown parameter(s) {sorted(unknown)}; allowed: {STAGE_PARAMETERS}")


@pipeline
def inpars_pipeline(
    collection: str = "data/demo",
    max_generations: Optional[int] = 100,
    generation_shards: int = 1,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    decoding: Dict[str, Any] = {},
    dspy_program: Optional[str] = None,
    dspy: Dict[str, Any] = {},
    optimise: Optional[Dict[str, Any]] = None,
    checks: Dict[str, Any] = {},
    filters: List[Dict[str, Any]] = [{"name": "scores", "keep": 0.8}],
    negatives_per_query: int = 1,
    negative_depth: int = 100,
    training: Dict[str, Any] = {},
    rerank_depth: int = 100,
    fusion_weight: Union[float, str, None] = 0.7,
    registry_name: str = "inpars-reranker",
    promotion_margin: float = 0.005,
    exclude_query_ids: List[str] = [],
    seed: int = 42,
) -> None:
    """InPars end to end on a labelled collection: synthetic queries for its corpus, checks and
    filters, reranker training, evaluation on its judged queries against BM25, the zero-shot model and
    production, registration and gated promotion. Steps whose inputs and parameters did not change
    are cached (the corpus artifact is keyed by its content fingerprint)."""
    validate_parameters(locals())  # every block, before any step runs
    corpus, queries, qrels = load_collection(collection=collection)
    inpars_stages(corpus, queries, qrels, **{name: value for name, value in locals().items() if name in STAGE_PARAMETERS})
