"""The CPO flow (``synthir.flow.cpo.run_cpo``, what ``cpo_pipeline`` runs)."""

import mlflow
import yaml

from synthir.flow.cpo import run_cpo

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_cpo_tunes_registers_and_gates_a_generator(client, demo_dir):
    """configs/cpo/default.yaml made tiny: Gemma-3-270M teacher, SmolLM2 student, 6 references, 2 CPO steps,
    3 held-out documents, merged weights, no copy guard. A margin is never negative, so whether two CPO
    steps beat the base generator decides the branch: the decision must follow the figures, and a refused
    version is then promoted by hand through the same registry call the gate makes (both branches are
    also tested against the registry code in tests/unit/test_registry.py)."""
    parameters = yaml.safe_load((ROOT / "configs" / "cpo" / "default.yaml").read_text())["parameters"]
    parameters.update({"collection": str(demo_dir), "held_out": 3, "promotion_margin": 0.0,
                       "max_copy_rate_increase": 1e9})
    parameters["preferences"].update({"max_references": 6, "max_new_tokens": 32})
    parameters["cpo"].update({"max_steps": 2, "batch_size": 2, "lora_r": 4, "lora_alpha": 8, "save": "merged",
                              "logging_steps": 1})
    result = run_cpo(**parameters)
    assert mlflow.active_run() is None  # the flow's own run, closed

    pairs = result.pairs
    assert 0 < len(pairs) <= 6 and pairs.figures["references"] == 6
    assert (pairs.frame["chosen_score"] > pairs.frame["rejected_score"]).all()
    assert set(pairs.frame["chosen_source"]) | set(pairs.frame["rejected_source"]) <= {"reference", "teacher", "student"}
    assert pairs.teacher == "package:gemma3-270m" and pairs.student == "package:smollm2-135m-instruct"
    generator = result.generator
    assert generator.format == "merged" and generator.training["steps"] == 2 and generator.training["adapter_norm"] > 0
    comparison = result.comparison
    assert comparison.held_out_documents == 3 and comparison.production is None
    assert not set(result.held_out_queries["doc_id"]) & pairs.doc_ids, "held-out documents must not be in the preference data"
    promotion = result.decision

    (mlflow_run,) = client.search_runs([mlflow.get_experiment_by_name("t").experiment_id])
    assert mlflow_run.info.run_name.startswith("cpo ")
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

    model = mlflow.pyfunc.load_model(f"models:/inpars-generator/{promotion.version}")
    out = model.predict(pd.DataFrame({"document": ["Honey bees beat their wings 200 times a second to fly."]}))
    assert len(out) == 1 and isinstance(out[0], str)
