"""DSPy query generation: document -> (reasoning) -> query, over a whole corpus.

This module runs a program over a corpus (checkpointed like any generation run) and is the facade
for the pieces, each in its own module:

- ``dspy_signature``: ``GenerateQuery`` is the signature; ``build_program("predict" | "cot")`` gives a zero-shot
  ``dspy.Predict`` or ``dspy.ChainOfThought`` module over it.
- ``dspy_lm``: ``LocalTransformersLM`` is a ``dspy.LM`` (so a ``dspy.BaseLM``) whose engine runs our
  ``TransformersGenerator``: bf16, batched, the shared prompt prefix's KV cache reused. Any endpoint
  DSPy reaches through LiteLLM works too (``make_dspy_lm({"backend": "litellm", ...})``).
- ``dspy_adapter``: ``PrefilledChatAdapter`` starts the assistant turn with the first output field's header: small
  models (SmolLM2-135M) rarely produce DSPy's ``[[ ## field ## ]]`` layout unprompted, and almost
  always do once it is begun for them.
- ``dspy_predict``: ``predict_queries`` runs a program over many documents in batches (DSPy's own per-call loop would
  redo the few-shot prefix for every document). An output DSPy cannot parse, an empty query, or an
  echo of a demo's query is retried with sampling, then handed to the static-template fallback;
  every retry and fallback is counted, and nothing raises.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from synthir.data.records import Corpus, Document
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.generation.dspy_adapter import PrefilledChatAdapter  # noqa: F401  (the facade's members)
from synthir.generation.dspy_config import DSPyOptions  # noqa: F401  (re-exported)
from synthir.generation.dspy_lm import LocalTransformersLM, TransformersEngine, complete_batch, make_dspy_lm  # noqa: F401
from synthir.generation.dspy_predict import (  # noqa: F401
    ProgramOutput,
    ProgramRunStats,
    parse_output,
    predict_queries,
    static_fallback,
)
from synthir.generation.dspy_signature import (  # noqa: F401
    COMPLETED_MARKER,
    PROGRAM_KINDS,
    GenerateQuery,
    build_program,
    program_kind,
    seed_demos,
    the_predictor,
)
from synthir.generation.generate import (
    GenerationRun,
    QueryGenerationConfig,
    config_hash,
    generation_figures,
    run_sharded,
    sample_documents,
)
from synthir.generation.prompts import PromptTemplate
from synthir.generation.query_program import CompiledQueryProgram  # noqa: F401  (re-exported)


def source_figures(rows: Sequence[SyntheticQuery]) -> dict[str, float]:
    """How each DSPy query was obtained (first try, repair, retry, fallback, failed), from the rows
    themselves so that documents resumed from checkpoint shards count too."""
    n = len(rows) or 1
    sources: dict[str, int] = {}
    problems: dict[str, int] = {}
    for row in rows:
        sources[row.extra.get("source", "dspy")] = sources.get(row.extra.get("source", "dspy"), 0) + 1
        if row.extra.get("problem"):
            problems[row.extra["problem"]] = problems.get(row.extra["problem"], 0) + 1
    return {"dspy_first_try_rate": sources.get("dspy", 0) / n, "dspy_repaired": float(sources.get("repair", 0)),
            "dspy_retry_successes": float(sources.get("retry", 0)), "dspy_fallbacks": float(sources.get("fallback", 0)),
            "dspy_fallback_rate": sources.get("fallback", 0) / n, "dspy_failed": float(sources.get("failed", 0)),
            **{f"dspy_problem_{k}": float(v) for k, v in sorted(problems.items())}}


def document_truncation(backend, max_doc_tokens: int) -> Callable[[str], str]:
    """Truncation to the generator's tokens on a local backend; words stand in for tokens on endpoints."""
    if backend is not None:
        return lambda text: backend.truncate(text, max_doc_tokens)
    return lambda text: " ".join(text.split()[:max_doc_tokens])


def generate_queries_with_program(
    corpus: Corpus,
    compiled: CompiledQueryProgram,
    lm,
    config: QueryGenerationConfig,
    backend=None,
    fallback_template: PromptTemplate | None = None,
    checkpoint_root: str | Path | None = None,
    retries: int = 1,
    max_tokens: int = 128,
    show_progress: bool = True,
) -> GenerationRun:
    """``generate_queries`` for a DSPy program: same document sample, checkpoint shards and resume.

    Each row's ``extra`` says how its query was obtained (``source``: dspy, repair, retry, fallback,
    failed), why a first attempt was rejected (``problem``) and the program's ``reasoning``."""
    if config.queries_per_doc != 1:
        raise ValueError(f"decoding.queries_per_doc: DSPy prompts write one query per document, got {config.queries_per_doc}")
    sample = sample_documents(corpus, config.max_generations, config.seed)
    program = compiled.to_program()
    adapter = PrefilledChatAdapter()
    generator = backend.name if backend is not None else str(getattr(lm, "model", "lm"))
    fallback = static_fallback(fallback_template, lm, backend, config.max_new_tokens) if fallback_template else None
    describe = backend.output_settings() if backend is not None else {"model": generator}
    run_hash = config_hash(config.output_settings(), compiled.prompt_id, fallback_template.full_id if fallback_template else "",
                           describe, retries, max_tokens, corpus.fingerprint())
    demo_ids = [f"demo-{i}" for i in range(len(compiled.demos))]

    truncate = document_truncation(backend, config.max_doc_tokens)

    def produce(shard_docs: list[Document], advance) -> list[SyntheticQuery]:
        outputs, _ = predict_queries(program, lm, [truncate(d.contents) for d in shard_docs], fallback=fallback,
                                     adapter=adapter, retries=retries, seed=config.seed, max_tokens=max_tokens)
        advance(len(shard_docs))
        return [SyntheticQuery(doc_id=doc.doc_id, query=out.query, log_probs=[], prompt_id=compiled.prompt_id,
                               generator=generator, doc_text=doc.contents, fewshot_examples=demo_ids,
                               extra={"index": 0, "source": out.source, "problem": out.problem,
                                      "reasoning": out.reasoning})
                for doc, out in zip(shard_docs, outputs)]

    checkpoint = Path(checkpoint_root) / run_hash if checkpoint_root else None
    rows, generated_docs, seconds = run_sharded(sample.documents, produce, config.shard_size, checkpoint,
                                                show_progress=show_progress, desc=f"Generating queries ({compiled.prompt_id})")
    figures = {**generation_figures(rows, generated_docs, seconds, sample), **source_figures(rows)}
    queries = SyntheticQueries(rows, generator=generator, prompt_id=compiled.prompt_id,
                               corpus_fingerprint=corpus.fingerprint(), config_hash=run_hash, stats=figures)
    return GenerationRun(queries, figures)


def zero_shot_or_seeded(kind: str, template: PromptTemplate | None, num_examples: int) -> CompiledQueryProgram:
    """The uncompiled program for ``prompt: dspy-<kind>``: zero-shot, or with ``num_examples`` of the
    template's few-shot examples (and their hand-written reasoning) as demos."""
    program = build_program(kind)
    if template is not None and num_examples:
        the_predictor(program).demos = seed_demos(template.examples[:num_examples], kind)
    return CompiledQueryProgram.from_program(program, kind, optimiser={"optimiser": "none", "seed_examples": num_examples})
