
from pipelines.checked import checked_pipeline
from steps.data.load_corpus import load_corpus
from steps.generation.optimise_query_program import optimise_query_program
from synthir.generation.backends import LocalGenerator, generator_block, pin_generator_spec
from synthir.generation.dspy_config import PromptOptimisationConfig, SelfRetrievalMetricConfig
from synthir.parameters import Collection


@checked_pipeline
def optimise_prompt_pipeline(
    collection: Collection = "data/demo",
    generator: generator_block("generator") = LocalGenerator(),
    optimisation: PromptOptimisationConfig = PromptOptimisationConfig(),
    metric: SelfRetrievalMetricConfig = SelfRetrievalMetricConfig(),
) -> None:
    """Compile a DSPy query program (the ``query_program`` artifact) for a corpus, without labels."""
    corpus = load_corpus(collection=collection)
    optimise_query_program(corpus=corpus, generator=pin_generator_spec(generator), optimisation=optimisation, metric=metric)
