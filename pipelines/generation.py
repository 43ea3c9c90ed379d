from typing import Any, Dict, Optional

from zenml import pipeline

from steps.data.load_corpus import load_corpus
from steps.generation.generate_synthetic_queries import generate_synthetic_queries
from steps.generation.import_inpars_queries import import_inpars_queries
from steps.generation.optimise_query_program import optimise_query_program
from synthir.generation.backends import pin_generator_spec
from synthir.preflight import validate_parameters


def optimise_if_configured(corpus, generator: Dict[str, Any], optimise: Optional[Dict[str, Any]]):
    """The ``optimise_query_program`` step when ``optimise: {optimisation: ..., metric: ...}`` is set, else None."""
    if optimise is None:
        return None
    unknown = set(optimise) - {"optimisation", "metric"}
    if unknown:
        raise ValueError(f"optimise: unknown key(s) {sorted(unknown)}; allowed: ['metric', 'optimisation']")
    return optimise_query_program(corpus=corpus, generator=generator, optimisation=optimise.get("optimisation", {}),
                                  metric=optimise.get("metric", {}))


@pipeline
def generation_pipeline(
    collection: str = "data/demo",
    max_generations: Optional[int] = 100,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    decoding: Dict[str, Any] = {},
    seed: int = 42,
    import_inpars: Optional[str] = None,
    dspy_program: Optional[str] = None,
    dspy: Dict[str, Any] = {},
    optimise: Optional[Dict[str, Any]] = None,
) -> None:
    """Synthetic queries for a corpus (or imported from an InPars JSONL file).

    DSPy prompts (``prompt: dspy-cot``): ``dspy_program`` names a saved compiled program; or
    ``optimise: {optimisation: {...}, metric: {...}}`` compiles one first, in this run, on this corpus."""
    validate_parameters(locals())
    generator = pin_generator_spec(generator)  # an alias is cached and recorded as the version it names now
    corpus = load_corpus(collection=collection)
    if import_inpars:
        import_inpars_queries(corpus=corpus, path=import_inpars)
        return
    query_program = optimise_if_configured(corpus, generator, optimise)
    generate_synthetic_queries(
        corpus=corpus, prompt=prompt, num_examples=num_examples, examples_from=examples_from,
        generator=generator, max_generations=max_generations, seed=seed, decoding=decoding,
        query_program=query_program, dspy_program=dspy_program, dspy=dspy,
    )
