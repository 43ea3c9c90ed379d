"""A DSPy LM over our transformers backend (batched, the shared prefix's KV cache computed once), the
LiteLLM route for served models, and batched completion for any LM."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dspy
from dspy.lm15 import Message, Response, TextPart, Usage

from synthir.config import ConfigError
from synthir.generation.backends.base import DecodingParams
from synthir.generation.dspy_signature import COMPLETED_MARKER

logger = logging.getLogger(__name__)

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


def make_dspy_lm(spec: Any, max_tokens: int = 128):
    """The LM for a generator spec: ``backend: local`` (our engine; returns the backend too, for the
    static fallback) or ``backend: litellm`` (``model: openai/<name>``, ``api_base``, ``api_key``)."""
    from synthir.generation.backends import LiteLLMGenerator, LocalGenerator, as_generator_spec, make_backend, resolve_api_key

    spec = as_generator_spec(spec)
    if isinstance(spec, LiteLLMGenerator):
        options = spec.model_dump(exclude={"backend", "num_threads"}, exclude_none=True)
        # LiteLLM's OpenAI client needs some key; EMPTY is what an endpoint without keys (vLLM's default) takes
        options["api_key"] = resolve_api_key(spec.api_key) or "EMPTY"
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
