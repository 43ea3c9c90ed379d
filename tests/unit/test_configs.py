"""Every YAML config names a pipeline that exists and only parameters that pipeline takes."""

import dataclasses
import inspect
from pathlib import Path

import pytest
import yaml

from synthir.cpo import CPOTrainingConfig, PreferenceConfig, QueryEvalConfig
from synthir.generation import QueryGenerationConfig, load_prompt
from synthir.generation.backends import BACKEND_FIELDS
from synthir.generation.dspy_optimise import PromptOptimisationConfig, SelfRetrievalMetricConfig
from synthir.generation.dspy_programs import LITELLM_FIELDS, program_kind
from synthir.quality import ChecksConfig, validate_filter_specs
from synthir.training import RerankerTrainingConfig

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))
PIPELINES = {"evaluation": "pipelines.evaluation:evaluation_pipeline",
             "generation": "pipelines.generation:generation_pipeline",
             "validation": "pipelines.validation:validation_pipeline",
             "training": "pipelines.training:training_pipeline",
             "optimise": "pipelines.optimise_prompt:optimise_prompt_pipeline",
             "cpo": "pipelines.cpo:cpo_pipeline",
             # presets named after the method; they run the generation pipeline until the end-to-end one exists
             "inpars": "pipelines.generation:generation_pipeline"}
PRESETS = {"inpars_plus_cpo": "pipelines.cpo:cpo_pipeline"}  # presets whose pipeline is not their family's


def pipeline_for(path: Path):
    import importlib

    family = path.stem.split("_")[0]
    assert path.stem in PRESETS or family in PIPELINES, f"{path.name}: no pipeline for config family {family!r}"
    module, name = PRESETS.get(path.stem, PIPELINES.get(family)).split(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_names_only_existing_parameters(path):
    config = yaml.safe_load(path.read_text())
    pipeline = pipeline_for(path)
    accepted = set(inspect.signature(pipeline.entrypoint).parameters)
    assert set(config.get("parameters", {})) <= accepted, f"{path.name}: unknown {set(config['parameters']) - accepted}"
    assert set(config) <= {"parameters", "settings", "steps", "enable_cache", "run_name", "schedule", "model"}
    parameters = config.get("parameters", {})
    for key in ("generator", "teacher", "student"):
        if key in parameters:
            spec = dict(parameters[key])
            allowed = LITELLM_FIELDS if spec.get("backend") == "litellm" else BACKEND_FIELDS[spec.get("backend", "local")]
            assert set(spec) - {"backend"} <= allowed, f"{path.name}: {key}: unknown {set(spec) - {'backend'} - allowed}"
    if "evaluation_generator" in parameters:
        assert set(parameters["evaluation_generator"]) <= BACKEND_FIELDS["local"] - {"model"}
    if "preferences" in parameters:
        PreferenceConfig.from_dict(parameters["preferences"])
    if "query_eval" in parameters:
        QueryEvalConfig.from_dict(parameters["query_eval"])
    if "cpo" in parameters:
        CPOTrainingConfig.from_dict(parameters["cpo"])
    if "decoding" in parameters:  # generation's decoding config (the cpo pipeline's evaluation takes the same)
        fields = {f.name for f in dataclasses.fields(QueryGenerationConfig)}
        assert set(parameters["decoding"]) <= fields
    if "prompt" in parameters:
        if parameters["prompt"].startswith("dspy-"):
            program_kind(parameters["prompt"])
        else:
            load_prompt(parameters["prompt"])
    if "optimisation" in parameters:
        PromptOptimisationConfig.from_dict(parameters["optimisation"])
    if "metric" in parameters:
        SelfRetrievalMetricConfig.from_dict(parameters["metric"])
    if "optimise" in parameters:
        assert set(parameters["optimise"]) <= {"optimisation", "metric"}
        PromptOptimisationConfig.from_dict(parameters["optimise"].get("optimisation"))
        SelfRetrievalMetricConfig.from_dict(parameters["optimise"].get("metric"))
    if "checks" in parameters:
        ChecksConfig.from_dict(parameters["checks"])
    if "filters" in parameters:
        validate_filter_specs(parameters["filters"])
    if "training" in parameters:
        RerankerTrainingConfig(**parameters["training"])


def test_every_config_family_is_covered():
    assert {pipeline_for(p).name for p in CONFIGS} == {"evaluation_pipeline", "generation_pipeline", "validation_pipeline",
                                                          "training_pipeline", "optimise_prompt_pipeline", "cpo_pipeline"}
