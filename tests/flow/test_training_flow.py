"""The training flow (``synthir.flow.inpars.run_training``, what ``training_pipeline`` runs): triples,
training, the comparison and the registration transaction, twice: the gate, then a duplicate."""

import mlflow
import pytest
import yaml

from synthir.data import load_collection
from synthir.data.synthetic import SyntheticQuery
from synthir.flow import training as stages
from synthir.flow.inpars import run_training
from synthir.quality import FilteredQueries

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def bm25_without_q01(demo) -> float:
    from synthir.evaluation import evaluate
    from synthir.retrieval import BM25Index

    run = BM25Index.build(demo.corpus).search(demo.judged_queries(), k=1000, show_progress=False)
    return evaluate(run, demo.qrels, exclude_query_ids=["q01"]).aggregate["nDCG@10"]


def test_training_registers_and_gates_and_never_registers_the_same_model_twice(client, demo_dir):
    demo = load_collection(demo_dir)
    # title-style queries for 60 demo documents (no judged query text, so evaluation stays honest), as if a
    # promptagator prompt had shown the generator judged query q01: evaluation must leave it out
    queries = FilteredQueries([SyntheticQuery(doc_id=d.doc_id, query=d.title.lower(), log_probs=[-1.0], doc_text=d.contents,
                                              prompt_id="inpars@v1", generator="hand", extra={"index": 0})
                               for d in list(demo.corpus)[::4]],
                              generator="hand", prompt_id="inpars@v1", corpus_fingerprint=demo.corpus.fingerprint(),
                              config_hash="test", fewshot_query_ids=["q01"])
    parameters = yaml.safe_load((ROOT / "configs" / "training" / "default.yaml").read_text())["parameters"]
    # A learning rate far below what moves an fp32 weight: the trained model is the untrained one exactly,
    # whatever the CPU, so a margin of 0 (never negative) promotes it and the promote branch runs.
    training = {**parameters["training"], "batch_size": 16, "max_length": 128, "learning_rate": 1e-30}
    config = {"negatives_per_query": parameters["negatives_per_query"], "negative_depth": parameters["negative_depth"],
              "training": training, "registry_name": "test-reranker", "promotion_margin": parameters["promotion_margin"]}
    experiment = mlflow.get_experiment_by_name("t").experiment_id

    # the gate weakened on purpose (margin 0, no significance), by the named switch
    first = run_training(str(demo_dir), queries, {**config, "promotion_margin": 0.0,
                                                  "evaluation": {"alpha": 1.0, "allow_weak_gate": True}})
    assert mlflow.active_run() is None  # the flow's own run, closed
    (run,) = client.search_runs([experiment])
    assert run.info.run_name.startswith("training ") and first.comparison.source == "judged"
    assert len(first.queries) == len(queries) and first.model.training["steps"] > 0
    first = first.decision
    (version,) = client.search_model_versions("name='test-reranker'")
    tags = version.tags
    assert tags["prompt_id"] == "inpars@v1" and tags["generator"] == "hand" and tags["corpus_fingerprint"]
    assert tags["config_hash"] and tags["model_type"] == "bi-encoder" and tags["fusion_weight"] == "0.7"
    assert tags["eval_queries"] == "39"  # 40 judged demo queries minus the few-shot example
    assert tags["promotion.decision"] == "promoted" and tags["evaluation_source"] == "judged", tags.get("promotion.reason")
    assert tags["promotion.source"] == "judged" and {"promotion.p_value.bm25", "promotion.p_value.untrained"} <= set(tags)
    assert tags["promotion.gate_weakened"] == "alpha 1.0 is above 0.1 (no significance required)"
    assert str(client.get_model_version_by_alias("test-reranker", "production").version) == "1" == first.version
    assert float(tags["promotion.candidate"]) > 0
    assert float(tags["promotion.bm25"]) == pytest.approx(bm25_without_q01(demo), abs=1e-5)
    assert {"eval.bm25.ndcg_at_10", "eval.zero-shot.ndcg_at_10", "eval.trained.ndcg_at_10", "eval.fused.ndcg_at_10",
            "ndcg_at_10", "training.final_loss", "flow.seconds.training"} <= set(run.data.metrics)

    # Same data, same seed, the shipped gate: the same model again is not registered a second time
    again = run_training(str(demo_dir), queries, config).decision
    assert [str(v.version) for v in client.search_model_versions("name='test-reranker'")] == ["1"]
    assert not again.promoted and again.version == "1"
    assert "identical to test-reranker v1 (same training data and config" in again.reason
    assert "does not beat production" in again.reason  # this evaluation's own verdict, kept in the reason
    assert str(client.get_model_version_by_alias("test-reranker", "production").version) == "1"


def test_training_drops_queries_of_held_out_documents_and_refuses_another_collections(demo_dir):
    demo = load_collection(demo_dir)
    queries = FilteredQueries([SyntheticQuery(doc_id=d, query="q", log_probs=[-1.0], doc_text="t", prompt_id="p",
                                              generator="hand") for d in ["d001", "d002", "d003"]], generator="hand",
                              prompt_id="p", corpus_fingerprint=demo.corpus.fingerprint(), config_hash="test")
    kept = stages.keep_training_documents(queries, demo.corpus.subset(["d001", "d003"]), demo.corpus)
    assert [q.doc_id for q in kept.value] == ["d001", "d003"] and kept.metadata == {"dropped_held_out": 1, "kept": 2}
    stranger = FilteredQueries([*queries, SyntheticQuery(doc_id="elsewhere", query="q", log_probs=[-1.0], doc_text="t",
                                                         prompt_id="p", generator="hand")],
                               generator="hand", prompt_id="p", corpus_fingerprint="x", config_hash="test")
    with pytest.raises(ValueError, match="'elsewhere'.*pick the queries artifact of this collection"):
        stages.keep_training_documents(stranger, demo.corpus, demo.corpus)
