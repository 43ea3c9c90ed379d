"""``@checked_pipeline``: ZenML's ``@pipeline`` whose parameters are checked by ``synthir.preflight``
first, so a misspelt top-level key (``max_generation:``) ends the run with one line naming it and
the closest real key, instead of ZenML's "Only JSON serializable inputs are allowed". It also marks
earlier runs of the pipeline abandoned by a dead process as failed (``synthir.abandoned``)."""

from __future__ import annotations

from typing import Any

from zenml import pipeline
from zenml.pipelines.dynamic.pipeline_definition import DynamicPipeline
from zenml.pipelines.pipeline_definition import Pipeline


class _ChecksItsParameters:
    def _validate_entrypoint_args(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        from synthir.preflight import validate_pipeline_parameters

        validate_pipeline_parameters(self, kwargs)  # raises ConfigError naming the key or YAML path
        _mark_abandoned_runs(self.name)
        return super()._validate_entrypoint_args(*args, **kwargs)


def _mark_abandoned_runs(pipeline_name: str) -> None:
    """Earlier runs of this pipeline left ``running`` by a dead process are marked failed first."""
    from synthir.abandoned import mark_abandoned_runs

    try:
        mark_abandoned_runs(pipeline_name)
    except Exception as err:  # housekeeping: it must never stop the run the user asked for
        import logging

        logging.getLogger(__name__).info("could not check for abandoned runs of %s: %s", pipeline_name, err)


class CheckedPipeline(_ChecksItsParameters, Pipeline):
    pass


class CheckedDynamicPipeline(_ChecksItsParameters, DynamicPipeline):
    pass


def report_failure(exception: BaseException) -> None:
    """Every step's failure hook: the cause in one line, after ZenML's traceback (under plain
    ``zenml pipeline run`` only ZenML's own "Pipeline run has failed" line comes after it)."""
    import sys

    from zenml import get_step_context

    message = f"{type(exception).__name__}: {exception}".strip().splitlines()[0]
    print(f"synthir: step {get_step_context().step_run.name} failed: {message}", file=sys.stderr, flush=True)


def checked_pipeline(func=None, **options: Any):
    """``@checked_pipeline`` or ``@checked_pipeline(dynamic=True, ...)``: as ``@pipeline``, with
    ``report_failure`` as the steps' failure hook unless one is given."""
    options.setdefault("on_failure", report_failure)

    def decorate(function):
        built = pipeline(**options)(function)
        built.__class__ = CheckedDynamicPipeline if isinstance(built, DynamicPipeline) else CheckedPipeline
        return built

    return decorate(func) if func is not None else decorate
