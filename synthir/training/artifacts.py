"""The trained-model artifact: a folder plus what produced it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RerankerModel:
    model_dir: Path
    model_type: str
    base_model: str
    lineage: dict[str, str] = field(default_factory=dict)  # generator, prompt id, filters, corpus fingerprint, config hash
    training: dict[str, float] = field(default_factory=dict)  # steps, final loss, seconds
