"""What a stage function returns when it has one output."""

from typing import Any, NamedTuple


class Staged(NamedTuple):
    """A stage's one output and its figures for the orchestrator's step view."""

    value: Any
    metadata: dict[str, Any]
