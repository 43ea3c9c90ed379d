import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries, write_inpars_jsonl
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, make_backend
from synthir.generation.backends import LocalGenerator, as_generator_spec
from synthir.generation.dspy_config import DSPyOptions
from synthir.generation.generate import DecodingConfig
from synthir.generation.prompts import prepare_template
from synthir.generation.query_program import CompiledQueryProgram
from synthir.generation.shards import shard_corpus
from synthir.runtime import default_cache_dir
from synthir.tracking import log_artifact, log_params, record_figures, set_tags

logger = get_logger(__name__)
MAX_ROWS_LOGGED_TO_MLFLOW = 100_000


@step(experiment_tracker=True)
def generate_synthetic_queries(
    corpus: Corpus,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Optional[Dict[str, Any]] = None,
    max_generations: Optional[int] = 100,
    seed: int = 42,
    decoding: DecodingConfig = DecodingConfig(),
    checkpoint_root: Optional[str] = None,
    query_program: Optional[CompiledQueryProgram] = None,
    dspy_program: Optional[str] = None,
    dspy: DSPyOptions = DSPyOptions(),
    shard: Optional[List[int]] = None,
    query_store: Optional[str] = "artifact_store",
) -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """Generate queries for a seeded sample of the corpus; resumes from checkpoint shards.

    ``prompt: dspy-cot`` / ``dspy-predict`` runs a DSPy program: the ``query_program`` artifact (from
    ``optimise_query_program``), else the one saved at ``dspy_program``, else the uncompiled program
    (zero-shot, or seeded with ``num_examples`` InPars examples). ``dspy`` holds ``retries``,
    ``max_tokens`` and ``fallback_prompt`` (the static template used when the model breaks the format;
    null: none).

    ``shard: [index, count]`` generates only that round-robin share of the seeded document sample
    (the inpars pipeline fans generation out this way and merges the shards).

    ``query_store``: where generated queries are kept per document (``synthir.generation.query_store``)
    so a changed corpus generates only for its new or changed documents: ``artifact_store`` (a folder
    of the active stack's artifact store, local or remote), a path or fsspec URL, or null (off)."""
    generator = as_generator_spec(generator or LocalGenerator())  # a mapping here: see synthir.config.as_data
    target = corpus
    if shard is not None:
        target = shard_corpus(corpus, max_generations, seed, *shard)
        max_generations = None
    config = QueryGenerationConfig(**DecodingConfig.from_dict(decoding).model_dump(), max_generations=max_generations,
                                   seed=seed)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "generation"
    if prompt.startswith("dspy-") or query_program is not None or dspy_program:
        queries = _generate_with_dspy(target, prompt, num_examples, generator, config, root, query_program,
                                      dspy_program, dspy)
        queries.corpus_fingerprint = corpus.fingerprint()  # a shard's queries are for the whole corpus
        _require_queries(queries, target)
        return queries
    backend = make_backend(generator)
    template = prepare_template(prompt, num_examples, corpus, backend, config, examples_from)
    run = generate_queries(target, backend, template, config, checkpoint_root=root, store=open_query_store(query_store),
                           run_label=current_run_label())
    if run.resumed_from:  # the checkpoint's lineage: whose work this run continues
        log_metadata(metadata={"checkpoint": run.checkpoint, "resumed_from": run.resumed_from,
                               "documents_resumed": run.figures["documents_resumed"]})
    queries = run.queries
    queries.corpus_fingerprint = corpus.fingerprint()  # a shard's queries are for the whole corpus

    log_params({"prompt": template.full_id, "num_examples": len(template.selected_examples()),
                **{f"generator_{k}": v for k, v in backend.describe().items()},
                **{k: v for k, v in vars(config).items()}}, prefix="generation.")
    if queries.fewshot_query_ids:
        logger.info("Few-shot example query ids (excluded from evaluation): %s", queries.fewshot_query_ids)
    _record(queries, run.figures)
    _require_queries(queries, target)
    return queries


def _require_queries(queries: SyntheticQueries, corpus: Corpus) -> None:
    """No queries, or only empty ones, from a non-empty corpus: the run fails here, not downstream."""
    written = sum(1 for q in queries if q.query.strip())
    require_output("generate_synthetic_queries", written, len(corpus), "non-empty queries",
                   "the generator wrote nothing usable; check the prompt, decoding.max_new_tokens and the generator")


def _generate_with_dspy(corpus, prompt, num_examples, generator, config, root, query_program, dspy_program, options):
    from synthir.generation.dspy_programs import generate_queries_with_program, make_dspy_lm, program_kind, zero_shot_or_seeded

    options = DSPyOptions.from_dict(options)
    if query_program is not None:
        program = query_program
    elif dspy_program:
        program = CompiledQueryProgram.load(dspy_program)
    else:
        program = zero_shot_or_seeded(program_kind(prompt), load_prompt("inpars"), num_examples or 0)
    if prompt.startswith("dspy-") and program_kind(prompt) != program.kind:
        raise ValueError(f"prompt {prompt!r} asks for a dspy-{program_kind(prompt)} program, but the program "
                         f"given ({dspy_program or 'query_program artifact'}) is dspy-{program.kind}")
    max_tokens = options.max_tokens
    lm, backend = make_dspy_lm(generator, max_tokens=max_tokens)
    fallback_prompt = options.fallback_prompt
    fallback = load_prompt(fallback_prompt, num_examples=2) if fallback_prompt else None
    run = generate_queries_with_program(corpus, program, lm, config, backend=backend, fallback_template=fallback,
                                        checkpoint_root=root, retries=options.retries,
                                        max_tokens=max_tokens)
    log_params({"prompt": program.prompt_id, "dspy_kind": program.kind, "dspy_demos": len(program.demos),
                "dspy_fallback_prompt": fallback.full_id if fallback else "none",
                **{f"generator_{k}": v for k, v in generator.model_dump().items() if k != "api_key"},
                **{k: v for k, v in vars(config).items()}}, prefix="generation.")
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(program.save(Path(tmp) / "query_program") / "program.json", "generation")
    figures = run.figures
    if figures.get("dspy_fallbacks") or figures.get("dspy_failed"):
        logger.warning("DSPy %s: %d fallback(s) to the static template, %d failed (of %d documents)", program.prompt_id,
                       int(figures["dspy_fallbacks"]), int(figures["dspy_failed"]), int(figures["documents"]))
    _record(run.queries, figures)
    return run.queries


def _record(queries: SyntheticQueries, figures: Dict[str, float]) -> None:
    """Figures, tags and the queries (InPars JSONL) to MLflow; figures to the artifact's metadata."""
    record_figures(figures, prefix="generation.", prompt_id=queries.prompt_id, generator=queries.generator)
    set_tags({"generator": queries.generator, "prompt_id": queries.prompt_id})
    if len(queries) <= MAX_ROWS_LOGGED_TO_MLFLOW:
        with tempfile.TemporaryDirectory() as tmp:
            log_artifact(write_inpars_jsonl(queries, Path(tmp) / "synthetic_queries.inpars.jsonl"), "generation")
    logger.info("Generated %d queries for %d documents (%.2f docs/s, empty rate %.3f)", len(queries),
                int(figures["documents"]), figures["docs_per_s"], figures["empty_rate"])


def open_query_store(location: Optional[str]):
    """The query store at ``location`` (``artifact_store``: under the active stack's artifact store)."""
    from synthir.generation.query_store import QueryStore

    if not location:
        return None
    if location == "artifact_store":
        from zenml.client import Client

        location = f"{Client().active_stack.artifact_store.path.rstrip('/')}/synthir/query_store"
    return QueryStore(location)


def current_run_label() -> str:
    """``<run name> (<run id>)`` of the pipeline run this step belongs to."""
    from zenml import get_step_context

    run = get_step_context().pipeline_run
    return f"{run.name} ({run.id})"
