import mlflow
import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration


def save_filtered_queries(demo_dir):
    """Title-style queries for 60 demo documents (no judged query text, so evaluation stays honest)."""
    from zenml import save_artifact

    import materializers  # noqa: F401
    from synthir.data import read_corpus
    from synthir.data.synthetic import SyntheticQuery
    from synthir.quality import FilteredQueries

    corpus = read_corpus(demo_dir)
    rows = [SyntheticQuery(doc_id=d.doc_id, query=d.title.lower(), log_probs=[-1.0], doc_text=d.contents,
                           prompt_id="inpars@v1", generator="hand", extra={"index": 0})
            for d in list(corpus)[::4]]
    # as if a promptagator prompt had shown the generator judged query q01: evaluation must leave it out
    save_artifact(FilteredQueries(rows, generator="hand", prompt_id="inpars@v1", corpus_fingerprint=corpus.fingerprint(),
                                  config_hash="test", fewshot_query_ids=["q01"]), name="filtered_queries")


def bm25_without_q01(demo_dir) -> float:
    from synthir.data import load_collection
    from synthir.evaluation import evaluate
    from synthir.retrieval import BM25Index

    demo = load_collection(demo_dir)
    run = BM25Index.build(demo.corpus).search(demo.judged_queries(), k=1000, show_progress=False)
    return evaluate(run, demo.qrels, exclude_query_ids=["q01"]).aggregate["nDCG@10"]


def test_training_pipeline_registers_and_gates(zenml_stack, demo_dir, tmp_path):
    save_filtered_queries(demo_dir)
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "training" / "default.yaml").read_text())
    # A learning rate far below what moves an fp32 weight: the trained model is the untrained one exactly,
    # whatever the CPU, so a margin of 0 (never negative) promotes it and the promote branch runs.
    config["parameters"].update({"collection": str(demo_dir), "registry_name": "test-reranker",
                                 "training": {**config["parameters"]["training"], "batch_size": 16, "max_length": 128,
                                              "learning_rate": 1e-30}})
    # the gate weakened on purpose (margin 0, no significance), by the named switch
    opened = {**config, "parameters": {**config["parameters"], "promotion_margin": 0.0,
                                       "evaluation": {"alpha": 1.0, "allow_weak_gate": True}}}
    zenml_pipeline_run("pipelines.training.training_pipeline", opened, tmp_path)

    client = mlflow.MlflowClient(zenml_stack)
    (first,) = client.search_model_versions("name='test-reranker'")
    tags = first.tags
    assert tags["prompt_id"] == "inpars@v1" and tags["generator"] == "hand" and tags["corpus_fingerprint"]
    assert tags["config_hash"] and tags["model_type"] == "bi-encoder" and tags["fusion_weight"] == "0.7"
    assert tags["eval_queries"] == "39"  # 40 judged demo queries minus the few-shot example
    assert tags["promotion.decision"] == "promoted" and tags["evaluation_source"] == "judged", tags.get("promotion.reason")
    assert tags["promotion.source"] == "judged" and {"promotion.p_value.bm25", "promotion.p_value.untrained"} <= set(tags)
    assert str(client.get_model_version_by_alias("test-reranker", "production").version) == "1"
    assert float(tags["promotion.candidate"]) > 0
    assert float(tags["promotion.bm25"]) == pytest.approx(bm25_without_q01(demo_dir), abs=1e-5)
    _, run = latest_mlflow_run(zenml_stack)
    assert {"eval.bm25.ndcg_at_10", "eval.zero-shot.ndcg_at_10", "eval.trained.ndcg_at_10", "eval.fused.ndcg_at_10",
            "ndcg_at_10", "training.final_loss"} <= set(run.data.metrics)

    # Same data, same seed, the shipped gate: the same model again is not registered a second time
    zenml_pipeline_run("pipelines.training.training_pipeline", config, tmp_path)
    assert [str(v.version) for v in client.search_model_versions("name='test-reranker'")] == ["1"]
    from zenml.client import Client

    again = Client().get_pipeline("training_pipeline").last_run
    decision = again.steps["register_reranker"].outputs["promotion"][0].load()
    assert not decision.promoted and decision.version == "1"
    assert "identical to test-reranker v1 (same training data and config" in decision.reason
    assert "does not beat production" in decision.reason  # this evaluation's own verdict, kept in the reason
    assert str(client.get_model_version_by_alias("test-reranker", "production").version) == "1"
