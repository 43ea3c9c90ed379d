"""Generation through any OpenAI-compatible completions endpoint (vLLM, TGI, llama.cpp server, ...).

This is how large corpora are generated at scale: a served model with continuous batching and
automatic prefix caching, many requests in flight. Requests run on a thread pool (``concurrency``),
each with a timeout; connection errors, timeouts, 429 and 5xx answers are retried with exponential
backoff (``max_retries``); other HTTP errors fail at once with the server's message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from synthir.generation.backends.base import Completion, DecodingParams, GeneratorBackend, cut_at_stop

logger = logging.getLogger(__name__)
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}


class ServedModelError(RuntimeError):
    pass


class OpenAICompletionsGenerator(GeneratorBackend):
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        concurrency: int = 16,
        timeout_s: float = 60.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.name = model
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}  # resolved by make_backend
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout_s,
                                    limits=httpx.Limits(max_connections=concurrency))
        self.retries = 0  # counted for the run's figures

    def describe(self) -> dict[str, str]:
        return {"backend": "openai-completions", "model": self.name, "base_url": self.base_url,
                "concurrency": str(self.concurrency)}

    def generate(
        self, prefix: str, targets: list[str], params: DecodingParams,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[list[Completion]]:
        def one(target: str) -> list[Completion]:
            result = self._complete(prefix + target, params)
            if on_batch:
                on_batch(1)
            return result

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, targets))

    def _complete(self, prompt: str, params: DecodingParams) -> list[Completion]:
        body = {
            "model": self.name, "prompt": prompt, "max_tokens": params.max_new_tokens,
            "temperature": params.temperature if params.do_sample else 0.0,
            "top_p": params.top_p if params.do_sample else 1.0, "n": params.num_return_sequences,
            "stop": params.stop, "logprobs": 1, "seed": params.seed,
        }
        payload = self._post_with_retries(body)
        choices = sorted(payload.get("choices") or [], key=lambda c: c.get("index", 0))
        if len(choices) != params.num_return_sequences:
            raise ServedModelError(f"{self.base_url}/completions returned {len(choices)} choice(s), expected {params.num_return_sequences}")
        completions = []
        for choice in choices:
            text, _ = cut_at_stop(choice.get("text") or "", params.stop)  # servers differ in honouring `stop`
            logprobs = (choice.get("logprobs") or {}).get("token_logprobs") or []
            completions.append(Completion(text, [float(x) for x in logprobs if x is not None]))
        return completions

    def _post_with_retries(self, body: dict) -> dict:
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.post("/completions", json=body)
                if response.status_code == 200:
                    payload = response.json()  # a proxy cutting the body short gives invalid JSON: retried below
                    if not isinstance(payload, dict) or not isinstance(payload.get("choices"), list):
                        raise ServedModelError(f"{self.base_url}/completions answered 200 without a `choices` list: "
                                               f"{response.text[:300]!r}; is this an OpenAI-compatible completions endpoint?")
                    return payload
                if response.status_code not in RETRYABLE_STATUS:
                    raise ServedModelError(
                        f"{self.base_url}/completions answered {response.status_code}: {response.text[:500]}")
                reason = f"HTTP {response.status_code}"
            except (httpx.TimeoutException, httpx.TransportError) as err:  # includes a connection cut mid-body
                reason = f"{type(err).__name__}: {err}"
            except ValueError as err:  # JSONDecodeError: half a response, or not JSON at all
                reason = f"malformed JSON ({err}): {response.text[:200]!r}"
            if attempt == self.max_retries:
                raise ServedModelError(f"{self.base_url}/completions failed after {attempt + 1} attempt(s): {reason}")
            self.retries += 1
            delay = self.backoff_s * (2 ** attempt) * (0.5 + random.random() / 2)
            logger.warning("completion request failed (%s); retry %d/%d in %.1fs", reason, attempt + 1, self.max_retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._client.close()
