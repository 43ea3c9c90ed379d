import pytest
import yaml
from helpers import PROJECT_ROOT, zenml_pipeline_run

pytestmark = pytest.mark.integration


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
