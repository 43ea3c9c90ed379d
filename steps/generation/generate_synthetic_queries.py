from typing import Annotated, List, Optional

from zenml import get_step_context, log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import generation
from synthir.generation.backends import GeneratorSpec
from synthir.generation.dspy_config import DSPyOptions
from synthir.generation.generate import DecodingConfig
from synthir.generation.query_program import CompiledQueryProgram


@step(experiment_tracker=True)
def generate_synthetic_queries(
    corpus: Corpus,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Optional[GeneratorSpec] = None,
    max_generations: Optional[int] = 100,
    seed: int = 42,
    decoding: DecodingConfig = DecodingConfig(),
    checkpoint_root: Optional[str] = None,
    query_program: Optional[CompiledQueryProgram] = None,
    dspy_program: Optional[str] = None,
    dspy: DSPyOptions = DSPyOptions(),
    shard: Optional[List[int]] = None,
    query_store: Optional[str] = "artifact_store",
    budget: Optional[str] = None,
) -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """``synthir.flow.generation.generate_synthetic_queries``: queries for a seeded sample of the corpus,
    resumed from checkpoint shards. ``query_store``: where generated queries are kept per document,
    so a changed corpus generates only for its new or changed documents: ``artifact_store`` (a folder
    of the active stack's artifact store, local or remote), a path or fsspec URL, or null (off). ``budget``: a time budget
    (``30m``) instead of a sample size."""
    run = get_step_context().pipeline_run
    generated = generation.generate_synthetic_queries(
        corpus, prompt, num_examples, examples_from, generator, max_generations, seed, decoding, checkpoint_root,
        query_program, dspy_program, dspy, shard, store=open_query_store(query_store), run_label=f"{run.name} ({run.id})",
        budget=budget)
    log_metadata(metadata=generated.metadata)
    return generated.queries


def open_query_store(location: Optional[str]):
    """The query store at ``location`` (``artifact_store``: under the active stack's artifact store)."""
    from synthir.generation.query_store import QueryStore

    if not location:
        return None
    if location == "artifact_store":
        from zenml.client import Client

        location = f"{Client().active_stack.artifact_store.path.rstrip('/')}/synthir/query_store"
    return QueryStore(location)
