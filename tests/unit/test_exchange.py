"""Synthetic data in other toolkits' formats: Hugging Face datasets, GPL/BEIR qgen, and the CLI."""

import json

import pytest

from synthir.data import load_collection
from synthir.data.errors import DataFormatError
from synthir.data.exchange import queries_to_dataset, read_published_queries, read_qgen, write_qgen
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery, write_inpars_jsonl


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_collection(demo_dir)


def some_queries(demo) -> SyntheticQueries:
    docs = list(demo.corpus)[:3]
    rows = [SyntheticQuery(doc_id=d.doc_id, query=f"what is {d.title or d.doc_id}", log_probs=[-0.5, -1.0],
                           prompt_id="inpars@v1", generator="package:smollm2-135m-instruct", doc_text=d.contents,
                           extra={"index": i % 2}) for i, d in enumerate(docs + docs[:1])]
    rows[-1].extra = {"index": 1}
    return SyntheticQueries(rows, generator="package:smollm2-135m-instruct", prompt_id="inpars@v1",
                            corpus_fingerprint=demo.corpus.fingerprint(), filters=["scores(keep=0.8)"])


def test_queries_round_trip_through_a_saved_hugging_face_dataset(demo, tmp_path):
    queries = some_queries(demo)
    dataset = queries_to_dataset(queries)
    assert {"query_id", "doc_id", "query", "doc_text", "log_probs"} <= set(dataset.column_names)
    assert dataset[0]["query_id"] == queries.queries[0].query_id
    dataset.save_to_disk(str(tmp_path / "hf"))
    back = read_published_queries(tmp_path / "hf")
    assert [(q.doc_id, q.query, q.extra["index"], q.log_probs) for q in back] == [
        (q.doc_id, q.query, q.extra["index"], q.log_probs) for q in queries]
    assert back.lineage() == queries.lineage()  # generator, prompt, corpus fingerprint, filters


def test_qgen_layout_round_trips_and_is_what_gpl_reads(demo, tmp_path):
    queries = some_queries(demo)
    folder = write_qgen(queries, demo.corpus, tmp_path / "qgen")
    assert (folder / "qgen-qrels" / "train.tsv").read_text().splitlines()[0] == "query-id\tcorpus-id\tscore"
    first = json.loads((folder / "qgen-queries.jsonl").read_text().splitlines()[0])
    assert set(first) == {"_id", "text"}
    assert len((folder / "corpus.jsonl").read_text().splitlines()) == len(demo.corpus)
    back = read_published_queries(folder)
    assert [(q.doc_id, q.query) for q in back] == [(q.doc_id, q.query) for q in queries]
    assert back.queries[0].doc_text == demo.corpus[queries.queries[0].doc_id].contents
    assert [q.extra["index"] for q in back] == [0, 0, 0, 1]  # the second query of the same document


def test_malformed_qgen_folders_name_the_file(demo, tmp_path):
    queries = some_queries(demo)
    folder = write_qgen(queries, demo.corpus, tmp_path / "qgen")
    first = queries.queries[0]
    (folder / "qgen-qrels" / "train.tsv").write_text(f"query-id\tcorpus-id\tscore\n{first.query_id}\t{first.doc_id}\t1\n")
    with pytest.raises(DataFormatError, match=r"train.tsv: 3 queries have no source document"):
        read_qgen(folder)
    (folder / "qgen-queries.jsonl").write_text('{"text": "no id"}\n')
    with pytest.raises(DataFormatError, match=r"qgen-queries.jsonl:1"):
        read_qgen(folder)
    with pytest.raises(DataFormatError, match="expected an InPars JSONL file, a GPL/BEIR qgen folder"):
        read_published_queries(tmp_path)


def test_inpars_files_still_import(demo, tmp_path):
    path = write_inpars_jsonl(some_queries(demo), tmp_path / "q.jsonl")
    assert len(read_published_queries(path)) == 4


def test_triples_export_with_sentence_transformers_column_names():
    import pandas as pd

    from synthir.training.triples import Triples

    frame = pd.DataFrame([("q1", "bees", "d1", "honey", "d2", "stocks")],
                         columns=["query_id", "query", "pos_id", "positive", "neg_id", "negative"])
    dataset = Triples(frame).to_dataset()
    assert dataset.column_names[:3] == ["anchor", "positive", "negative"]
    assert dataset[0]["anchor"] == "bees" and dataset[0]["neg_id"] == "d2"


def test_export_and_import_commands_go_through_the_zenml_store(demo, demo_dir, tmp_path, capsys):
    from zenml import save_artifact
    from zenml.client import Client

    from commands.main import main
    from materializers.records import SyntheticQueriesMaterializer

    save_artifact(some_queries(demo), name="exchange_test_queries", materializer=SyntheticQueriesMaterializer)
    assert main(["export", "exchange_test_queries", "--to", str(tmp_path / "hf")]) == 0
    assert main(["export", "exchange_test_queries", "--format", "qgen", "--collection", str(demo_dir),
                 "--to", str(tmp_path / "qgen")]) == 0
    assert "4 queries" in capsys.readouterr().out
    assert main(["import", str(tmp_path / "qgen"), "--collection", str(demo_dir), "--name", "exchange_test_imported"]) == 0
    imported = Client().get_artifact_version("exchange_test_imported").load()
    assert len(imported) == 4 and imported.corpus_fingerprint == demo.corpus.fingerprint()
    with pytest.raises(SystemExit, match="needs --collection|give it with --collection"):
        main(["export", "exchange_test_queries", "--format", "qgen", "--to", str(tmp_path / "x")])
    other = tmp_path / "other"
    write_qgen(some_queries(demo), load_collection(demo_dir).corpus, other)
    (other / "qgen-qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nd0-0\tnot-a-doc\t1\n")
    (other / "qgen-queries.jsonl").write_text('{"_id": "d0-0", "text": "x"}\n')
    with pytest.raises(SystemExit, match="1 document id.s. are not in"):
        main(["import", str(other), "--collection", str(demo_dir)])
