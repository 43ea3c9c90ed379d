from typing import Any, Dict

from zenml import pipeline

from steps.data.load_corpus import load_corpus
from steps.generation.optimise_query_program import optimise_query_program
from synthir.generation.backends import pin_generator_spec
from synthir.preflight import validate_parameters


@pipeline
def optimise_prompt_pipeline(
    collection: str = "data/demo",
    generator: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    optimisation: Dict[str, Any] = {},
    metric: Dict[str, Any] = {},
) -> None:
    """Compile a DSPy query program (the ``query_program`` artifact) for a corpus, without labels."""
    validate_parameters(locals())
    corpus = load_corpus(collection=collection)
    optimise_query_program(corpus=corpus, generator=pin_generator_spec(generator), optimisation=optimisation, metric=metric)
