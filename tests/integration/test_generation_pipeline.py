import re

import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration
QUESTION_START = re.compile(r"^(how|what|why|when|where|which|who|whom|whose|is|are|can|does|do|should|could|will)\b", re.I)


def test_generation_pipeline_on_20_cisi_documents(zenml_stack, cisi_dir, tmp_path):
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "generation" / "default.yaml").read_text())
    config["parameters"].update({"collection": str(cisi_dir), "max_generations": 20})
    zenml_pipeline_run("pipelines.generation.generation_pipeline", config, tmp_path)

    from zenml.client import Client

    from synthir.flow.data import load_collection

    run = Client().get_pipeline("generation_pipeline").last_run
    queries = run.steps["generate_synthetic_queries"].outputs["synthetic_queries"][0].load()
    corpus = load_collection(str(cisi_dir)).corpus  # as the pipeline loads it: copies aliased, long abstracts split
    assert len(queries) == 20 and len({q.doc_id for q in queries}) == 20
    assert queries.prompt_id == "inpars@v1" and queries.corpus_fingerprint == corpus.fingerprint()
    questions = 0
    for q in queries:
        document = corpus[q.doc_id].contents.lower()
        assert q.query, f"empty query for {q.doc_id}"
        assert "\n" not in q.query and 2 <= len(q.query.split()) <= 40
        assert q.query.lower() not in document, f"query copies its document: {q.query!r}"
        assert q.log_probs and all(lp <= 0 for lp in q.log_probs)
        questions += bool(QUESTION_START.match(q.query) or q.query.endswith("?"))
    assert questions >= 16, [q.query for q in queries]

    client, mlflow_run = latest_mlflow_run(zenml_stack)
    metrics = mlflow_run.data.metrics
    assert metrics["generation.queries"] == 20 and metrics["generation.docs_per_s"] > 0
    assert {"generation.tokens_per_s", "generation.mean_query_words", "generation.empty_rate"} <= set(metrics)
    assert mlflow_run.data.params["generation.prompt"] == "inpars@v1"
    assert mlflow_run.data.params["generation.generator_model"] == "package:smollm2-135m-instruct"
    artifacts = {a.path for a in client.list_artifacts(mlflow_run.info.run_id, "generation")}
    assert artifacts == {"generation/synthetic_queries.inpars.jsonl"}


def test_generation_pipeline_imports_a_qgen_folder_instead_of_generating(zenml_stack, demo_dir, tmp_path):
    from zenml.client import Client

    from synthir.data import load_collection
    from synthir.data.exchange import write_qgen
    from synthir.data.synthetic import SyntheticQueries, SyntheticQuery

    corpus = load_collection(demo_dir).corpus
    published = SyntheticQueries([SyntheticQuery(doc_id=d.doc_id, query=f"what about {d.doc_id}", extra={"index": 0})
                                  for d in list(corpus)[:5]])
    write_qgen(published, corpus, tmp_path / "gpl")
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "generation" / "default.yaml").read_text())
    config["parameters"].update({"collection": str(demo_dir), "import_queries": str(tmp_path / "gpl")})
    zenml_pipeline_run("pipelines.generation.generation_pipeline", config, tmp_path)

    run = Client().get_pipeline("generation_pipeline").last_run
    assert "generate_synthetic_queries" not in run.steps
    queries = run.steps["import_synthetic_queries"].outputs["synthetic_queries"][0].load()
    assert [(q.doc_id, q.query) for q in queries] == [(q.doc_id, q.query) for q in published]
    assert queries.corpus_fingerprint == corpus.fingerprint()
    assert all(q.doc_text == corpus[q.doc_id].contents for q in queries)  # texts taken from the collection
