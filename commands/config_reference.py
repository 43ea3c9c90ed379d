"""Write the configuration reference (``docs/CONFIG.md``) from the typed pipeline parameters.

    python -m commands.config_reference          # rewrites docs/CONFIG.md

``tests/unit/test_config_reference.py`` fails when the file and the schema disagree.
"""

from __future__ import annotations

import inspect
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from pipelines.catalog import PIPELINES, source
from synthir.preflight import pipeline_parameters


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models an annotation refers to (through Optional, List, Union, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(annotation))
    if origin is typing.Union:
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin in (list, typing.List):
        return f"list[{_type_name(typing.get_args(annotation)[0])}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(value: Any) -> str:
    if value is PydanticUndefined or value is inspect.Parameter.empty:
        return "required"
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=True)
        if not value:
            return "the block's defaults"
    if isinstance(value, (list, tuple)):
        value = [v.model_dump(exclude_defaults=True) | {"name": v.name} if isinstance(v, BaseModel) and hasattr(v, "name")
                 else v for v in value]
    return f"`{value!r}`".replace("|", "\\|")


def _description(annotation: Any) -> str:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, FieldInfo) and meta.description:
            return meta.description
    return next((d for a in typing.get_args(annotation) if (d := _description(a))), "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _model_section(model: type[BaseModel]) -> list[str]:
    lines = [f"### `{model.__name__}`", "", (inspect.getdoc(model) or "").split("\n")[0], "",
             "| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default
        lines.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(default)} | {_cell(field.description or '')} |")
    return lines + [""]


def reference() -> str:
    out = ["# Configuration reference", "",
           "Generated from the typed parameters by `python -m commands.config_reference`; "
           "a test keeps it in sync. Every block refuses unknown keys, and a bad value fails the run before "
           "any step, naming the YAML path, the value and what is allowed.", ""]
    models: dict[str, type[BaseModel]] = {}

    def collect(model: type[BaseModel]) -> None:
        if model.__name__ in models:
            return
        models[model.__name__] = model
        for field in model.model_fields.values():
            for nested in _models_in(field.annotation):
                collect(nested)

    for pipeline in PIPELINES.values():
        name = pipeline.name
        out += [f"## `{name}`", "", (inspect.getdoc(pipeline.entrypoint) or "").split("\n\n")[0].replace("\n", " "), "",
                f"`zenml pipeline run {source(pipeline)} -c <config>.yaml`, keys under `parameters:`", "",
                "| key | type | default | meaning |", "|---|---|---|---|"]
        for key, parameter in pipeline_parameters(pipeline).items():
            found = _models_in(parameter.annotation)
            kind = ", ".join(f"[`{m.__name__}`](#{m.__name__.lower()})" for m in found) or _type_name(parameter.annotation)
            meaning = _description(parameter.annotation) or "; ".join((inspect.getdoc(m) or "").split("\n")[0] for m in found)
            out.append(f"| `{key}` | {kind} | {_default(parameter.default)} | {_cell(meaning)} |")
            for model in found:
                collect(model)
        out.append("")
    out += ["## Blocks", ""]
    for model in models.values():
        out += _model_section(model)
    return "\n".join(out).rstrip() + "\n"


DOC = Path(__file__).resolve().parents[1] / "docs" / "CONFIG.md"

if __name__ == "__main__":
    from synthir.data.io import atomic_write

    with atomic_write(DOC) as out:
        out.write(reference())
    print(f"wrote {DOC}")
