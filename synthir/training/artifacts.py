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


@dataclass
class GeneratorModel:
    """A preference-tuned query generator: merged weights, or a LoRA adapter over ``base_model``."""

    model_dir: Path  # holds synthir_generator.json (format, base model, prompt id) next to the weights
    base_model: str
    format: str  # merged | adapter
    prompt_id: str
    lineage: dict[str, str] = field(default_factory=dict)  # teacher, student, reference source, corpus fingerprint, config hash
    training: dict[str, float] = field(default_factory=dict)  # steps, final loss, seconds, adapter norm
