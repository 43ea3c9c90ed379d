"""``@checked_pipeline``: ZenML's ``@pipeline`` whose parameters are checked by ``synthir.preflight``
first, so a misspelt top-level key (``max_generation:``) ends the run with one line naming it and
the closest real key, instead of ZenML's "Only JSON serializable inputs are allowed". It also marks
earlier runs of the pipeline abandoned by a dead process as failed (``synthir.orchestration.abandoned``).

Only ZenML's public interface is used: the pipeline's entrypoint is wrapped in a function whose
signature takes every parameter as ``Any`` plus ``**unknown``, so ZenML's own argument check lets
every value through to the wrapper, which checks them against the real signature. A static
pipeline calls its entrypoint while it is compiled (``prepare``, before any step runs); a dynamic
one when its run starts, before its first step.
"""

from __future__ import annotations

import functools
import inspect
import logging
import sys
from typing import Any

from zenml import pipeline

logger = logging.getLogger(__name__)


def checked_entrypoint(function):
    """``function`` behind the check: ``inspect.unwrap`` gives the original (its source and hints)."""
    from synthir.preflight import validate_pipeline_parameters

    @functools.wraps(function)
    def checked(**parameters: Any):
        typed = validate_pipeline_parameters(checked, parameters)  # ConfigError naming the key or YAML path
        _mark_abandoned_runs(function.__name__)
        return function(**typed)

    original = inspect.signature(function)
    loose = [p.replace(annotation=Any) for p in original.parameters.values()]
    checked.__signature__ = original.replace(
        parameters=[*loose, inspect.Parameter("unknown", inspect.Parameter.VAR_KEYWORD, annotation=Any)])
    return checked


def _mark_abandoned_runs(pipeline_name: str) -> None:
    """Earlier runs of this pipeline left ``running`` by a dead process are marked failed first."""
    from synthir.orchestration.abandoned import mark_abandoned_runs

    try:
        mark_abandoned_runs(pipeline_name)
    except Exception as err:  # housekeeping: it must never stop the run the user asked for
        logger.info("could not check for abandoned runs of %s: %s", pipeline_name, err)


def report_failure(exception: BaseException) -> None:
    """Every step's failure hook: the cause in one line, after ZenML's traceback (under plain
    ``zenml pipeline run`` only ZenML's own "Pipeline run has failed" line comes after it)."""
    from zenml import get_step_context

    message = f"{type(exception).__name__}: {exception}".strip().splitlines()[0]
    print(f"synthir: step {get_step_context().step_run.name} failed: {message}", file=sys.stderr, flush=True)


def checked_pipeline(func=None, **options: Any):
    """``@checked_pipeline`` or ``@checked_pipeline(dynamic=True, ...)``: as ``@pipeline``, with
    ``report_failure`` as the steps' failure hook unless one is given."""
    options.setdefault("on_failure", report_failure)

    def decorate(function):
        return pipeline(**options)(checked_entrypoint(function))

    return decorate(func) if func is not None else decorate
