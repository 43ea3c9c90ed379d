"""Check a pipeline's parameters before any step runs.

Each pipeline calls :func:`validate_parameters` on its own parameters first thing, so a wrong filter,
model type, backend field or training key fails the run at once, naming the block, instead of after
generation has spent its hours. ``tests/unit/test_configs.py`` runs the same function over every
YAML file in ``configs/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


class ConfigError(ValueError):
    """A parameter block that a run would reject; the message names the block and what is allowed."""


GENERATOR_BLOCKS = ("generator", "teacher", "student")


def validate_parameters(parameters: Mapping[str, Any], where: str = "parameters") -> None:
    """Parse every nested block with the config class or validator the steps will use; raise
    :class:`ConfigError` naming ``<where>.<block>`` on the first problem."""
    try:
        _validate(parameters, where)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:  # from_mapping's messages already name the block
        raise ConfigError(str(err)) from err


def _validate(parameters: Mapping[str, Any], where: str) -> None:
    from synthir.cpo import CPOTrainingConfig, PreferenceConfig, QueryEvalConfig
    from synthir.generation import QueryGenerationConfig, load_prompt
    from synthir.generation.backends import BACKEND_FIELDS
    from synthir.generation.dspy_optimise import PromptOptimisationConfig, SelfRetrievalMetricConfig
    from synthir.generation.dspy_programs import LITELLM_FIELDS, program_kind
    from synthir.quality import ChecksConfig, validate_filter_specs
    from synthir.training import RerankerTrainingConfig

    if parameters.get("inpars"):  # the retraining pipeline's stage parameters
        from pipelines.inpars import check_stage_parameters

        check_stage_parameters(dict(parameters["inpars"]), f"{where}.inpars")
        _validate(parameters["inpars"], f"{where}.inpars")
    for key in GENERATOR_BLOCKS:
        if parameters.get(key) is not None:
            spec = dict(parameters[key])
            backend = spec.get("backend", "local")
            if backend != "litellm" and backend not in BACKEND_FIELDS:
                raise ConfigError(f"{where}.{key}.backend: {backend!r} is not a backend; "
                                  f"choose one of {sorted(BACKEND_FIELDS) + ['litellm']}")
            allowed = LITELLM_FIELDS if backend == "litellm" else BACKEND_FIELDS[backend]
            unknown = set(spec) - {"backend"} - allowed
            if unknown:
                raise ConfigError(f"{where}.{key}: unknown field(s) {sorted(unknown)} for backend {backend!r}; "
                                  f"allowed: {sorted(allowed)}")
    if parameters.get("evaluation_generator") is not None:
        unknown = set(parameters["evaluation_generator"]) - (BACKEND_FIELDS["local"] - {"model"})
        if unknown:
            raise ConfigError(f"{where}.evaluation_generator: unknown field(s) {sorted(unknown)}")
    for key, parse in (("preferences", PreferenceConfig.from_dict), ("query_eval", QueryEvalConfig.from_dict),
                       ("cpo", CPOTrainingConfig.from_dict), ("optimisation", PromptOptimisationConfig.from_dict),
                       ("metric", SelfRetrievalMetricConfig.from_dict), ("checks", ChecksConfig.from_dict)):
        if key in parameters:
            _parse(parse, parameters[key], f"{where}.{key}")
    if parameters.get("decoding") is not None:
        allowed = {f.name for f in dataclasses.fields(QueryGenerationConfig)} - {"max_generations", "seed"}
        unknown = set(parameters["decoding"]) - allowed
        if unknown:
            raise ConfigError(f"{where}.decoding: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
    if parameters.get("prompt"):
        prompt = parameters["prompt"]
        _parse(program_kind if prompt.startswith("dspy-") else load_prompt, prompt, f"{where}.prompt")
    if parameters.get("optimise") is not None:
        unknown = set(parameters["optimise"]) - {"optimisation", "metric"}
        if unknown:
            raise ConfigError(f"{where}.optimise: unknown key(s) {sorted(unknown)}; allowed: ['metric', 'optimisation']")
        _parse(PromptOptimisationConfig.from_dict, parameters["optimise"].get("optimisation"), f"{where}.optimise.optimisation")
        _parse(SelfRetrievalMetricConfig.from_dict, parameters["optimise"].get("metric"), f"{where}.optimise.metric")
    if "filters" in parameters:
        _parse(validate_filter_specs, parameters["filters"], where)
    if parameters.get("training") is not None:
        from synthir.config import from_mapping

        from_mapping(RerankerTrainingConfig, parameters["training"], f"{where}.training")


def _parse(parse, value, where: str) -> None:
    try:
        parse(value)
    except (TypeError, ValueError, FileNotFoundError) as err:
        raise ConfigError(f"{where}: {err}") from err
