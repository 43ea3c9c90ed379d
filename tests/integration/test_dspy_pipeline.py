import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration


def test_generation_pipeline_optimises_a_dspy_program_then_generates_with_it(zenml_stack, demo_dir, tmp_path):
    """The inpars_plus_dspy preset's generation part, made offline and tiny: SmolLM2, 2 train / 2 dev
    documents, 4 queries (the preset runs the inpars pipeline; its generation keys are the generation pipeline's)."""
    from pipelines.generation import generation_pipeline
    from synthir.preflight import pipeline_parameters

    config = yaml.safe_load((PROJECT_ROOT / "configs" / "inpars" / "inpars_plus_dspy.yaml").read_text())
    accepted = set(pipeline_parameters(generation_pipeline))
    config["parameters"] = {k: v for k, v in config["parameters"]["inpars"].items() if k in accepted}
    config["parameters"].update({
        "collection": str(demo_dir), "max_generations": 4,
        "generator": {"backend": "local", "model": "package:smollm2-135m-instruct", "batch_size": 4},
    })
    config["parameters"]["optimise"]["optimisation"].update(
        {"optimiser": "bootstrap", "train_size": 2, "dev_size": 2, "max_bootstrapped_demos": 1,
         "score_zero_shot": False, "max_tokens": 64})
    config["parameters"]["dspy"]["max_tokens"] = 64
    zenml_pipeline_run("pipelines.generation.generation_pipeline", config, tmp_path)

    from zenml.client import Client

    run = Client().get_pipeline("generation_pipeline").last_run
    program = run.steps["optimise_query_program"].outputs["query_program"][0].load()
    queries = run.steps["generate_synthetic_queries"].outputs["synthetic_queries"][0].load()
    assert program.kind == "cot" and program.figures["dev_documents"] == 2
    assert "dev_zero_shot_metric" not in program.figures
    assert {"dev_seeded_metric", "dev_compiled_metric", "dev_selected_copy_rate"} <= set(program.figures)
    assert len(queries) == 4 and queries.prompt_id == program.prompt_id
    sources = [q.extra["source"] for q in queries]
    assert set(sources) <= {"dspy", "repair", "retry", "fallback", "failed"}
    assert all(q.query for q in queries if q.extra["source"] != "failed")

    _, mlflow_run = latest_mlflow_run(zenml_stack)
    metrics = mlflow_run.data.metrics
    assert metrics["generation.queries"] == 4
    assert metrics["generation.dspy_fallbacks"] == sources.count("fallback")
    assert "optimise_prompt.dev_selected_metric" in metrics
    assert mlflow_run.data.params["generation.prompt"] == program.prompt_id
