from typing import Any, Dict, Optional

from zenml import pipeline

from steps.data.load_corpus import load_corpus
from steps.generation.generate_synthetic_queries import generate_synthetic_queries
from steps.generation.import_inpars_queries import import_inpars_queries


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
) -> None:
    """Synthetic queries for a corpus (or imported from an InPars JSONL file)."""
    corpus = load_corpus(collection=collection)
    if import_inpars:
        import_inpars_queries(corpus=corpus, path=import_inpars)
    else:
        generate_synthetic_queries(
            corpus=corpus, prompt=prompt, num_examples=num_examples, examples_from=examples_from,
            generator=generator, max_generations=max_generations, seed=seed, decoding=decoding,
        )
