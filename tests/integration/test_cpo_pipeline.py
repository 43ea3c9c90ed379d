import mlflow
import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration


def test_cpo_pipeline_tunes_registers_and_gates_a_generator(zenml_stack, demo_dir, tmp_path):
    """configs/cpo/default.yaml made tiny: Gemma-3-270M teacher, SmolLM2 student, 6 references, 2 CPO steps,
    3 held-out documents, merged weights, no copy guard. A margin is never negative, so whether two CPO
    steps beat the base generator decides the branch: the decision must follow the figures, and a refused
    version is then promoted by hand through the same registry call the gate makes (both branches are
    also tested against the registry code in tests/unit/test_registry.py)."""
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "cpo" / "default.yaml").read_text())
    parameters = config["parameters"]
    parameters.update({"collection": str(demo_dir), "held_out": 3, "promotion_margin": 0.0,
                       "max_copy_rate_increase": 1e9})
    parameters["preferences"].update({"max_references": 6, "max_new_tokens": 32})
    parameters["cpo"].update({"max_steps": 2, "batch_size": 2, "lora_r": 4, "lora_alpha": 8, "save": "merged", "logging_steps": 1})
    zenml_pipeline_run("pipelines.cpo.cpo_pipeline", config, tmp_path)

    from zenml.client import Client

    run = Client().get_pipeline("cpo_pipeline").last_run
    pairs = run.steps["build_preference_pairs"].outputs["preference_pairs"][0].load()
    assert 0 < len(pairs) <= 6 and pairs.figures["references"] == 6
    assert (pairs.frame["chosen_score"] > pairs.frame["rejected_score"]).all()
    assert set(pairs.frame["chosen_source"]) | set(pairs.frame["rejected_source"]) <= {"reference", "teacher", "student"}
    assert pairs.teacher == "package:gemma3-270m" and pairs.student == "package:smollm2-135m-instruct"
    generator = run.steps["train_cpo_generator"].outputs["generator"][0].load()
    assert generator.format == "merged" and generator.training["steps"] == 2 and generator.training["adapter_norm"] > 0
    comparison = run.steps["evaluate_generators"].outputs["generator_comparison"][0].load()
    assert comparison.held_out_documents == 3 and comparison.production is None
    held_out = run.steps["evaluate_generators"].outputs["held_out_queries"][0].load()
    assert not set(held_out["doc_id"]) & pairs.doc_ids, "held-out documents must not be in the preference data"
    promotion = run.steps["register_generator"].outputs["generator_promotion"][0].load()

    client, mlflow_run = latest_mlflow_run(zenml_stack)
    metrics = mlflow_run.data.metrics
    assert {"preferences.pairs", "preferences.pairs_per_s", "cpo.steps_per_s", "cpo.final_loss", "eval.base.query_eval",
            "eval.candidate.query_eval", "eval.candidate.copy_rate", "eval.candidate.self_retrieval"} <= set(metrics)
    assert len(client.get_metric_history(mlflow_run.info.run_id, "cpo.curve.loss")) == 2  # the training curve
    version = client.get_model_version("inpars-generator", promotion.version)
    assert version.tags["teacher"] == "package:gemma3-270m" and version.tags["format"] == "merged"
    assert version.tags["corpus_fingerprint"] == pairs.corpus_fingerprint
    from synthir import registry

    beats_base = comparison.candidate["query_eval"] >= comparison.base["query_eval"]
    assert promotion.promoted == beats_base, promotion.reason
    assert version.tags["promotion.decision"] == ("promoted" if beats_base else "refused")
    if not beats_base:
        assert "does not beat base generator" in promotion.reason
        registry.promote("inpars-generator", promotion.version, reason="by hand", client=client)

    assert registry.alias_versions("inpars-generator", client)["production"] == promotion.version
    assert registry.production_version_id("inpars-generator", client) == promotion.version

    # the registered version is an MLflow pyfunc model: it loads anywhere and writes queries for documents
    import pandas as pd

    mlflow.set_tracking_uri(zenml_stack)
    model = mlflow.pyfunc.load_model(f"models:/inpars-generator/{promotion.version}")
    out = model.predict(pd.DataFrame({"document": ["Honey bees beat their wings 200 times a second to fly."]}))
    assert len(out) == 1 and isinstance(out[0], str)

