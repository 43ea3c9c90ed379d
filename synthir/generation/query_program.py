"""The compiled DSPy query program as an artifact: DSPy's own JSON state (``program.json``, loadable
with ``dspy.ChainOfThought(GenerateQuery).load(...)``) plus ``meta.json``.

Kept apart from ``dspy_programs`` so that reading the artifact's type (materializers, step
signatures) does not import DSPy; only building the program does."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthir.data.io import atomic_write

if TYPE_CHECKING:
    import dspy


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
        from synthir.generation.dspy_signature import build_program

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
        from synthir.generation.dspy_signature import PROGRAM_KINDS, build_program

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
