"""Generate synthetic queries for a corpus: sample documents, render prompts, call a backend,
checkpoint shards, resume.

Checkpoints: every ``shard_size`` documents the finished queries are written atomically to
``<checkpoint_dir>/shard-NNNNN.jsonl``. A run started again with the same configuration (same
checkpoint folder) reads the shards, skips the documents they cover and generates only the rest.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from pydantic import Field
from tqdm.auto import tqdm

from synthir.config import ConfigBlock, config_hash
from synthir.data.io import atomic_write
from synthir.data.records import Corpus, Document, stable_order
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.generation.backends.base import DecodingParams, GeneratorBackend
from synthir.generation.prompts import PromptTemplate
from synthir.generation.query_store import QueryStore

logger = logging.getLogger(__name__)


class DecodingConfig(ConfigBlock):
    """``decoding:``: how each document becomes a prompt and how its queries are sampled."""

    yaml_path = "decoding"
    max_doc_tokens: int = Field(256, ge=1, description="documents are truncated to this many generator tokens before prompting")
    queries_per_doc: int = Field(1, ge=1, description="queries generated per document (sampled when > 1 and do_sample)")
    max_new_tokens: int = Field(64, ge=1, description="generated tokens per query")
    do_sample: bool = Field(False, description="sample (true) or decode greedily (false)")
    temperature: float = Field(1.0, gt=0, description="sampling temperature")
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling mass")
    shard_size: int = Field(64, ge=1, description="documents per checkpoint shard (does not change the output)")
    keep_prompt_text: bool = Field(False, description="store the full prompt on each row (large; the InPars format has it)")


class QueryGenerationConfig(DecodingConfig):
    """``decoding:`` plus the run's sample: how many documents, drawn with which seed."""

    max_generations: Optional[int] = Field(100, ge=1, description="documents to generate for; null: all")
    seed: int = Field(42, description="document sampling and decoding seed")
    budget_s: Optional[float] = Field(None, gt=0, description="stop starting shards after this many seconds; the "
                                      "checkpoint and the query store let the next run continue")

    def output_settings(self) -> dict:
        """Every setting that can change the generated rows: the checkpoint key leaves out
        ``shard_size``, which only decides how often a checkpoint is written, and ``budget_s``, which
        only decides how far this run gets (the next one continues in the same checkpoint)."""
        return self.model_dump(exclude={"shard_size", "budget_s"})

    def decoding(self, stop: list[str]) -> DecodingParams:
        return DecodingParams(max_new_tokens=self.max_new_tokens, do_sample=self.do_sample,
                              temperature=self.temperature, top_p=self.top_p,
                              num_return_sequences=self.queries_per_doc, stop=stop, seed=self.seed)


@dataclass
class SampledDocuments:
    documents: list[Document]
    skipped_empty: int
    corpus_size: int


def sample_documents(corpus: Corpus, max_generations: int | None, seed: int) -> SampledDocuments:
    """A seeded sample of non-empty documents (empty ones are skipped and counted): the first
    ``max_generations`` in the order of a hash of (seed, id), so a document's membership does not
    depend on the others' order and adding 1% of documents changes about 1% of the sample."""
    non_empty = [d.doc_id for d in corpus if d.text.strip() or d.title.strip()]  # ids: the records stay in the corpus
    skipped = len(corpus) - len(non_empty)
    if skipped:
        logger.warning("%d empty document(s) skipped", skipped)
    order = stable_order(non_empty, seed)
    chosen = [corpus[d] for d in (order[:max_generations] if max_generations is not None else order)]
    return SampledDocuments(chosen, skipped, len(corpus))


@dataclass
class GenerationRun:
    """What ``generate_queries`` returns besides the queries: figures for logs and MLflow, and the
    checkpoint it wrote to with the earlier runs that wrote there (a resumed run names the run it resumes)."""

    queries: SyntheticQueries
    figures: dict[str, float] = field(default_factory=dict)
    checkpoint: str | None = None
    resumed_from: list[str] = field(default_factory=list)


def store_key(config: QueryGenerationConfig, template: PromptTemplate, backend: GeneratorBackend) -> str:
    """The query store's generation key: everything that changes a document's queries. Not the sample
    (``max_generations``), nor the seed when decoding is greedy (it then changes nothing)."""
    settings = config.output_settings()
    settings.pop("max_generations")
    if not config.do_sample:
        settings.pop("seed")
    return config_hash(settings, template.full_id, [e.id for e in template.selected_examples()],
                       backend.output_settings())


def generate_queries(
    corpus: Corpus,
    backend: GeneratorBackend,
    template: PromptTemplate,
    config: QueryGenerationConfig,
    checkpoint_root: str | Path | None = None,
    show_progress: bool = True,
    on_shard: Callable[[int, int], None] | None = None,
    store: QueryStore | None = None,
    run_label: str | None = None,
) -> GenerationRun:
    """Queries for a seeded sample of the corpus; checkpoints under ``checkpoint_root/<run hash>``.
    With a ``store``, documents whose content already has queries under the same generation key
    reuse them, and only the rest are generated (then stored). ``run_label`` (the pipeline run) is
    written into the checkpoint folder's history before any shard, so a later run that resumes
    from it can say whose work it continues."""
    sample = sample_documents(corpus, config.max_generations, config.seed)
    run_hash = config_hash(config.output_settings(), template.full_id, [e.id for e in template.selected_examples()],
                           backend.output_settings(), corpus.fingerprint())
    prefix = template.prefix()
    params = config.decoding(template.stop)
    fewshot_ids = [e.id for e in template.selected_examples()]
    key = store_key(config, template, backend) if store is not None else ""
    stored = store.lookup(key, sample.documents) if store is not None else {}
    to_generate = [d for d in sample.documents if d.doc_id not in stored]
    if stored:
        logger.info("Query store: %d of %d sampled documents reuse stored queries; generating %d", len(stored),
                    len(sample.documents), len(to_generate))

    def produce(shard_docs: list[Document], advance: Callable[[int], object]) -> list[SyntheticQuery]:
        targets = [template.target(backend.truncate(d.contents, config.max_doc_tokens)) for d in shard_docs]
        completions = backend.generate(prefix, targets, params, on_batch=advance)
        rows: list[SyntheticQuery] = []
        for doc, target, outs in zip(shard_docs, targets, completions):
            for index, completion in enumerate(outs):
                query, extra = template.parse(completion.text)
                rows.append(SyntheticQuery(
                    doc_id=doc.doc_id, query=query, log_probs=completion.token_logprobs,
                    prompt_id=template.full_id, generator=backend.name, doc_text=doc.contents,
                    prompt_text=prefix + target if config.keep_prompt_text else "",
                    fewshot_examples=fewshot_ids, extra={"index": index, **extra},
                ))
        return rows

    checkpoint = Path(checkpoint_root) / run_hash if checkpoint_root else None
    earlier = record_writer(checkpoint, run_label) if checkpoint is not None else []
    generated, generated_docs, seconds = run_sharded(to_generate, produce, config.shard_size, checkpoint,
                                                     show_progress=show_progress, on_shard=on_shard,
                                                     budget_s=config.budget_s)
    if store is not None:
        store.add(key, {d.doc_id: d for d in to_generate}, generated)
    by_doc: dict[str, list[SyntheticQuery]] = {}
    for row in generated:
        by_doc.setdefault(row.doc_id, []).append(row)
    ordered = [row for d in sample.documents
               for row in sorted(stored.get(d.doc_id) or by_doc.get(d.doc_id, []), key=lambda r: r.extra.get("index", 0))]
    figures = generation_figures(ordered, generated_docs, seconds, sample)
    figures["documents_reused"] = float(len(stored))
    covered = {row.doc_id for row in generated}
    figures["documents_resumed"] = float(len(covered) - generated_docs)
    figures["documents_left_for_next_run"] = float(sum(1 for d in to_generate if d.doc_id not in covered))
    queries = SyntheticQueries(
        ordered, generator=backend.name, prompt_id=template.full_id, corpus_fingerprint=corpus.fingerprint(),
        config_hash=run_hash, fewshot_query_ids=fewshot_ids if template.kind == "promptagator" else [],
        stats=figures,
    )
    resumed_from = earlier if figures["documents_resumed"] else []
    if resumed_from:
        logger.info("Resumed %d document(s) from checkpoint %s, written by %s", int(figures["documents_resumed"]),
                    checkpoint, ", ".join(resumed_from))
    return GenerationRun(queries, figures, str(checkpoint) if checkpoint else None, resumed_from)


HISTORY_FILE = "runs.json"


def record_writer(checkpoint: Path, run_label: str | None) -> list[str]:
    """Add ``run_label`` to the checkpoint folder's history (atomically); returns the earlier writers."""
    history_path = checkpoint / HISTORY_FILE
    earlier = json.loads(history_path.read_text(encoding="utf-8")) if history_path.exists() else []
    label = run_label or f"pid {os.getpid()}"
    with atomic_write(history_path) as out:
        json.dump([*earlier, label], out)
    return [e for e in earlier if e != label]


Producer = Callable[[list[Document], Callable[[int], object]], list[SyntheticQuery]]


def run_sharded(
    documents: list[Document],
    produce: Producer,
    shard_size: int,
    checkpoint: Path | None,
    show_progress: bool = True,
    on_shard: Callable[[int, int], None] | None = None,
    desc: str = "Generating queries",
    budget_s: float | None = None,
) -> tuple[list[SyntheticQuery], int, float]:
    """Call ``produce(shard_documents, advance)`` shard by shard, writing each shard's rows atomically
    to ``checkpoint`` and skipping the documents earlier shards there cover. With ``budget_s``, no
    shard starts after that many seconds: the documents in order up to there get queries, and the
    rest are left to the next run (which resumes from the checkpoint).

    Returns the rows in document order, the number of documents generated now, and the seconds taken."""
    done = _read_shards(checkpoint) if checkpoint else {}
    todo = [d for d in documents if d.doc_id not in done]
    if done:
        logger.info("Resuming: %d document(s) already generated in %s, %d to go", len(done), checkpoint, len(todo))
    started = time.perf_counter()
    next_shard = _next_shard_index(checkpoint) if checkpoint else 0
    with tqdm(total=len(documents), initial=len(documents) - len(todo), desc=desc, unit="doc",
              disable=not show_progress) as bar:
        generated_now = 0
        for start in range(0, len(todo), shard_size):
            elapsed = time.perf_counter() - started
            if budget_s is not None and elapsed >= budget_s:
                logger.warning("Generation budget of %.0f s spent: %d of %d document(s) have queries, %d left for the "
                               "next run (it continues from this checkpoint and the query store)", budget_s,
                               len(documents) - len(todo) + generated_now, len(documents), len(todo) - generated_now)
                break
            if budget_s is not None and generated_now:  # the measured rate says how far the budget goes
                rate = generated_now / max(elapsed, 1e-9)
                logger.info("Generation budget: %.0f of %.0f s spent at %.2f documents/s; about %d more document(s) fit",
                            elapsed, budget_s, rate, int(rate * (budget_s - elapsed)))
            rows = produce(todo[start : start + shard_size], bar.update)
            generated_now += len(todo[start : start + shard_size])
            if checkpoint:
                _write_shard(checkpoint, next_shard, rows)
                next_shard += 1
            for row in rows:
                done.setdefault(row.doc_id, []).append(row)
            if on_shard:
                on_shard(len(done), len(documents))
    seconds = time.perf_counter() - started
    ordered = [row for d in documents for row in sorted(done.get(d.doc_id, []), key=lambda r: r.extra.get("index", 0))]
    return ordered, generated_now, seconds


def generation_figures(rows: list[SyntheticQuery], generated_docs: int, seconds: float, sample: SampledDocuments) -> dict[str, float]:
    lengths = [len(r.query.split()) for r in rows]
    tokens = sum(len(r.log_probs) for r in rows)
    empty = sum(1 for r in rows if not r.query)
    return {
        "documents": float(len(sample.documents)),
        "documents_generated_now": float(generated_docs),
        "queries": float(len(rows)),
        "skipped_empty_documents": float(sample.skipped_empty),
        "docs_per_s": generated_docs / seconds if seconds > 0 and generated_docs else 0.0,
        "tokens_per_s": tokens / seconds if seconds > 0 and generated_docs else 0.0,
        "mean_query_words": sum(lengths) / len(lengths) if lengths else 0.0,
        "empty_rate": empty / len(rows) if rows else 0.0,
        "seconds": seconds,
    }


def _shard_path(checkpoint: Path, index: int) -> Path:
    return checkpoint / f"shard-{index:05d}.jsonl"


def _next_shard_index(checkpoint: Path) -> int:
    existing = sorted(checkpoint.glob("shard-*.jsonl")) if checkpoint.exists() else []
    return int(existing[-1].stem.split("-")[1]) + 1 if existing else 0


def _write_shard(checkpoint: Path, index: int, rows: list[SyntheticQuery]) -> None:
    with atomic_write(_shard_path(checkpoint, index)) as out:
        for row in rows:
            out.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")


def _read_shards(checkpoint: Path) -> dict[str, list[SyntheticQuery]]:
    done: dict[str, list[SyntheticQuery]] = {}
    if not checkpoint.exists():
        return done
    for shard in sorted(checkpoint.glob("shard-*.jsonl")):
        for line in shard.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = SyntheticQuery(**json.loads(line))
                done.setdefault(row.doc_id, []).append(row)
    return done
