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
             "inpars": "pipelines.inpars:inpars_pipeline",  # the method presets: inpars_v1, inpars_v2, inpars_plus_*
             "promptagator": "pipelines.inpars:inpars_pipeline",
             "quickstart": "pipelines.inpars:inpars_pipeline",
             "retraining": "pipelines.retraining:retraining_pipeline"}
PRESETS: dict = {}  # configs whose pipeline is not their family's
STEP_NAMES = {p.stem for p in (Path(__file__).resolve().parents[2] / "steps").glob("*/*.py") if p.stem != "__init__"}


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
    assert set(config.get("steps", {})) <= STEP_NAMES, f"{path.name}: steps: {set(config['steps']) - STEP_NAMES} are no step"
    if "schedule" in config:
        from zenml.config.schedule import Schedule

        Schedule(**config["schedule"])
    check_parameters(config.get("parameters", {}), path.name)


def check_parameters(parameters: dict, where: str) -> None:
    """Every nested block of a config is parsed by the dataclass or validator that will read it."""
    if "inpars" in parameters:  # the retraining pipeline's stage parameters
        from pipelines.inpars import check_stage_parameters

        check_stage_parameters(parameters["inpars"], f"{where}: inpars")
        check_parameters(parameters["inpars"], f"{where}: inpars")
    for key in ("generator", "teacher", "student"):
        if key in parameters:
            spec = dict(parameters[key])
            allowed = LITELLM_FIELDS if spec.get("backend") == "litellm" else BACKEND_FIELDS[spec.get("backend", "local")]
            assert set(spec) - {"backend"} <= allowed, f"{where}: {key}: unknown {set(spec) - {'backend'} - allowed}"
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
                                                          "training_pipeline", "optimise_prompt_pipeline", "cpo_pipeline",
                                                          "inpars_pipeline", "retraining_pipeline"}


def test_the_method_presets_exist():
    names = {p.stem for p in CONFIGS}
    assert {"quickstart", "inpars_v1", "inpars_v2", "promptagator", "inpars_plus_cpo", "inpars_plus_dspy"} <= names
    for name in ("quickstart", "inpars_v1", "inpars_v2", "promptagator", "inpars_plus_cpo", "inpars_plus_dspy"):
        assert pipeline_for(next(p for p in CONFIGS if p.stem == name)).name == "inpars_pipeline"


def test_inpars_pipeline_and_stages_take_the_same_parameters():
    from pipelines.inpars import STAGE_PARAMETERS, inpars_pipeline

    assert list(inspect.signature(inpars_pipeline.entrypoint).parameters) == ["collection", *STAGE_PARAMETERS]
    for name in STAGE_PARAMETERS:
        from pipelines.inpars import inpars_stages

        assert inspect.signature(inpars_pipeline.entrypoint).parameters[name].default == \
            inspect.signature(inpars_stages).parameters[name].default, name
