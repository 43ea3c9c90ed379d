"""The InPars flow in plain Python (``synthir.flow.run_inpars``), the stages inpars_pipeline runs as steps."""

import mlflow
import pytest
import yaml

from synthir.flow import run_inpars

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def quickstart(**changes) -> dict:
    """configs/inpars/quickstart.yaml's inpars block, made smaller where ``changes`` say."""
    inpars = yaml.safe_load((ROOT / "configs" / "inpars" / "quickstart.yaml").read_text())["parameters"]["inpars"]
    for key, value in changes.items():
        inpars[key] = {**inpars.get(key, {}), **value} if isinstance(value, dict) else value
    return inpars


def served_quickstart(url: str, **changes) -> dict:
    """``quickstart(**changes)`` with the loopback stand-in for a served generator at ``url`` writing the queries."""
    config = quickstart(**changes)
    config["generator"] = {"backend": "served", "base_url": url, "model": "stand-in", "concurrency": 16}
    return config


def stand_in_generator():
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.stand_in_generator import StandInGenerator

    return StandInGenerator()


def test_the_flow_runs_every_stage_without_zenml_and_the_gate_decides(client, demo_dir):
    config = quickstart(max_generations=48, registry_name="flow-reranker", training={"max_steps": 3})
    with mlflow.start_run() as run:
        result = run_inpars(str(demo_dir), config)
    assert len(result.synthetic) == 48 and 0 < len(result.filtered) <= 0.8 * 48 + 1
    assert result.synthetic.corpus_fingerprint == result.corpus.fingerprint()
    assert len(result.triples) and (result.triples.frame["teacher_margin"] >= 0).all()  # the default recipe distils
    assert result.model.training["steps"] == 3
    assert result.comparison.source == "judged" and result.comparison.eval_queries == 40
    assert result.decision.version == "1" and result.decision.reason
    version = client.get_model_version("flow-reranker", "1")
    assert version.tags["corpus_fingerprint"] == result.corpus.fingerprint()
    assert version.tags["promotion.decision"] == ("promoted" if result.decision.promoted else "refused")
    assert version.tags["registration"] == "complete"
    metrics = client.get_run(run.info.run_id).data.metrics
    assert {"ndcg_at_10", "eval.bm25.ndcg_at_10", "eval.trained.ndcg_at_10", "generation.queries", "training.steps",
            "validation.queries_kept", "teacher.mean_margin", "triples.triples"} <= set(metrics)


def test_a_folder_of_text_files_gets_a_label_free_gate(client, demo_dir, tmp_path):
    """configs/inpars/own_documents.yaml, made small, on the demo as a folder of Markdown files."""
    import json

    from synthir.lifecycle.gate import gate_table

    docs = tmp_path / "docs"
    for line in (demo_dir / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        path = docs / f"{record['_id']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {record['title']}\n\n{record['text']}\n" if record["title"] else record["text"])
    inpars = yaml.safe_load((ROOT / "configs" / "inpars" / "own_documents.yaml").read_text())["parameters"]["inpars"]
    inpars.update({"max_generations": 40, "registry_name": "own-documents-reranker"})
    inpars["training"].update({"max_steps": 3})
    inpars["evaluation"]["synthetic"].update({"held_out_documents": 16})
    inpars["evaluation"].update({"min_queries": 5, "allow_weak_gate": True})
    # a dozen judged queries of the folder calibrate the synthetic gate (PPI++, the generator's judgment as the proxy)
    golden = [line.split("\t") for line in (demo_dir / "qrels" / "test.tsv").read_text().splitlines()[1:]]
    golden_ids = sorted({qid for qid, _, _ in golden})[:12]
    (tmp_path / "golden.tsv").write_text("".join(f"{qid}\t0\t{doc}.md\t{grade}\n" for qid, doc, grade in golden
                                                if qid in golden_ids))
    (tmp_path / "golden.jsonl").write_text("".join(line + "\n" for line in (demo_dir / "queries.jsonl").read_text()
                                                   .splitlines() if json.loads(line)["_id"] in golden_ids))
    inpars["evaluation"]["calibration"] = {"queries": str(tmp_path / "golden.jsonl"), "qrels": str(tmp_path / "golden.tsv"),
                                           "judge_depth": 2}
    result = run_inpars(str(docs), inpars)
    assert mlflow.active_run() is None  # the flow's own run is closed (registration once left one open)
    (run,) = client.search_runs([mlflow.get_experiment_by_name("t").experiment_id])
    assert run.info.run_name.startswith("inpars ") and "ndcg_at_10" in run.data.metrics

    training_corpus = result.split.training_corpus
    held = set(result.corpus.documents) - set(training_corpus.documents)
    assert len(held) == 16 and len(training_corpus) == 240 - 16
    # training never saw a held-out document: not in the generator's sample, not a positive or a negative
    assert not {q.doc_id for q in result.synthetic} & held
    assert not (set(result.triples.frame["pos_id"]) | set(result.triples.frame["neg_id"])) & held
    # the evaluation queries: written by Gemma for the held-out documents, judged by their source
    qrels = result.split.qrels
    assert qrels.judgments and all(set(docs) <= held for docs in qrels.judgments.values())
    comparison = result.comparison
    assert comparison.source == "synthetic" and comparison.eval_queries == len(qrels.judgments)
    assert {"bm25", "zero-shot", "zero-shot-fused", "trained", "fused"} <= set(comparison.systems)
    assert comparison.baselines["untrained"].system == "zero-shot-fused"
    promotion = result.decision
    assert promotion.source == "synthetic" and set(promotion.p_values) == {"bm25", "untrained"}
    calibrated = comparison.calibrated
    assert calibrated.golden_queries == 12 and calibrated.unlabelled_queries == comparison.eval_queries
    assert promotion.p_values["untrained"] == calibrated.p_value and calibrated.low <= calibrated.estimate <= calibrated.high
    assert {"evaluation.calibrated.estimate", "evaluation.calibrated.lower_bound"} <= set(run.data.metrics)
    assert "GATE WEAKENED on purpose" in promotion.reason
    version = client.get_model_version("own-documents-reranker", promotion.version)
    assert version.tags["evaluation_source"] == "synthetic"
    # retraining compares the whole corpus, not the part training saw
    assert version.tags["corpus_fingerprint"] == result.corpus.fingerprint()
    assert version.tags["training_corpus_fingerprint"] == training_corpus.fingerprint() != result.corpus.fingerprint()
    assert version.tags["promotion.source"] == "synthetic" and "promotion.p_value.untrained" in version.tags
    # what `synthir run` prints last: the table with the untrained model and the decision
    summary = gate_table(comparison, promotion)
    assert f"{comparison.eval_queries} synthetic evaluation queries" in summary and "| zero-shot-fused |" in summary
    assert "calibrated by 12 golden queries (PPI++)" in summary
    assert version.tags["calibrated_gain"] == calibrated.line()  # the interval on the version
    assert summary.splitlines()[-1].startswith(("PROMOTED", "REFUSED")) and promotion.reason in summary


def test_a_bad_config_fails_before_any_stage(demo_dir):
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"training\.epochs: Input should be a valid number"):
        run_inpars(str(demo_dir), {"training": {"epochs": "one"}})


def test_document_expansion_indexes_each_passage_with_its_kept_queries(client, demo_dir):
    """inpars.expansion (Doc2Query--): the run's generator writes queries for every passage, the least
    relevant are dropped, and BM25 (the first stage of triples, the gate and serving) indexes the rest."""
    with stand_in_generator() as url:
        config = served_quickstart(url, max_generations=48, registry_name="expanded-reranker", training={"max_steps": 2},
                                   expansion={"enabled": True, "queries_per_document": 2, "keep": 0.5,
                                              "filter_model": None})
        with mlflow.start_run() as run:
            result = run_inpars(str(demo_dir), config)
    corpus = result.split.corpus
    assert corpus.expansions and set(corpus.expansions) <= set(corpus.documents)
    # at most the kept half of 2 distinct queries per passage, each a query the generator wrote for that passage
    assert 0.3 * len(corpus) <= len(corpus.expansions) <= len(corpus)
    assert all(text.startswith("what about ") for text in corpus.expansions.values())
    assert result.split.training_corpus.expansions == corpus.expansions  # one generation serves both (judged source)
    assert corpus.fingerprint() != corpus.with_expansions({}).fingerprint()
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["expansion.candidates"] <= 2 * len(corpus) and metrics["expansion.passages_expanded"] == len(corpus.expansions)
    assert "eval.bm25.ndcg_at_10" in metrics and result.model.training["steps"] == 2
    artifacts = [a.path for a in client.list_artifacts(run.info.run_id, "expansion")]
    assert artifacts == ["expansion/expansions.jsonl"]


def test_retraining_runs_the_flow_on_a_new_corpus_then_skips_it_unchanged(client, demo_dir, tmp_path):
    from synthir.flow import run_retraining
    from synthir.generation.query_store import QueryStore

    with stand_in_generator() as url:
        config = served_quickstart(url, max_generations=48, registry_name="retrained", training={"max_steps": 2})
        first = run_retraining(str(demo_dir), config, query_store=QueryStore(str(tmp_path / "store")))
        assert first.decision.retrain and first.decision.reason == "no retrained@production yet"
        assert first.inpars.decision.version == "1" and len(first.inpars.synthetic) == 48
        second = run_retraining(str(demo_dir), config)  # the same corpus and config: nothing runs
    assert not second.decision.retrain and second.inpars is None
    assert second.decision.corpus_fingerprint == first.inpars.corpus.fingerprint()
    # promoted: production was trained on this corpus; refused: the gate's refusal is remembered
    expected = "corpus unchanged" if first.inpars.decision.promoted else "and refused"
    assert expected in second.decision.reason
    runs = client.search_runs([mlflow.get_experiment_by_name("t").experiment_id], order_by=["attributes.start_time"])
    assert [r.data.tags["retraining.decision"] for r in runs] == ["retrain", "skip"]
    assert [str(v.version) for v in client.search_model_versions("name='retrained'")] == ["1"]
