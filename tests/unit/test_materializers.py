"""Each materializer round-trips its type through the (temp) local artifact store, with metadata and a preview."""

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from materializers import (
    CorpusMaterializer,
    EvaluationResultMaterializer,
    QrelsMaterializer,
    QueriesMaterializer,
    RunMaterializer,
)
from synthir.data import Corpus, Document, Qrels, Queries, Run
from synthir.evaluation import evaluate

CORPUS = Corpus({"1": Document("1", "text one", "Title"), "2": Document("2", "")}, name="demo", source="x.jsonl")
QUERIES = Queries({"q1": "one two", "q2": "three"}, name="demo", source="q.jsonl")
QRELS = Qrels({"q1": {"1": 2, "2": 0}}, name="demo", source="r.tsv")
RUN = Run({"q1": {"1": 2.5, "2": 1.0}}, name="bm25")


@pytest.fixture
def artifact_dir(request) -> Path:
    """A fresh folder inside the active (temp) local artifact store, which refuses paths outside it."""
    from zenml.client import Client

    folder = Path(Client().active_stack.artifact_store.path) / "tests" / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize(
    "materializer, data, compare",
    [
        (CorpusMaterializer, CORPUS, lambda a, b: a.documents == b.documents and a.fingerprint() == b.fingerprint()),
        (QueriesMaterializer, QUERIES, lambda a, b: a.queries == b.queries and a.source == b.source),
        (QrelsMaterializer, QRELS, lambda a, b: a.judgments == b.judgments),
        (RunMaterializer, RUN, lambda a, b: a.scores == b.scores and a.name == b.name),
    ],
)
def test_roundtrip(artifact_dir, materializer, data, compare):
    instance = materializer(uri=str(artifact_dir))
    instance.save(data)
    data_file = "data.arrow" if materializer is CorpusMaterializer else "data.parquet"
    assert (artifact_dir / data_file).exists() and not list(artifact_dir.glob("*.pkl"))
    assert compare(instance.load(type(data)), data)
    metadata = instance.extract_metadata(data)
    assert metadata and all(v is not None for v in metadata.values())
    visualizations = instance.save_visualizations(data)
    (path, kind), = visualizations.items()
    assert kind == "html" and "<table" in Path(path).read_text()


def test_a_corpus_of_passages_loads_memory_mapped_with_its_passage_map_and_expansions(artifact_dir):
    from synthir.data.columnar import DocumentTable

    corpus = Corpus({"a#1": Document("a#1", "first half", "A"), "a#2": Document("a#2", "second half", "A"),
                     "b": Document("b", "whole")}, name="demo", source="x", parents={"a#1": "a", "a#2": "a"},
                    aliases={"c": "b"}, passage_config={"max_tokens": 2}, expansions={"b": "what is whole"})
    instance = CorpusMaterializer(uri=str(artifact_dir))
    instance.save(corpus)
    loaded = instance.load(Corpus)
    assert isinstance(loaded.documents, DocumentTable) and loaded.documents == corpus.documents
    assert (loaded.parents, loaded.aliases, loaded.expansions, loaded.passage_config) == \
        (corpus.parents, corpus.aliases, corpus.expansions, corpus.passage_config)
    assert loaded.fingerprint() == corpus.fingerprint() and list(loaded.documents) == list(corpus.documents)
    # the content hash ZenML's cache keys on follows the content (and the passage map), not the artifact
    assert instance.compute_content_hash(loaded) == instance.compute_content_hash(corpus)
    assert instance.compute_content_hash(corpus.subset(["b"])) != instance.compute_content_hash(corpus)
    # an artifact saved before data.arrow (a parquet frame) still loads
    (artifact_dir / "data.arrow").unlink()
    corpus.to_frame().to_parquet(artifact_dir / "data.parquet", index=False)
    assert instance.load(Corpus).documents == corpus.documents


def test_corpus_metadata_counts_and_fingerprint(artifact_dir):
    metadata = CorpusMaterializer(uri=str(artifact_dir)).extract_metadata(CORPUS)
    assert metadata["documents"] == 2 and metadata["empty_documents"] == 1
    assert metadata["fingerprint"] == CORPUS.fingerprint()


def test_evaluation_result_roundtrip(artifact_dir):
    result = evaluate(RUN, QRELS, system="bm25")
    instance = EvaluationResultMaterializer(uri=str(artifact_dir))
    instance.save(result)
    loaded = instance.load(type(result))
    assert loaded.aggregate == result.aggregate and loaded.system == "bm25"
    pd.testing.assert_frame_equal(loaded.per_query, result.per_query)
    assert json.loads((artifact_dir / "meta.json").read_text())["system"] == "bm25"
    assert instance.extract_metadata(result)["ndcg_at_10"] == pytest.approx(1.0)
    (path, _), = instance.save_visualizations(result).items()
    assert "nDCG@10" in Path(path).read_text()


def test_compiled_query_program_roundtrip_with_demo_card(artifact_dir):
    from materializers import CompiledQueryProgramMaterializer
    from synthir.generation.dspy_programs import CompiledQueryProgram, build_program, seed_demos
    from synthir.generation.prompts import FewShotExample

    program = build_program("cot")
    program.predict.demos = seed_demos([FewShotExample(id="e", document="Bees <make> honey.", query="how is honey made",
                                                       reasoning="About honey.")], "cot")
    data = CompiledQueryProgram.from_program(program, "cot", figures={"dev_compiled_metric": 0.42})
    instance = CompiledQueryProgramMaterializer(uri=str(artifact_dir))
    instance.save(data)
    loaded = instance.load(CompiledQueryProgram)
    assert loaded.prompt_id == data.prompt_id and loaded.demos == data.demos
    page = Path(next(iter(instance.save_visualizations(data)))).read_text()
    assert "how is honey made" in page and "&lt;make&gt;" in page and "dev_compiled_metric" in page
    assert instance.extract_metadata(data)["demos"] == 1


def test_model_folders_load_in_place_from_a_local_store_and_once_from_a_remote_one(artifact_dir, tmp_path, monkeypatch):
    """Loading a model must not copy its weights on every load (that filled CI's disk)."""
    import materializers.records as records
    from materializers import RerankerModelMaterializer
    from synthir.training.artifacts import RerankerModel

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.safetensors").write_bytes(b"weights")
    (model_dir / "nested").mkdir()
    (model_dir / "nested" / "config.json").write_text("{}")
    instance = RerankerModelMaterializer(uri=str(artifact_dir))
    instance.save(RerankerModel(model_dir=model_dir, model_type="cross-encoder", base_model="m"))

    loaded = instance.load(RerankerModel)
    assert loaded.model_dir == artifact_dir / "model" and (loaded.model_dir / "nested" / "config.json").exists()

    # A remote store (``s3://...``) is downloaded into one per-process folder, once per artifact.
    store = str(artifact_dir / "model")
    monkeypatch.setattr(records.os.path, "isdir", lambda path: path != store and os.path.exists(path))
    first, second = records.folder_from_store(store), records.folder_from_store(store)
    assert first == second and first.parent == records._downloads_dir() and first != Path(store)
    assert (first / "model.safetensors").read_bytes() == b"weights" and (first / "nested" / "config.json").exists()


def test_triples_roundtrip_with_their_dev_set(artifact_dir):
    from materializers import TriplesMaterializer
    from synthir.training.triples import DEV_COLUMNS, Triples

    frame = pd.DataFrame([("q1", "bees", "1", "honey bees", "2", "solar")],
                         columns=["query_id", "query", "pos_id", "positive", "neg_id", "negative"])
    dev = pd.DataFrame([("q2", "sun", "2", "solar", True), ("q2", "sun", "1", "honey bees", False)], columns=DEV_COLUMNS)
    materializer = TriplesMaterializer(uri=str(artifact_dir))
    with_dev, without = Triples(frame, "fp", dev=dev), Triples(frame, "fp")
    materializer.save(with_dev)
    loaded = materializer.load(Triples)
    assert loaded.frame.equals(frame) and loaded.dev.equals(dev) and loaded.fingerprint() == with_dev.fingerprint()
    assert loaded.dev_samples() == [{"query": "sun", "positive": ["solar"], "negative": ["honey bees"]}]
    assert materializer.extract_metadata(with_dev)["dev_queries"] == 1
    # the dev set is part of the content hash, so step caching tells them apart
    assert materializer.compute_content_hash(with_dev) != materializer.compute_content_hash(without)
