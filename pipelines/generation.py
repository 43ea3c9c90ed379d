from typing import Optional

from pipelines.checked import checked_pipeline
from steps.data.load_corpus import load_corpus
from steps.generation.generate_synthetic_queries import generate_synthetic_queries
from steps.generation.import_synthetic_queries import import_synthetic_queries
from steps.generation.optimise_query_program import optimise_query_program
from synthir.generation.backends import LocalGenerator, generator_block, pin_generator_spec
from synthir.generation.dspy_config import DSPyOptions, OptimiseConfig
from synthir.generation.generate import DecodingConfig
from synthir.parameters import (
    Collection,
    DSPyProgram,
    ExamplesFrom,
    ImportQueries,
    MaxGenerations,
    NumExamples,
    PromptName,
    QueryStoreLocation,
    Seed,
)


def optimise_if_configured(corpus, generator, optimise: Optional[OptimiseConfig]):
    """The ``optimise_query_program`` step when ``optimise: {optimisation: ..., metric: ...}`` is set, else None."""
    if optimise is None:
        return None
    optimise = OptimiseConfig.from_dict(optimise)
    return optimise_query_program(corpus=corpus, generator=generator, optimisation=optimise.optimisation,
                                  metric=optimise.metric)


@checked_pipeline
def generation_pipeline(
    collection: Collection = "data/demo",
    max_generations: MaxGenerations = 100,
    prompt: PromptName = "inpars",
    num_examples: NumExamples = None,
    examples_from: ExamplesFrom = None,
    generator: generator_block("generator") = LocalGenerator(),
    decoding: DecodingConfig = DecodingConfig(),
    seed: Seed = 42,
    import_queries: ImportQueries = None,
    dspy_program: DSPyProgram = None,
    dspy: DSPyOptions = DSPyOptions(),
    optimise: Optional[OptimiseConfig] = None,
    query_store: QueryStoreLocation = "artifact_store",
) -> None:
    """Synthetic queries for a corpus (or imported: InPars JSONL, a GPL/BEIR qgen folder, a saved dataset).

    DSPy prompts (``prompt: dspy-cot``): ``dspy_program`` names a saved compiled program; or
    ``optimise: {optimisation: {...}, metric: {...}}`` compiles one first, in this run, on this corpus."""
    generator = pin_generator_spec(generator)  # an alias is cached and recorded as the version it names now
    corpus = load_corpus(collection=collection)
    if import_queries:
        import_synthetic_queries(corpus=corpus, path=import_queries)
        return
    query_program = optimise_if_configured(corpus, generator, optimise)
    generate_synthetic_queries(
        corpus=corpus, prompt=prompt, num_examples=num_examples, examples_from=examples_from,
        generator=generator, max_generations=max_generations, seed=seed, decoding=decoding,
        query_program=query_program, dspy_program=dspy_program, dspy=dspy, query_store=query_store,
    )
