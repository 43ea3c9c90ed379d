"""Generating synthetic queries (the ``generate_synthetic_queries`` step's twin)."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, Optional

from synthir.config import seconds_of
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
from synthir.tracking import log_artifact, log_metrics, log_params, set_tags

logger = logging.getLogger(__name__)
MAX_ROWS_LOGGED_TO_MLFLOW = 100_000


class GeneratedQueries(NamedTuple):
    queries: SyntheticQueries
    metadata: dict[str, Any]


def generate_synthetic_queries(
    corpus: Corpus,
    prompt: str = "inpars",
    num_examples: Optional[int] = None,
    examples_from: Optional[str] = None,
    generator: Any = None,
    max_generations: Optional[int] = 100,
    seed: int = 42,
    decoding: DecodingConfig | dict | None = None,
    checkpoint_root: Optional[str | Path] = None,
    query_program: Optional[CompiledQueryProgram] = None,
    dspy_program: Optional[str] = None,
    dspy: DSPyOptions | dict | None = None,
    shard: Optional[list[int]] = None,
    store: Any = None,
    run_label: str = "",
    budget: str | float | None = None,
) -> GeneratedQueries:
    """Queries for a seeded sample of the corpus; resumes from checkpoint shards.

    ``prompt: dspy-cot`` / ``dspy-predict`` runs a DSPy program: ``query_program`` (compiled on the
    corpus), else the one saved at ``dspy_program``, else the uncompiled program (zero-shot, or seeded
    with ``num_examples`` InPars examples). ``dspy`` holds ``retries``, ``max_tokens`` and
    ``fallback_prompt``. ``shard: [index, count]`` generates only that round-robin share of the
    sample. ``store``: a ``QueryStore`` keeping queries per document, so a changed corpus generates
    only for its new or changed documents; ``run_label`` names this run in the checkpoint's lineage.
    ``budget`` (``30m``, ``2h``, seconds): generate for as many of the sampled documents as fit, in
    their stable order; the checkpoint and the store let the next run continue where this one stopped."""
    generator = as_generator_spec(generator or LocalGenerator())
    target = corpus
    if shard is not None:
        target = shard_corpus(corpus, max_generations, seed, *shard)
        max_generations = None
    config = QueryGenerationConfig(**DecodingConfig.from_dict(decoding).model_dump(), max_generations=max_generations,
                                   seed=seed, budget_s=seconds_of(budget))
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "generation"
    metadata: dict[str, Any] = {}
    if prompt.startswith("dspy-") or query_program is not None or dspy_program:
        queries, figures = _generate_with_dspy(target, prompt, num_examples, generator, config, root, query_program,
                                               dspy_program, dspy)
    else:
        backend = make_backend(generator)
        template = prepare_template(prompt, num_examples, corpus, backend, config, examples_from)
        run = generate_queries(target, backend, template, config, checkpoint_root=root, store=store, run_label=run_label)
        if run.resumed_from:  # the checkpoint's lineage: whose work this run continues
            metadata.update({"checkpoint": run.checkpoint, "resumed_from": run.resumed_from,
                             "documents_resumed": run.figures["documents_resumed"]})
        queries, figures = run.queries, run.figures
        log_params({"prompt": template.full_id, "num_examples": len(template.selected_examples()),
                    **{f"generator_{k}": v for k, v in backend.describe().items()},
                    **{k: v for k, v in vars(config).items()}}, prefix="generation.")
        if queries.fewshot_query_ids:
            logger.info("Few-shot example query ids (excluded from evaluation): %s", queries.fewshot_query_ids)
    queries.corpus_fingerprint = corpus.fingerprint()  # a shard's queries are for the whole corpus
    _record(queries, figures)
    written = sum(1 for q in queries if q.query.strip())
    require_output("generate_synthetic_queries", written, len(target), "non-empty queries",
                   "the generator wrote nothing usable; check the prompt, decoding.max_new_tokens and the generator")
    return GeneratedQueries(queries, {**metadata, **figures, "prompt_id": queries.prompt_id, "generator": queries.generator})


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
    lm, backend = make_dspy_lm(generator, max_tokens=options.max_tokens)
    fallback = load_prompt(options.fallback_prompt, num_examples=2) if options.fallback_prompt else None
    run = generate_queries_with_program(corpus, program, lm, config, backend=backend, fallback_template=fallback,
                                        checkpoint_root=root, retries=options.retries, max_tokens=options.max_tokens)
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
    return run.queries, figures


def _record(queries: SyntheticQueries, figures: dict[str, float]) -> None:
    """Figures, tags and the queries (InPars JSONL) to MLflow."""
    log_metrics(figures, prefix="generation.")
    set_tags({"generator": queries.generator, "prompt_id": queries.prompt_id})
    if len(queries) <= MAX_ROWS_LOGGED_TO_MLFLOW:
        with tempfile.TemporaryDirectory() as tmp:
            log_artifact(write_inpars_jsonl(queries, Path(tmp) / "synthetic_queries.inpars.jsonl"), "generation")
    logger.info("Generated %d queries for %d documents (%.2f docs/s, empty rate %.3f)", len(queries),
                int(figures["documents"]), figures["docs_per_s"], figures["empty_rate"])


class OptimisedProgram(NamedTuple):
    program: CompiledQueryProgram
    metadata: dict[str, Any]


def optimise_query_program(corpus: Corpus, generator: Any = None, optimisation: Any = None, metric: Any = None) -> OptimisedProgram:
    """Compile a DSPy query program on the corpus without labels: the metric rewards queries that
    retrieve their own source document and penalises copying it."""
    from synthir.generation.dspy_config import PromptOptimisationConfig, SelfRetrievalMetricConfig
    from synthir.generation.dspy_optimise import optimise_program  # DSPy only when the stage runs
    from synthir.generation.dspy_programs import document_truncation, make_dspy_lm

    generator = as_generator_spec(generator or LocalGenerator())
    config = PromptOptimisationConfig.from_dict(optimisation)
    metric_config = SelfRetrievalMetricConfig.from_dict(metric)
    lm, backend = make_dspy_lm(generator, max_tokens=config.max_tokens)
    seed_template = load_prompt(config.seed_prompt, num_examples=2)
    result = optimise_program(corpus, lm, config, metric_config, seed_template=seed_template,
                              truncate=document_truncation(backend, config.max_doc_tokens))
    program = result.program
    log_params({**vars(config), **{f"metric_{k}": v for k, v in vars(metric_config).items()},
                **{f"generator_{k}": v for k, v in generator.model_dump().items() if k != "api_key"}}, prefix="optimise_prompt.")
    log_metrics(result.figures, prefix="optimise_prompt.")
    set_tags({"query_program": program.prompt_id})
    with tempfile.TemporaryDirectory() as tmp:
        folder = program.save(Path(tmp) / "query_program")
        log_artifact(folder / "program.json", "optimise_prompt")
        log_artifact(folder / "meta.json", "optimise_prompt")
    logger.info("Query program %s: %d demo(s); dev metric %.3f (zero-shot %.3f), copy rate %.3f, self-retrieval@10 %.3f",
                program.prompt_id, len(program.demos), result.figures["dev_selected_metric"],
                result.figures.get("dev_zero_shot_metric", float("nan")), result.figures["dev_selected_copy_rate"],
                result.figures["dev_selected_self_retrieval_at_10"])
    return OptimisedProgram(program, {**result.figures, "prompt_id": program.prompt_id})


class Expanded(NamedTuple):
    corpus: Corpus  # the corpus with ``expansions``
    metadata: dict[str, Any]


def expand_documents(corpus: Corpus, expansion: Any = None, prompt: str = "inpars", num_examples: Optional[int] = None,
                     examples_from: Optional[str] = None, generator: Any = None, decoding: DecodingConfig | dict | None = None,
                     seed: int = 42, store: Any = None) -> Expanded:
    """``corpus`` with every passage's first-stage expansion (``synthir.retrieval.expansion``): the run's
    generator writes ``expansion.queries_per_document`` queries for each passage (its template prompt; a
    DSPy run's expansions use ``inpars``), checkpointed and kept in ``store`` like the training queries,
    and the least relevant share is dropped. Logged to a nested MLflow run ``expansion`` (its generation
    parameters differ from the training sample's); its figures and the expansions
    (``expansion/expansions.jsonl``, what a production index adds to each passage) go to the active run."""
    from synthir.retrieval.expansion import ExpansionConfig, select_expansions, write_expansions
    from synthir.tracking import child_run

    config = ExpansionConfig.from_dict(expansion)
    many = config.queries_per_document > 1
    decoding = DecodingConfig.from_dict(decoding)
    decoding = decoding.model_copy(update={"queries_per_doc": config.queries_per_document,
                                           "do_sample": many or decoding.do_sample,
                                           **({"temperature": config.temperature} if many else {})})
    template_prompt = "inpars" if prompt.startswith("dspy-") else prompt
    with child_run("expansion"):
        generated = generate_synthetic_queries(corpus, prompt=template_prompt, num_examples=num_examples,
                                               examples_from=examples_from, generator=generator, max_generations=None,
                                               seed=seed, decoding=decoding, store=store, run_label="expansion")
    expansions, figures = select_expansions(generated.queries, corpus, config)
    require_output("expand_documents", len(expansions), len(corpus), "expanded passages",
                   "no expansion query was kept; check the generator, or raise expansion.keep")
    log_params(config.model_dump(), prefix="expansion.")
    log_metrics(figures, prefix="expansion.")
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(write_expansions(expansions, Path(tmp) / "expansions.jsonl"), "expansion")
    return Expanded(corpus.with_expansions(expansions), figures)


class ExpandedCorpora(NamedTuple):
    training_corpus: Corpus
    evaluation_corpus: Corpus
    metadata: dict[str, Any]


def expand_corpora(training_corpus: Corpus, evaluation_corpus: Corpus, separate: bool = False, **options) -> ExpandedCorpora:
    """The training and evaluation corpora with their first-stage expansions (``expand_documents``, ``options``
    its parameters): every system of the gate re-ranks the same expanded BM25 run. One generation covers both
    when training's passages are the evaluation corpus's (judged and synthetic sources: held-out documents are
    expanded too, by the training generator, which never trains on them); ``separate`` (a golden collection):
    each is expanded on its own."""
    evaluation = expand_documents(evaluation_corpus, **options)
    if separate:
        training = expand_documents(training_corpus, **options)
        training_corpus, metadata = training.corpus, {**evaluation.metadata,
                                                      **{f"training_{k}": v for k, v in training.metadata.items()}}
    else:
        training_corpus, metadata = training_corpus.with_expansions(evaluation.corpus.expansions), evaluation.metadata
    return ExpandedCorpora(training_corpus, evaluation.corpus, metadata)
