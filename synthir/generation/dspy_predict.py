"""Batched prediction with a DSPy program: parse, reject echoes, repair, retry, fall back to a static
template, and count how each query was obtained."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dspy

from synthir.generation.backends.base import DecodingParams
from synthir.generation.dspy_adapter import PrefilledChatAdapter
from synthir.generation.dspy_lm import complete_batch
from synthir.generation.dspy_signature import the_predictor
from synthir.generation.prompts import PromptTemplate
from synthir.quality.text import ngram_share

logger = logging.getLogger(__name__)

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
