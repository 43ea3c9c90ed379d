"""Config dataclasses from YAML mappings, with errors that name the block and the allowed keys."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")


def from_mapping(cls: type[T], data: dict[str, Any] | None, where: str) -> T:
    """``cls(**data)``; unknown keys raise ``ValueError("<where>: unknown key(s) [...]; allowed: [...]")``."""
    data = dict(data or {})
    allowed = {f.name for f in fields(cls)}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    return cls(**data)
