"""Corpus-only, end to end: a folder of documents with no queries or judgments goes through the
InPars recipe (``configs/inpars/own_documents.yaml``, made small) via ``zenml pipeline run``, and the
gate decides on held-out synthetic judgments."""

import json

import mlflow
import pytest
import yaml
from helpers import PROJECT_ROOT, zenml_pipeline_run

pytestmark = pytest.mark.integration


def test_a_folder_of_text_files_gets_a_label_free_gate(zenml_stack, demo_dir, tmp_path):
    from zenml.client import Client

    docs = tmp_path / "docs"
    for line in (demo_dir / "corpus.jsonl").read_text().splitlines():
        record = json.loads(line)
        path = docs / f"{record['_id']}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# {record['title']}\n\n{record['text']}\n" if record["title"] else record["text"])
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "inpars" / "own_documents.yaml").read_text())
    config["parameters"]["collection"] = str(docs)
    inpars = config["parameters"]["inpars"]
    inpars.update({"max_generations": 40, "registry_name": "own-documents-reranker"})
    inpars["training"].update({"max_steps": 3})
    inpars["evaluation"]["synthetic"].update({"held_out_documents": 16})
    inpars["evaluation"].update({"min_queries": 5, "allow_weak_gate": True})
    zenml_pipeline_run("pipelines.inpars.inpars_pipeline", config, tmp_path)

    run = Client().get_pipeline("inpars_pipeline").last_run
    training_corpus = run.steps["hold_out_documents"].outputs["training_corpus"][0].load()
    held_out = run.steps["hold_out_documents"].outputs["held_out_documents"][0].load()
    assert len(held_out) == 16 and len(training_corpus) == 240 - 16
    # training never saw a held-out document: not in the generator's sample, not a negative
    synthetic = run.steps["generate_synthetic_queries"].outputs["synthetic_queries"][0].load()
    triples = run.steps["build_training_triples"].outputs["triples"][0].load()
    held = set(held_out.documents)
    assert not {q.doc_id for q in synthetic} & held
    assert not (set(triples.frame["pos_id"]) | set(triples.frame["neg_id"])) & held
    # the evaluation queries: written by Gemma for the held-out documents, judged by their source
    qrels = run.steps["write_synthetic_judgments"].outputs["evaluation_qrels"][0].load()
    assert qrels.judgments and all(set(docs) <= held for docs in qrels.judgments.values())
    comparison = run.steps["evaluate_rerankers"].outputs["comparison"][0].load()
    assert comparison.source == "synthetic" and comparison.eval_queries == len(qrels.judgments)
    assert {"bm25", "zero-shot", "zero-shot-fused", "trained", "fused"} <= set(comparison.systems)
    assert comparison.baselines["untrained"].system == "zero-shot-fused"
    promotion = run.steps["register_reranker"].outputs["promotion"][0].load()
    assert promotion.source == "synthetic" and set(promotion.p_values) == {"bm25", "untrained"}
    version = mlflow.MlflowClient(zenml_stack).get_model_version("own-documents-reranker", promotion.version)
    assert version.tags["evaluation_source"] == "synthetic"
    # retraining compares the whole corpus, not the part training saw
    corpus = run.steps["load_collection"].outputs["corpus"][0].load()
    assert version.tags["corpus_fingerprint"] == corpus.fingerprint()
    assert version.tags["training_corpus_fingerprint"] == training_corpus.fingerprint() != corpus.fingerprint()
    assert version.tags["promotion.source"] == "synthetic" and "promotion.p_value.untrained" in version.tags
    # what `synthir run` prints last: the table with the untrained model and the decision
    from synthir.cli import gate_summary

    summary = gate_summary("inpars_pipeline")
    assert f"{comparison.eval_queries} synthetic evaluation queries" in summary and "| zero-shot-fused |" in summary
    assert summary.splitlines()[-1].startswith(("PROMOTED", "REFUSED")) and promotion.reason in summary
