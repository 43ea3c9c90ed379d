"""The evaluation flow (``synthir.flow.retrieval.run_evaluation``, what ``evaluation_pipeline`` runs)."""

import mlflow
import pytest
import yaml

from synthir.flow.retrieval import run_evaluation

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def default_parameters(collection) -> dict:
    """configs/evaluation/default.yaml's parameters, on ``collection``."""
    parameters = yaml.safe_load((ROOT / "configs" / "evaluation" / "default.yaml").read_text())["parameters"]
    return {**parameters, "collection": str(collection)}


def only_run(client):
    (run,) = client.search_runs([mlflow.get_experiment_by_name("t").experiment_id])
    return run


def test_bm25_on_cisi_as_the_evaluation_pipeline_scores_it(client, cisi_dir):
    result = run_evaluation(**default_parameters(cisi_dir))
    assert mlflow.active_run() is None  # the flow's own run, closed
    run = only_run(client)
    assert run.info.run_name.startswith("evaluation ")
    assert run.data.metrics["ndcg_at_10"] == pytest.approx(0.358, abs=0.005) == result.evaluation.metrics()["ndcg_at_10"]
    assert run.data.metrics["eval.queries"] == 76
    assert {"rr_at_10", "r_at_100", "r_at_1000", "map"} <= set(run.data.metrics)
    assert run.data.params["data.collection"] == str(cisi_dir)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert artifacts == {"evaluation/bm25.run", "evaluation/bm25.per_query.tsv", "evaluation/bm25.per_query.png"}
    assert result.comparison_table is None


def test_rerankers_over_the_bm25_run_on_the_demo(client, demo_dir):
    result = run_evaluation(**{**default_parameters(demo_dir), "rerankers": ["package:all-minilm-l6-v2"]})
    run = only_run(client)
    assert run.data.params["compare.reranker0"] == "package:all-minilm-l6-v2"
    # zero-shot MiniLM re-scoring beats BM25 on the demo's paraphrased queries
    assert run.data.metrics["eval.reranker0.ndcg_at_10"] > run.data.metrics["ndcg_at_10"]
    assert "evaluation/rerankers.per_query.png" in {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert "| reranker0 |" in result.comparison_table
