"""DSPy query generation: document -> (reasoning) -> query.

- ``GenerateQuery`` is the signature; ``build_program("predict" | "cot")`` gives a zero-shot
  ``dspy.Predict`` or ``dspy.ChainOfThought`` module over it.
- ``LocalTransformersLM`` is a ``dspy.LM`` (so a ``dspy.BaseLM``) whose engine runs our
  ``TransformersGenerator``: bf16, batched, the shared prompt prefix's KV cache reused. Any endpoint
  DSPy reaches through LiteLLM works too (``make_dspy_lm({"backend": "litellm", ...})``).
- ``PrefilledChatAdapter`` starts the assistant turn with the first output field's header: small
  models (SmolLM2-135M) rarely produce DSPy's ``[[ ## field ## ]]`` layout unprompted, and almost
  always do once it is begun for them.
- ``predict_queries`` runs a program over many documents in batches (DSPy's own per-call loop would
  redo the few-shot prefix for every document). An output DSPy cannot parse, an empty query, or an
  echo of a demo's query is retried with sampling, then handed to the static-template fallback;
  every retry and fallback is counted, and nothing raises.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import dspy
from dspy.lm15 import Message, Response, TextPart, Usage
from pydantic import Field

from synthir.config import ConfigBlock, ConfigError
from synthir.data.io import atomic_write
from synthir.data.records import Corpus, Document
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.generation.backends.base import DecodingParams
from synthir.generation.generate import (
    GenerationRun,
    QueryGenerationConfig,
    config_hash,
    generation_figures,
    run_sharded,
    sample_documents,
)
from synthir.generation.prompts import FewShotExample, PromptTemplate
from synthir.quality.text import ngram_share

logger = logging.getLogger(__name__)

PROGRAM_KINDS = ("predict", "cot")
COMPLETED_MARKER = "[[ ## completed ## ]]"


class GenerateQuery(dspy.Signature):
    """Write a short search query that a user would type to find this document. Ask about what the
    document is about; do not copy sentences from it."""

    document: str = dspy.InputField(desc="the document")
    query: str = dspy.OutputField(desc="a short search query that this document answers")


def build_program(kind: str) -> dspy.Module:
    """A zero-shot program: ``predict`` (document -> query) or ``cot`` (document -> reasoning -> query)."""
    if kind == "predict":
        return dspy.Predict(GenerateQuery)
    if kind == "cot":
        return dspy.ChainOfThought(GenerateQuery)
    raise ValueError(f"DSPy program kind must be one of {PROGRAM_KINDS}, got {kind!r}")


def program_kind(prompt: str) -> str:
    """``dspy-cot`` -> ``cot``, ``dspy-predict`` -> ``predict``."""
    kind = prompt.removeprefix("dspy-")
    if not prompt.startswith("dspy-") or kind not in PROGRAM_KINDS:
        raise ValueError(f"a DSPy prompt is one of {[f'dspy-{k}' for k in PROGRAM_KINDS]}, got {prompt!r}")
    return kind


def the_predictor(program: dspy.Module) -> dspy.Predict:
    predictors = program.predictors()
    if len(predictors) != 1:
        raise ValueError(f"expected a program with one predictor, found {len(predictors)}")
    return predictors[0]


def seed_demos(examples: Sequence[FewShotExample], kind: str) -> list[dspy.Example]:
    """Few-shot examples of a static template as labelled DSPy demos (with their reasoning for CoT)."""
    demos = []
    for example in examples:
        fields = {"document": example.document, "query": example.query}
        if kind == "cot":
            fields["reasoning"] = example.reasoning or "This is what the document is about."
        demos.append(dspy.Example(**fields).with_inputs("document"))
    return demos


# --- the LM: a DSPy engine over our transformers backend -------------------------------------------

def _request_messages(request) -> list[dict[str, str]]:
    messages = []
    if request.system is not None:
        system = request.system if isinstance(request.system, str) else "".join(p.text for p in request.system)
        messages.append({"role": "system", "content": system})
    messages.extend({"role": m.role, "content": m.text or ""} for m in request.messages)
    return messages


class TransformersEngine:
    """DSPy engine (``complete(Request) -> Response``) running a local ``TransformersGenerator``."""

    def __init__(self, backend, default_max_tokens: int = 128):
        self.backend = backend
        self.default_max_tokens = default_max_tokens

    def render(self, messages: list[dict[str, str]]) -> str:
        """Chat-template text; a final assistant message is continued, not closed (prefill)."""
        tokenizer = self.backend.tokenizer
        continue_final = messages[-1]["role"] == "assistant"
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=not continue_final,
                                                 continue_final_message=continue_final)
        # base models without a chat template: plain role-labelled text
        text = "".join(f"{m['role'].capitalize()}: {m['content']}\n\n" for m in messages)
        return text.removesuffix("\n\n") if continue_final else text + "Assistant: "

    def complete_batch(self, conversations: Sequence[list[dict[str, str]]], max_tokens: int | None = None,
                       temperature: float | None = None, stop: Sequence[str] = (), seed: int = 0) -> list[str]:
        """One completion per conversation. The longest common prefix of the rendered prompts (system
        message and demos) is passed as the backend's prefix, whose KV cache is computed once."""
        texts = [self.render(list(c)) for c in conversations]
        if len(texts) > 1:
            prefix = _common_prefix(texts)
        else:
            # one call at a time (DSPy optimisers): the turns before the last user message (system and
            # demos) are what the next call shares
            last_user = max((i for i, m in enumerate(conversations[0]) if m["role"] == "user"), default=0)
            history = self.render(list(conversations[0][:last_user])) if last_user else ""
            prefix = history if history and texts[0].startswith(history) else ""
        params = DecodingParams(max_new_tokens=max_tokens or self.default_max_tokens,
                                do_sample=bool(temperature), temperature=temperature or 1.0,
                                stop=list(stop) or [COMPLETED_MARKER], seed=seed)
        completions = self.backend.generate(prefix, [t[len(prefix):] for t in texts], params)
        return [outs[0].text for outs in completions]

    def complete(self, request) -> Response:
        config = request.config
        text = self.complete_batch([_request_messages(request)], config.max_tokens, config.temperature,
                                   tuple(config.stop or ()), config.seed or 0)[0]
        return Response(id=None, model=self.backend.name, message=Message.assistant([TextPart(text)]),
                        finish_reason="stop", usage=Usage(input_tokens=0, output_tokens=0, total_tokens=0))

    def stream(self, request):
        raise NotImplementedError("streaming is not supported by the local transformers engine")

    def close(self) -> None:
        pass


def _common_prefix(texts: Sequence[str]) -> str:
    """Longest common prefix, cut after its last newline (a cut inside a word would tokenize badly)."""
    first, last = min(texts), max(texts)
    n = 0
    while n < len(first) and first[n] == last[n]:
        n += 1
    cut = first.rfind("\n", 0, n)
    return first[: cut + 1] if cut >= 0 else ""


class LocalTransformersLM(dspy.LM):
    """A DSPy LM over a local transformers model (a ``dspy.BaseLM`` through ``dspy.LM``)."""

    def __init__(self, backend, max_tokens: int = 128, temperature: float = 0.0):
        super().__init__(model=f"local/{backend.name}", engine=TransformersEngine(backend, max_tokens),
                         cache=False, max_tokens=max_tokens, temperature=temperature, num_retries=0)
        self.backend = backend

    def complete_batch(self, conversations, max_tokens=None, temperature=None, stop=(), seed=0) -> list[str]:
        return self.engine.complete_batch(conversations, max_tokens or self.kwargs.get("max_tokens"), temperature,
                                          stop, seed)


class DSPyOptions(ConfigBlock):
    """``dspy:``: how a DSPy program's outputs are repaired, retried or replaced."""

    yaml_path = "dspy"
    retries: int = Field(1, ge=0, description="sampled retries after a rejected output and its repair")
    max_tokens: int = Field(128, ge=1, description="generated tokens per call (reasoning and query)")
    fallback_prompt: Optional[str] = Field("inpars", description="static template used when the model breaks the "
                                           "format; null: none (the query is left empty and counted as failed)")


def make_dspy_lm(spec: Any, max_tokens: int = 128):
    """The LM for a generator spec: ``backend: local`` (our engine; returns the backend too, for the
    static fallback) or ``backend: litellm`` (``model: openai/<name>``, ``api_base``, ``api_key``)."""
    from synthir.generation.backends import LiteLLMGenerator, LocalGenerator, as_generator_spec, make_backend

    spec = as_generator_spec(spec)
    if isinstance(spec, LiteLLMGenerator):
        options = spec.model_dump(exclude={"backend", "num_threads"}, exclude_none=True)
        lm = dspy.LM(cache=False, **{"max_tokens": max_tokens, **options})
        lm.num_threads = spec.num_threads  # concurrent requests in complete_batch
        return lm, None
    if not isinstance(spec, LocalGenerator):
        raise ConfigError("generator.backend: DSPy programs run on 'local' or 'litellm' (a served endpoint: "
                          "backend: litellm, model: openai/<name>, api_base: http://host:8000/v1)")
    backend = make_backend(spec)
    return LocalTransformersLM(backend, max_tokens=max_tokens), backend


def complete_batch(lm, conversations: Sequence[list[dict[str, str]]], temperature: float = 0.0, seed: int = 0,
                   max_tokens: int | None = None, num_threads: int | None = None) -> list[str]:
    """Completions for many conversations: batched on our engine, concurrent calls on any other LM."""
    if isinstance(lm, LocalTransformersLM):
        return lm.complete_batch(conversations, max_tokens, temperature, [COMPLETED_MARKER], seed)

    def one(messages):
        try:
            outputs = lm(messages=list(messages), temperature=temperature, stop=[COMPLETED_MARKER],
                         **({"max_tokens": max_tokens} if max_tokens else {}))
            first = outputs[0] if outputs else ""
            return first.get("text", "") if isinstance(first, dict) else str(first)
        except Exception as err:  # an endpoint error is a failed output, retried then replaced by the fallback
            logger.warning("LM call failed: %s", err)
            return ""

    with ThreadPoolExecutor(max_workers=num_threads or getattr(lm, "num_threads", 8)) as pool:
        return list(pool.map(one, conversations))


# --- the adapter -----------------------------------------------------------------------------------

class PrefilledChatAdapter(dspy.ChatAdapter):
    """ChatAdapter whose assistant turn starts with the first output field's header, and which repairs
    a chain of thought that never reaches its last field: small models often ramble on in the
    reasoning; the first paragraph of it is kept, the next header written for them, and the model
    asked again for the rest (one extra call)."""

    def __init__(self, prefill: bool = True, **kwargs):
        super().__init__(use_json_adapter_fallback=False, **kwargs)
        self.prefill = prefill

    @staticmethod
    def header(signature) -> str:
        return f"[[ ## {next(iter(signature.output_fields))} ## ]]\n"

    def format(self, signature, demos, inputs, prefill: str | None = None):
        messages = super().format(signature, demos, inputs)
        if self.prefill or prefill:
            messages.append({"role": "assistant", "content": prefill or self.header(signature)})
        return messages

    def parse(self, signature, completion: str):
        # endpoints that ignore the prefill write the header themselves
        if self.prefill and not completion.lstrip().startswith("[[ ##"):
            completion = self.header(signature) + completion
        return super().parse(signature, completion)

    def repair_prefill(self, signature, completion: str, max_words: int = 60) -> str | None:
        """For an output with a reasoning but no later field: its first paragraph plus the next header."""
        names = list(signature.output_fields)
        if len(names) < 2 or names[0] != "reasoning":
            return None
        text = completion if completion.lstrip().startswith("[[ ##") else self.header(signature) + completion
        body = text.split("[[ ## reasoning ## ]]", 1)[-1].split("[[ ##", 1)[0].strip()
        paragraph = " ".join(body.split("\n\n", 1)[0].split()[:max_words])
        if not paragraph:
            return None
        return f"[[ ## reasoning ## ]]\n{paragraph}\n\n[[ ## {names[1]} ## ]]\n"

    def parse_repaired(self, signature, prefill: str, completion: str):
        return dspy.ChatAdapter.parse(self, signature, prefill + completion)

    def __call__(self, lm, lm_kwargs, signature, demos, inputs):
        from dspy.utils.exceptions import AdapterParseError

        try:
            return super().__call__(lm, lm_kwargs, signature, demos, inputs)
        except AdapterParseError as err:
            prefill = self.repair_prefill(signature, str(err.lm_response or ""))
            if prefill is None:
                raise
            outputs = lm(messages=self.format(signature, demos, inputs, prefill=prefill), **lm_kwargs)
            first = outputs[0] if outputs else ""
            text = first.get("text", "") if isinstance(first, dict) else str(first)
            return [self.parse_repaired(signature, prefill, text)]


# --- batched prediction with retry and fallback ----------------------------------------------------

@dataclass
class ProgramOutput:
    query: str
    reasoning: str = ""
    source: str = "dspy"  # dspy | repair | retry | fallback | failed
    problem: str = ""  # why the first attempt was rejected


@dataclass
class ProgramRunStats:
    documents: int = 0
    first_try_ok: int = 0
    repaired: int = 0
    retried: int = 0
    retry_ok: int = 0
    fallbacks: int = 0
    failed: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, float]:
        n = self.documents or 1
        return {"dspy_documents": float(self.documents), "dspy_first_try_rate": self.first_try_ok / n,
                "dspy_repaired": float(self.repaired), "dspy_retries": float(self.retried), "dspy_retry_successes": float(self.retry_ok),
                "dspy_fallbacks": float(self.fallbacks), "dspy_fallback_rate": self.fallbacks / n,
                "dspy_failed": float(self.failed),
                **{f"dspy_problem_{k}": float(v) for k, v in sorted(self.problems.items())}}


_TEMPLATE_ECHO = re.compile(r"\{\w+\}|\[\[|\]\]|\[#")


def _first_line(text: str) -> str:
    return " ".join(next((line for line in str(text).splitlines() if line.strip()), "").split())


def parse_output(adapter: PrefilledChatAdapter, signature, completion: str, demo_queries: set[str],
                 prefill: str | None = None) -> tuple[ProgramOutput | None, str]:
    """The query (and reasoning) in a completion, or None and why it was rejected."""
    try:
        fields = adapter.parse_repaired(signature, prefill, completion) if prefill else adapter.parse(signature, completion)
    except Exception:  # AdapterParseError and anything a malformed output provokes in the parser
        return None, "unparseable"
    query = _first_line(fields.get("query", ""))
    if not query:
        return None, "empty_query"
    if _TEMPLATE_ECHO.search(query):
        return None, "template_echo"  # the format's placeholders ({query}, [[ ## ... ## ]]) written back
    if any(ngram_share(query, demo, 2) >= 0.5 for demo in demo_queries):
        return None, "demo_echo"  # most of a demo's query again: small models copy the last demo
    return ProgramOutput(query, " ".join(str(fields.get("reasoning", "")).split())), ""


def predict_queries(
    program: dspy.Module,
    lm,
    documents: Sequence[str],
    fallback: Callable[[list[str]], list[str]] | None = None,
    adapter: dspy.ChatAdapter | None = None,
    retries: int = 1,
    retry_temperature: float = 0.7,
    seed: int = 0,
    max_tokens: int | None = None,
) -> tuple[list[ProgramOutput], ProgramRunStats]:
    """Run ``program`` over ``documents`` (already truncated) in one batch; never raises on bad outputs.

    Rejected outputs go through, in order: the chain-of-thought repair (keep the reasoning's first
    paragraph, write the query header), ``retries`` sampled attempts, then ``fallback``."""
    adapter = adapter or PrefilledChatAdapter()
    predictor = the_predictor(program)
    signature, demos = predictor.signature, list(predictor.demos)
    demo_queries = {_first_line(d.get("query", "")) for d in demos}
    conversations = [adapter.format(signature, demos, {"document": text}) for text in documents]
    stats = ProgramRunStats(documents=len(documents))
    results: list[ProgramOutput | None] = [None] * len(documents)
    problems: dict[int, str] = {}
    todo = list(range(len(documents)))
    prefills: dict[int, str] = {}
    raw: dict[int, str] = {}  # the greedy completions, which the repair continues
    # attempt 0: greedy; "repair": continue the reasoning that never reached the query; then sampled retries
    for attempt in [0, "repair", *range(1, retries + 1)]:
        if attempt == "repair":
            prefills = {i: p for i in todo if (p := adapter.repair_prefill(signature, raw[i])) is not None}
            batch = [i for i in todo if i in prefills]
            if not batch:
                continue
            convs = [adapter.format(signature, demos, {"document": documents[i]}, prefill=prefills[i]) for i in batch]
            texts = complete_batch(lm, convs, seed=seed, max_tokens=max_tokens)
        else:
            batch = todo
            texts = complete_batch(lm, [conversations[i] for i in batch], temperature=0.0 if attempt == 0 else retry_temperature,
                                   seed=seed + attempt, max_tokens=max_tokens)
        if attempt == 0:
            raw.update(zip(batch, texts))
        elif attempt != "repair":
            stats.retried += len(batch)
        still = []
        for i, text in zip(batch, texts):
            output, problem = parse_output(adapter, signature, text, demo_queries,
                                           prefill=prefills.get(i) if attempt == "repair" else None)
            if output is None:
                problems.setdefault(i, problem)
                still.append(i)
                continue
            output.source, output.problem = ("dspy", "") if attempt == 0 else (
                "repair" if attempt == "repair" else "retry", problems.get(i, ""))
            results[i] = output
        if attempt == 0:
            stats.first_try_ok = len(batch) - len(still)
            for i in still:
                stats.problems[problems[i]] = stats.problems.get(problems[i], 0) + 1
        elif attempt == "repair":
            stats.repaired += len(batch) - len(still)
        else:
            stats.retry_ok += len(batch) - len(still)
        todo = [i for i in todo if results[i] is None]
        if not todo:
            break
    if todo:
        replacements = fallback([documents[i] for i in todo]) if fallback else [""] * len(todo)
        for i, query in zip(todo, replacements):
            source = "fallback" if query else "failed"
            results[i] = ProgramOutput(query, "", source, problems[i])
        stats.fallbacks += sum(1 for i in todo if results[i].source == "fallback")
        stats.failed += sum(1 for i in todo if results[i].source == "failed")
        logger.warning("DSPy program: %d of %d output(s) unusable after %d retry(ies) (%s); %s", len(todo),
                       len(documents), retries, ", ".join(f"{k}={v}" for k, v in sorted(stats.problems.items())),
                       "static-template fallback used" if fallback else "no fallback: left empty")
    return [r for r in results if r is not None], stats


def static_fallback(template: PromptTemplate, lm, backend=None, max_new_tokens: int = 64) -> Callable[[list[str]], list[str]]:
    """Queries from a static few-shot template: raw completion on a local backend, one chat turn otherwise."""

    def generate(documents: list[str]) -> list[str]:
        if backend is not None:
            params = DecodingParams(max_new_tokens=max_new_tokens, stop=template.stop)
            outs = backend.generate(template.prefix(), [template.target(d) for d in documents], params)
            return [template.parse(o[0].text)[0] for o in outs]
        prompts = [[{"role": "user", "content": template.render(d)}] for d in documents]
        texts = complete_batch(lm, prompts, max_tokens=max_new_tokens)
        return [template.parse(t.lstrip())[0] for t in texts]

    return generate


# --- the compiled program artifact -----------------------------------------------------------------

@dataclass
class CompiledQueryProgram:
    """A DSPy query program (zero-shot or compiled) plus where it came from. Saved as DSPy's own JSON
    state (``program.json``, loadable with ``dspy.ChainOfThought(GenerateQuery).load(...)``) and ``meta.json``."""

    kind: str
    state: dict[str, Any]
    generator: str = ""
    optimiser: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    corpus_fingerprint: str = ""

    @classmethod
    def from_program(cls, program: dspy.Module, kind: str, **meta: Any) -> CompiledQueryProgram:
        return cls(kind=kind, state=program.dump_state(), **meta)

    def to_program(self) -> dspy.Module:
        program = build_program(self.kind)
        program.load_state(self.state)
        return program

    @property
    def demos(self) -> list[dict[str, Any]]:
        return [dict(d) for p in self.state.values() if isinstance(p, dict) for d in p.get("demos", [])]

    @property
    def version_id(self) -> str:
        """A short content hash: the prompt id generated queries carry (``dspy-cot@<hash>``)."""
        payload = json.dumps([self.kind, self.state], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:10]

    @property
    def prompt_id(self) -> str:
        return f"dspy-{self.kind}@{self.version_id}"

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        program = self.to_program()
        # DSPy writes the JSON itself (with its dependency versions); write to a temp name, then rename
        tmp = folder / "program.json.tmp.json"
        program.save(str(tmp))
        tmp.replace(folder / "program.json")
        meta = {"kind": self.kind, "generator": self.generator, "optimiser": self.optimiser, "figures": self.figures,
                "corpus_fingerprint": self.corpus_fingerprint, "prompt_id": self.prompt_id}
        with atomic_write(folder / "meta.json") as out:
            json.dump(meta, out, indent=2, default=str)
        return folder

    @classmethod
    def load(cls, path: str | Path) -> CompiledQueryProgram:
        """From a folder written by ``save`` (or a bare DSPy ``program.json`` plus ``kind`` in meta)."""
        path = Path(path)
        folder = path.parent if path.is_file() else path
        program_file = path if path.is_file() else folder / "program.json"
        if not program_file.exists():
            raise FileNotFoundError(f"{program_file}: no DSPy program state (expected program.json from an optimise_prompt run)")
        meta_file = folder / "meta.json"
        meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
        state = json.loads(program_file.read_text(encoding="utf-8"))
        state.pop("metadata", None)
        kind = meta.get("kind") or ("cot" if any("reasoning" in json.dumps(v) for v in state.values()) else "predict")
        if kind not in PROGRAM_KINDS:
            raise ValueError(f"{meta_file}: kind must be one of {PROGRAM_KINDS}, got {kind!r}")
        program = build_program(kind)
        try:
            program.load_state(state)
        except Exception as err:
            raise ValueError(f"{program_file}: not the state of a dspy-{kind} query program: {err}") from None
        return cls(kind=kind, state=program.dump_state(), generator=meta.get("generator", ""),
                   optimiser=meta.get("optimiser", {}), figures=meta.get("figures", {}),
                   corpus_fingerprint=meta.get("corpus_fingerprint", ""))


# --- generation over a corpus ----------------------------------------------------------------------

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
