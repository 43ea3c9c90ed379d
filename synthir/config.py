"""Typed configuration: one pydantic model per YAML block, checked before any work starts.

Every block (``training:``, ``decoding:``, ``checks:``, ...) is a :class:`ConfigBlock`: unknown keys
are refused (``extra="forbid"``), choices are ``Literal``, ranges are ``Field`` bounds, and each field
carries its description (``docs/CONFIG.md`` is generated from them). A bad value raises
:class:`ConfigError` naming the YAML path, the value and what is allowed::

    training.epochs: Input should be a valid number, unable to parse string as a number (got 'one')

whether the block is built by ZenML from a YAML config (pipeline parameters are typed with these
models) or by :meth:`ConfigBlock.from_dict`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import hashlib
import json
import re
from collections.abc import Collection
from typing import Annotated, Any, ClassVar, TypeVar, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WrapValidator, model_validator

T = TypeVar("T", bound="ConfigBlock")


class ConfigError(Exception):
    """A config value a run would reject; the message names the YAML path, the value and what is
    allowed. Not a ``ValueError`` on purpose: pydantic and ZenML turn those into their own generic
    messages ("Only JSON serializable inputs are allowed"), while this one reaches the user as written."""


_UNION_TAGS: set[str] = set()  # tag values of the discriminated unions: pydantic puts them in error paths
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("synthir_config_depth", default=0)


def describe_errors(err: ValidationError, where: str) -> str:
    """pydantic's errors as ``<where>.<field>: <what is allowed> (got <value>)``, joined by ``; ``."""
    lines = []
    for error in err.errors():
        parts = [p for p in error["loc"] if not (isinstance(p, str) and (p.startswith("function-") or p in _UNION_TAGS))]
        path = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
        got = "" if error["type"] == "missing" else f" (got {error['input']!r})"
        lines.append(f"{path.lstrip('.')}: {error['msg']}{got}")
    return "; ".join(lines)


def _validate_naming(value: Any, handler, yaml_path: str):
    """Run pydantic's validation; the outermost block turns its errors into one :class:`ConfigError`
    with the full YAML path (nested blocks let them through, so the path is not cut short)."""
    token = _depth.set(_depth.get() + 1)
    try:
        return handler(value)
    except ValidationError as err:
        if _depth.get() > 1:
            raise
        raise ConfigError(describe_errors(err, yaml_path)) from None
    finally:
        _depth.reset(token)


_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def _model_name(value: str) -> str:
    """A registered model's name (MLflow refuses '/' and ':'; a path-like name is refused here, before
    any step, rather than at registration after training)."""
    if not _MODEL_NAME.fullmatch(value) or ".." in value:
        raise ValueError("expected a registered model name: letters, digits, '.', '_' and '-', starting with a letter "
                         "or digit, without '..' (e.g. inpars-reranker)")
    return value


ModelName = Annotated[str, AfterValidator(_model_name)]

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def seconds_of(value: str | float | int | None) -> float | None:
    """``"30m"``, ``"2h"``, ``"1h30m"``, ``"90s"`` or a number of seconds, in seconds; None stays None."""
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        if value is not None and value <= 0:
            raise ValueError(f"expected a positive duration, got {value}")
        return None if value is None else float(value)
    match = _DURATION.match(str(value).strip().replace(" ", ""))
    if not match or not any(match.groups()):
        raise ValueError(f"expected a duration such as 90s, 30m, 2h or 1h30m (or seconds as a number), got {value!r}")
    hours, minutes, seconds = (float(g or 0) for g in match.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if total <= 0:
        raise ValueError(f"expected a positive duration, got {value!r}")
    return total


def _duration(value: Any) -> Any:
    seconds_of(value)  # checked now, kept as written (``30m`` reads better in a logged config than 1800.0)
    return value


Duration = Annotated[Union[str, float, None], AfterValidator(_duration)]


def named_block(type_: Any, yaml_path: str, tags: Collection[str] = ()) -> Any:
    """``type_`` (a union, a list of models) as a parameter whose errors name ``yaml_path``:
    ``named_block(List[FilterSpec], "filters")`` reports ``filters[1].keep: ...``. ``tags``: the
    union's tag values, left out of error paths."""
    _UNION_TAGS.update(tags)
    return Annotated[type_, WrapValidator(lambda value, handler: _validate_naming(value, handler, yaml_path))]


def scalar(type_: Any, yaml_path: str, **constraints: Any) -> Any:
    """A top-level pipeline parameter with pydantic constraints whose errors name it:
    ``top_k: scalar(int, "top_k", ge=1) = 1000``."""
    return named_block(Annotated[type_, Field(**constraints)], yaml_path)


def config_hash(*parts: object) -> str:
    """A short content hash of configs (models, dataclasses) and values: checkpoint folder names."""
    payload = json.dumps([p.model_dump() if isinstance(p, BaseModel) else dataclasses.asdict(p)
                          if dataclasses.is_dataclass(p) else p for p in parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


class StrictModel(BaseModel):
    """A nested config mapping: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_attribute_docstrings=True)


class UnionMember(StrictModel):
    """A member of a discriminated union (a generator backend, a filter): its tag field (``tag``) counts
    as set even when left at its default. ZenML dumps a step's parameters without their unset fields,
    so a defaulted tag was lost on the way to the step, and the union could not tell its members
    apart there (a served generator came back as a local one with an unknown ``base_url``)."""

    tag: ClassVar[str]

    @model_validator(mode="after")
    def _tag_counts_as_set(self):
        self.model_fields_set.add(self.tag)
        return self


class ConfigBlock(StrictModel):
    """A top-level YAML block; ``yaml_path`` names it in error messages (``training``, ``checks``)."""

    yaml_path: ClassVar[str] = ""

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_yaml_path(cls, value: Any, handler):
        return _validate_naming(value, handler, cls.yaml_path)

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any] | BaseModel | None) -> T:
        """The block from a YAML mapping (or an instance, returned as is); None: the defaults."""
        if isinstance(data, cls):
            return data
        if isinstance(data, BaseModel):
            data = data.model_dump(exclude_unset=True)
        return cls.model_validate(dict(data or {}))

    def summary(self) -> dict[str, Any]:
        """Every value, for logging as parameters."""
        return self.model_dump()
