from typing import Annotated, Tuple

import pandas as pd
from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir import registry
from synthir.cpo import PreferencePairs, QueryEvalConfig, QueryEvalScorer, held_out_documents
from synthir.cpo.evaluation import GeneratorComparison, compare_generators
from synthir.data import Corpus
from synthir.generation import QueryGenerationConfig, load_prompt
from synthir.generation.backends import LocalRuntime
from synthir.generation.generate import DecodingConfig
from synthir.models import generator_folder
from synthir.tracking import log_metrics, log_params
from synthir.training.artifacts import GeneratorModel

logger = get_logger(__name__)


# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def evaluate_generators(
    generator: GeneratorModel,
    pairs: PreferencePairs,
    corpus: Corpus,
    held_out: int = 32,
    prompt: str = "inpars",
    num_examples: int = 2,
    generation: LocalRuntime = LocalRuntime(batch_size=8),
    decoding: DecodingConfig = DecodingConfig(max_new_tokens=48),
    query_eval: QueryEvalConfig = QueryEvalConfig(),
    registry_name: str = registry.GENERATOR_NAME,
    seed: int = 42,
) -> Tuple[Annotated[GeneratorComparison, "generator_comparison"], Annotated[pd.DataFrame, "held_out_queries"]]:
    """The untuned base generator, the CPO candidate and the production version (if any) write queries
    for the same held-out documents (none in the preference data); QueryEval scores, copy rate,
    self-retrieval share for each."""
    held = held_out_documents(corpus, pairs.doc_ids, held_out, seed)
    template = load_prompt(prompt, num_examples=num_examples)
    scorer = QueryEvalScorer(corpus, QueryEvalConfig.from_dict(query_eval))
    config = QueryGenerationConfig(**DecodingConfig.from_dict(decoding).model_dump(), max_generations=None, seed=seed)
    systems = {"base": generator.base_model, "candidate": str(generator_folder(generator.model_dir))}
    production = registry.production_version(registry_name)
    if production is not None:
        systems["production"] = f"registry:{registry_name}@production"
    comparison, results = compare_generators(systems, LocalRuntime.model_validate(generation).model_dump(), held, template,
                                             scorer, config, None if production is None else str(production.version))
    for name, result in results.items():
        log_metrics(result.figures, prefix=f"eval.{name}.")
        logger.info("%-10s query_eval %.4f  copy rate %.3f  self-retrieval@%d %.3f", name, result.figures["query_eval"],
                    result.figures["copy_rate"], scorer.config.self_retrieval_k, result.figures["self_retrieval"])
    log_params({"held_out_documents": len(held), "prompt": template.full_id}, prefix="eval.")
    log_metadata(metadata={f"{name}.{k}": v for name, r in results.items() for k, v in r.figures.items()})
    frame = pd.DataFrame([{"system": name, **row} for name, r in results.items() for row in r.queries])
    return comparison, frame
