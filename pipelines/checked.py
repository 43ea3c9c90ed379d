"""``@checked_pipeline``: ZenML's ``@pipeline`` whose parameters are checked by ``synthir.preflight``
first, so a misspelt top-level key (``max_generation:``) ends the run with one line naming it and
the closest real key, instead of ZenML's "Only JSON serializable inputs are allowed"."""

from __future__ import annotations

from typing import Any

from zenml import pipeline
from zenml.pipelines.dynamic.pipeline_definition import DynamicPipeline
from zenml.pipelines.pipeline_definition import Pipeline


class _ChecksItsParameters:
    def _validate_entrypoint_args(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from synthir.preflight import validate_pipeline_parameters

        validate_pipeline_parameters(self, kwargs)  # raises ConfigError naming the key or YAML path
        return super()._validate_entrypoint_args(*args, **kwargs)


class CheckedPipeline(_ChecksItsParameters, Pipeline):
    pass


class CheckedDynamicPipeline(_ChecksItsParameters, DynamicPipeline):
    pass


def checked_pipeline(func=None, **options: Any):
    """``@checked_pipeline`` or ``@checked_pipeline(dynamic=True, ...)``: as ``@pipeline``."""

    def decorate(function):
        built = pipeline(**options)(function)
        built.__class__ = CheckedDynamicPipeline if isinstance(built, DynamicPipeline) else CheckedPipeline
        return built

    return decorate(func) if func is not None else decorate
