import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, Optional

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus, load_collection
from synthir.data.synthetic import SyntheticQueries, write_inpars_jsonl
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, make_backend, with_collection_examples
from synthir.retrieval.bm25 import default_cache_dir
from synthir.tracking import log_artifact, log_metrics, log_params, set_tags

logger = get_logger(__name__)
MAX_ROWS_LOGGED_TO_MLFLOW = 100_000


@step(experiment_tracker=True)
def generate_synthetic_queries(
    corpus: Corpus,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Dict[str, Any] = {"backend": "local", "model": "package:smollm2-135m-instruct"},
    max_generations: Optional[int] = 100,
    seed: int = 42,
    decoding: Dict[str, Any] = {},
    checkpoint_root: Optional[str] = None,
) -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """Generate queries for a seeded sample of the corpus; resumes from checkpoint shards."""
    config = QueryGenerationConfig(max_generations=max_generations, seed=seed, **decoding)
    template = load_prompt(prompt, num_examples=num_examples)
    backend = make_backend(generator)
    if template.kind == "promptagator":
        labelled = load_collection(examples_from or corpus.source.removesuffix("/corpus.jsonl"))
        if labelled.qrels is None:
            raise ValueError(f"prompt {prompt!r} draws its examples from judged queries; {examples_from!r} has no qrels")
        with_collection_examples(template, corpus, labelled.queries, labelled.qrels,
                                 num_examples or template.num_examples or 4, seed,
                                 truncate=lambda text: backend.truncate(text, config.max_doc_tokens // 2))
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "generation"
    run = generate_queries(corpus, backend, template, config, checkpoint_root=root)
    queries = run.queries

    log_params({"prompt": template.full_id, "num_examples": len(template.selected_examples()),
                **{f"generator_{k}": v for k, v in backend.describe().items()},
                **{k: v for k, v in vars(config).items()}}, prefix="generation.")
    log_metrics(run.figures, prefix="generation.")
    set_tags({"generator": backend.name, "prompt_id": template.full_id})
    if queries.fewshot_query_ids:
        logger.info("Few-shot example query ids (excluded from evaluation): %s", queries.fewshot_query_ids)
    if len(queries) <= MAX_ROWS_LOGGED_TO_MLFLOW:
        with tempfile.TemporaryDirectory() as tmp:
            log_artifact(write_inpars_jsonl(queries, Path(tmp) / "synthetic_queries.inpars.jsonl"), "generation")
    log_metadata(metadata={"prompt_id": template.full_id, "generator": backend.name, **run.figures})
    logger.info("Generated %d queries for %d documents (%.2f docs/s, empty rate %.3f)", len(queries),
                int(run.figures["documents"]), run.figures["docs_per_s"], run.figures["empty_rate"])
    return queries
