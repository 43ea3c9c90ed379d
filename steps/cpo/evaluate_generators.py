from typing import Annotated, Tuple

import pandas as pd
from zenml import log_metadata, step

from synthir import registry
from synthir.cpo import PreferencePairs, QueryEvalConfig
from synthir.cpo.evaluation import GeneratorComparison
from synthir.data import Corpus
from synthir.flow import cpo
from synthir.generation.backends import LocalRuntime
from synthir.generation.generate import DecodingConfig
from synthir.training.artifacts import GeneratorModel


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
    """``synthir.flow.cpo.evaluate_generators``: base, candidate and production write queries for the same
    held-out documents; QueryEval, copy rate and self-retrieval for each."""
    evaluated = cpo.evaluate_generators(generator, pairs, corpus, held_out, prompt, num_examples, generation, decoding,
                                        query_eval, registry_name, seed)
    log_metadata(metadata=evaluated.metadata)
    return evaluated.comparison, evaluated.held_out_queries
