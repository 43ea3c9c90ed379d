from typing import Annotated, Optional, Tuple

from zenml import log_metadata, step

from steps.generation.generate_synthetic_queries import open_query_store
from synthir.data import Corpus
from synthir.flow import generation
from synthir.generation.backends import GeneratorSpec
from synthir.generation.generate import DecodingConfig
from synthir.retrieval.expansion import ExpansionConfig


@step(experiment_tracker=True)
def expand_documents(
    training_corpus: Corpus,
    evaluation_corpus: Corpus,
    separate: bool = False,
    expansion: ExpansionConfig = ExpansionConfig(),
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Optional[GeneratorSpec] = None,
    decoding: DecodingConfig = DecodingConfig(),
    seed: int = 42,
    query_store: Optional[str] = "artifact_store",
) -> Tuple[Annotated[Corpus, "expanded_training_corpus"], Annotated[Corpus, "expanded_evaluation_corpus"]]:
    """``synthir.flow.generation.expand_corpora``: both corpora with their first-stage expansions."""
    expanded = generation.expand_corpora(
        training_corpus, evaluation_corpus, separate, expansion=expansion, prompt=prompt, num_examples=num_examples,
        examples_from=examples_from, generator=generator, decoding=decoding, seed=seed,
        store=open_query_store(query_store))
    log_metadata(metadata=expanded.metadata)
    return expanded.training_corpus, expanded.evaluation_corpus
