"""Check a config file's parameters against a pipeline before anything runs.

Pipeline parameters are typed (``synthir.config``), so ZenML builds and checks every block when a
run starts, before any step. This module does the same check without ZenML, for the config test,
``docs/CONFIG.md`` and the ``synthir`` command, and also names unknown top-level keys with the
closest known one (ZenML reports those as "Only JSON serializable inputs are allowed")::

    validate_pipeline_parameters(inpars_pipeline, yaml.safe_load(open("configs/inpars/quickstart.yaml"))["parameters"])
"""

from __future__ import annotations

import difflib
import inspect
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from synthir.config import ConfigError, describe_errors


def pipeline_parameters(pipeline: Any) -> dict[str, inspect.Parameter]:
    """The entrypoint's parameters with their resolved annotations."""
    function = inspect.unwrap(getattr(pipeline, "entrypoint", pipeline))  # behind @checked_pipeline's check
    hints = typing.get_type_hints(function, include_extras=True)
    return {name: parameter.replace(annotation=hints.get(name, Any))
            for name, parameter in inspect.signature(function).parameters.items()}


def validate_pipeline_parameters(pipeline: Any, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """``parameters`` (a config file's ``parameters:``) validated as the run would; returns the typed
    values. Raises :class:`ConfigError` naming the key or YAML path, the value and what is allowed."""
    accepted = pipeline_parameters(pipeline)
    name = getattr(pipeline, "name", getattr(pipeline, "__name__", "the pipeline"))
    typed = {}
    for key, value in (parameters or {}).items():
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"parameters.{key}: {name} has no such parameter{hint} (it takes: {', '.join(accepted)})")
        try:
            typed[key] = TypeAdapter(accepted[key].annotation).validate_python(value)
        except ValidationError as err:  # a plain annotation (str, bool, List[str]): name it here
            raise ConfigError(describe_errors(err, key)) from None
    return typed
