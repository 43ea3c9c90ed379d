from typing import Annotated, Optional

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import generation
from synthir.generation.backends import GeneratorSpec
from synthir.generation.dspy_config import PromptOptimisationConfig, SelfRetrievalMetricConfig
from synthir.generation.query_program import CompiledQueryProgram


@step(experiment_tracker=True)
def optimise_query_program(
    corpus: Corpus,
    generator: Optional[GeneratorSpec] = None,
    optimisation: PromptOptimisationConfig = PromptOptimisationConfig(),
    metric: SelfRetrievalMetricConfig = SelfRetrievalMetricConfig(),
) -> Annotated[CompiledQueryProgram, "query_program"]:
    """``synthir.flow.generation.optimise_query_program``: a DSPy query program compiled on the corpus
    without labels (queries that retrieve their own source document, without copying it)."""
    optimised = generation.optimise_query_program(corpus, generator, optimisation, metric)
    log_metadata(metadata=optimised.metadata)
    return optimised.program
