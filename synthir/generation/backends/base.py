"""The interface every generator backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class DecodingParams:
    max_new_tokens: int = 64
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    num_return_sequences: int = 1
    stop: list[str] = field(default_factory=lambda: ["\n"])
    seed: int = 0


@dataclass
class Completion:
    text: str  # the raw continuation, cut before the first stop string
    token_logprobs: list[float]  # log-probabilities under the model of the tokens kept


class GeneratorBackend(ABC):
    """Turns prompts into completions. A prompt is ``prefix + target``: the prefix (instructions and
    few-shot examples) is shared by every document of a run, which backends may exploit (KV-cache reuse)."""

    name: str = "backend"

    @abstractmethod
    def generate(
        self, prefix: str, targets: list[str], params: DecodingParams,
        on_batch: Callable[[int], None] | None = None,
    ) -> list[list[Completion]]:
        """``num_return_sequences`` completions for each target, in the order of ``targets``;
        ``on_batch(n)`` is called as each group of ``n`` targets finishes (progress bars)."""

    def truncate(self, text: str, max_tokens: int) -> str:
        """Keep the first ``max_tokens`` tokens (whitespace words when the backend has no tokenizer)."""
        words = text.split()
        return " ".join(words[:max_tokens])

    def describe(self) -> dict[str, str]:
        return {"backend": type(self).__name__, "model": self.name}

    def output_settings(self) -> dict[str, str]:
        """``describe()`` less the throughput settings, which cannot change what is generated: the
        checkpoint key, so a restart with a smaller batch (after running out of memory) resumes."""
        return {k: v for k, v in self.describe().items() if k not in THROUGHPUT_SETTINGS}


THROUGHPUT_SETTINGS = frozenset({"batch_size", "concurrency"})


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Text before the earliest stop string, and whether one was found."""
    positions = [p for p in (text.find(s) for s in stops) if p >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True
