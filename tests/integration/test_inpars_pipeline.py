import mlflow
import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration


def test_quickstart_runs_end_to_end(zenml_stack, demo_dir, tmp_path):
    """configs/inpars/quickstart.yaml as shipped (the README's main command), only the demo path made absolute."""
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "inpars" / "quickstart.yaml").read_text())
    config["parameters"]["collection"] = str(demo_dir)
    zenml_pipeline_run("pipelines.inpars.inpars_pipeline", config, tmp_path)

    from zenml.client import Client

    run = Client().get_pipeline("inpars_pipeline").last_run
    assert {"load_collection", "generate_synthetic_queries", "check_synthetic_queries", "filter_synthetic_queries",
            "build_training_triples", "add_teacher_margins", "train_reranker_model", "evaluate_rerankers",
            "register_reranker"} <= set(run.steps)
    synthetic = run.steps["generate_synthetic_queries"].outputs["synthetic_queries"][0].load()
    filtered = run.steps["filter_synthetic_queries"].outputs["filtered_queries"][0].load()
    assert len(synthetic) == 240 and 0 < len(filtered) <= 0.8 * 240 + 1  # every demo document
    taught = run.steps["add_teacher_margins"].outputs["taught_triples"][0].load()
    assert len(taught) and (taught.frame["teacher_margin"] >= 0).all()
    promotion = run.steps["register_reranker"].outputs["promotion"][0].load()
    # the dashboard: every artifact of the run has a visualization (HTML previews, JSON for dicts)
    bare = [f"{step}.{name}" for step, s in run.steps.items() for name, versions in s.outputs.items()
            for version in versions if not version.visualizations]
    assert not bare, f"artifacts without a visualization: {bare}"
    client, mlflow_run = latest_mlflow_run(zenml_stack)
    metrics = mlflow_run.data.metrics
    # the same headline names as the evaluation pipeline, so runs of every pipeline compare
    assert {"ndcg_at_10", "eval.bm25.ndcg_at_10", "eval.trained.ndcg_at_10", "generation.queries", "training.steps",
            "validation.queries_kept"} <= set(metrics)
    version = client.get_model_version("inpars-reranker", promotion.version)
    assert version.tags["corpus_fingerprint"] == synthetic.corpus_fingerprint
    assert version.tags["promotion.decision"] == ("promoted" if promotion.promoted else "refused")
    # ZenML's model view: the same version, linked to the run's artifacts, production exactly when MLflow's alias is
    zenml_version = Client().get_model_version("inpars-reranker", f"v{promotion.version}")
    linked = set(zenml_version.data_artifact_ids) | set(zenml_version.model_artifact_ids)
    assert {"synthetic_queries", "filtered_queries", "triples", "reranker", "comparison"} <= linked, linked
    assert (str(zenml_version.stage).lower().endswith("production")) == promotion.promoted
    assert zenml_version.run_metadata["mlflow_version"] == promotion.version
    comparison = run.steps["evaluate_rerankers"].outputs["comparison"][0]
    assert {str(v.type).lower().rsplit(".", 1)[-1] for v in comparison.visualizations} >= {"markdown", "image"}

    # the same config again: the collection is re-read (a new artifact with the same content), and every
    # step up to evaluation comes from the cache; evaluation and registration run against the registry
    zenml_pipeline_run("pipelines.inpars.inpars_pipeline", config, tmp_path)
    again = Client().get_pipeline("inpars_pipeline").last_run
    status = {name: str(step.status).lower().rsplit(".", 1)[-1] for name, step in again.steps.items()}
    assert {status[name] for name in ("generate_synthetic_queries", "check_synthetic_queries", "filter_synthetic_queries",
                                      "build_training_triples", "add_teacher_margins", "train_reranker_model")} == {"cached"}, status
    assert status["load_collection"] == status["evaluate_rerankers"] == "completed", status


def grown_copy(demo_dir, target, sample_size: int, seed: int = 42):
    """The demo plus one new document that the generation sample takes (so a warm start has
    something new to learn from)."""
    import shutil

    from synthir.data import load_collection
    from synthir.generation.generate import sample_documents

    shutil.copytree(demo_dir, target)
    original = (target / "corpus.jsonl").read_text(encoding="utf-8")
    for n in range(999, 900, -1):
        line = f'{{"_id": "d{n}", "title": "Tidal power", "text": "Tidal turbines turn the flow of the tides into electricity."}}\n'
        (target / "corpus.jsonl").write_text(original + line, encoding="utf-8")
        sample = sample_documents(load_collection(target).corpus, sample_size, seed).documents
        if f"d{n}" in {d.doc_id for d in sample}:
            return f"d{n}"
    raise AssertionError("no new document id lands in the sample")


def test_retraining_skips_retrains_incrementally_then_remembers_a_refusal(zenml_stack, demo_dir, tmp_path):
    from zenml.client import Client

    from synthir import registry

    config = yaml.safe_load((PROJECT_ROOT / "configs" / "retraining" / "default.yaml").read_text())
    config["parameters"]["collection"] = str(demo_dir)
    # two generation shards: the fan-out and merge run here too; a margin no candidate clears: every gate refuses
    config["parameters"]["inpars"].update({"max_generations": 24, "generation_shards": 2, "promotion_margin": 1.0,
                                           "registry_name": "retraining-test-reranker"})
    config["parameters"]["inpars"]["training"].update({"max_steps": 2, "init_from": "production"})

    zenml_pipeline_run("pipelines.retraining.retraining_pipeline", config, tmp_path)  # no production yet: retrain
    first = Client().get_pipeline("retraining_pipeline").last_run
    decision = first.steps["check_corpus_change"].outputs["retraining_decision"][0].load()
    assert decision.retrain and "no retraining-test-reranker@production yet" in decision.reason
    assert {"generate_synthetic_queries_0", "generate_synthetic_queries_1", "merge_synthetic_queries",
            "plan_warm_start", "register_reranker"} <= set(first.steps)
    shards = [first.steps[f"generate_synthetic_queries_{i}"].outputs["synthetic_queries"][0].load() for i in range(2)]
    merged = first.steps["merge_synthetic_queries"].outputs["synthetic_queries"][0].load()
    assert [len(s) for s in shards] == [12, 12] and len(merged) == 24
    assert not {q.doc_id for q in shards[0]} & {q.doc_id for q in shards[1]}
    assert merged.corpus_fingerprint == shards[0].corpus_fingerprint
    # nothing to warm-start from: the base model on every triple
    assert first.steps["plan_warm_start"].outputs["init_model"][0].load() == "package:all-minilm-l6-v2"
    promotion = first.steps["register_reranker"].outputs["promotion"][0].load()
    assert not promotion.promoted  # the margin
    mlflow.set_tracking_uri(zenml_stack)
    client = mlflow.MlflowClient(zenml_stack)
    from synthir.orchestration.zenml_models import mirror_production

    registry.promote("retraining-test-reranker", promotion.version, reason="test", client=client,
                     on_promoted=mirror_production)
    # ZenML's model view follows a promotion by hand
    assert str(Client().get_model_version("retraining-test-reranker", f"v{promotion.version}").stage).lower().endswith("production")

    zenml_pipeline_run("pipelines.retraining.retraining_pipeline", config, tmp_path)  # same corpus: nothing to do
    second = Client().get_pipeline("retraining_pipeline").last_run
    decision = second.steps["check_corpus_change"].outputs["retraining_decision"][0].load()
    assert not decision.retrain and "unchanged" in decision.reason
    assert set(second.steps) == {"load_collection", "check_corpus_change"}
    assert str(second.status).lower().endswith("completed")
    _, mlflow_run = latest_mlflow_run(zenml_stack)
    assert mlflow_run.data.tags["retraining.decision"] == "skip"

    # one document added: the manifest diff says so, generation reuses every stored query it can, and
    # production is fine-tuned on the new document's triples plus replay
    grown = tmp_path / "grown"
    added = grown_copy(demo_dir, grown, sample_size=24)
    config["parameters"]["collection"] = str(grown)
    zenml_pipeline_run("pipelines.retraining.retraining_pipeline", config, tmp_path)
    third = Client().get_pipeline("retraining_pipeline").last_run
    decision = third.steps["check_corpus_change"].outputs["retraining_decision"][0].load()
    assert decision.retrain and (decision.new_documents, decision.changed_documents) == (1, 0), decision.reason
    shards = [third.steps[f"generate_synthetic_queries_{i}"].outputs["synthetic_queries"][0].load() for i in range(2)]
    assert sum(s.stats["documents_reused"] for s in shards) == 23
    assert sum(s.stats["documents_generated_now"] for s in shards) == 1
    plan = third.steps["plan_warm_start"]
    assert plan.outputs["init_model"][0].load() == f"registry:retraining-test-reranker/{promotion.version}"
    warm = plan.outputs["warm_start_triples"][0].load()
    new = int((warm.frame["pos_id"] == added).sum())
    assert new >= 1 and len(warm) == 2 * new  # replay_ratio 1: as many replayed triples as new ones
    model = third.steps["train_reranker_model"].outputs["reranker"][0].load()
    assert model.lineage["initialised_from"] == f"registry:retraining-test-reranker/{promotion.version}"
    refused = third.steps["register_reranker"].outputs["promotion"][0].load()
    assert not refused.promoted

    # the same grown corpus again: the gate refused it with this config, so the schedule does not retry it
    zenml_pipeline_run("pipelines.retraining.retraining_pipeline", config, tmp_path)
    fourth = Client().get_pipeline("retraining_pipeline").last_run
    decision = fourth.steps["check_corpus_change"].outputs["retraining_decision"][0].load()
    assert not decision.retrain and decision.refused_version == refused.version, decision.reason
    assert set(fourth.steps) == {"load_collection", "check_corpus_change"}
