import json
from pathlib import Path

import pytest

from synthir.data import (
    Corpus,
    DataFormatError,
    Document,
    load_collection,
    read_corpus,
    read_qrels,
    read_queries,
    read_run,
    write_beir,
    write_corpus_jsonl,
    write_qrels_trec,
    write_qrels_tsv,
    write_queries_tsv,
    write_run_trec,
)
from synthir.data.records import Run


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def jsonl(path: Path, records: list[dict]) -> Path:
    return write_lines(path, [json.dumps(r) for r in records])


def beir_folder(root: Path, docs=None, queries=None, qrels=None) -> Path:
    jsonl(root / "corpus.jsonl", docs or [
        {"_id": "d1", "title": "Bees", "text": "Honey bees make honey."},
        {"_id": "d2", "title": "", "text": "Solar panels convert light."},
    ])
    jsonl(root / "queries.jsonl", queries or [{"_id": "q1", "text": "how do bees make honey"},
                                               {"_id": "q2", "text": "solar power"}])
    write_lines(root / "qrels" / "test.tsv", qrels or ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q2\td2\t1"])
    return root


# --- good input -------------------------------------------------------------------------------

def test_beir_folder_roundtrip(tmp_path):
    collection = load_collection(beir_folder(tmp_path / "c"))
    assert len(collection.corpus) == 2 and collection.corpus["d1"].title == "Bees"
    assert collection.qrels.judgments == {"q1": {"d1": 2}, "q2": {"d2": 1}}
    copy = load_collection(write_beir(collection, tmp_path / "copy"))
    assert copy.corpus.documents == collection.corpus.documents
    assert copy.queries.queries == collection.queries.queries
    assert copy.qrels.judgments == collection.qrels.judgments


def test_corpus_field_spellings_and_tsv(tmp_path):
    corpus = read_corpus(jsonl(tmp_path / "c.jsonl", [{"id": 7, "contents": "seven"}, {"doc_id": "x", "text": "ex"}]))
    assert corpus["7"].text == "seven" and corpus["x"].text == "ex"
    tsv = read_corpus(write_lines(tmp_path / "c.tsv", ["a\tA title\tbody a", "b\tbody b"]))
    assert tsv["a"] == Document("a", "body a", "A title") and tsv["b"].title == ""


def test_queries_tsv_and_trec_topics(tmp_path):
    queries = read_queries(write_lines(tmp_path / "q.tsv", ["1\thello   world", "2\tsecond"]))
    assert queries.queries == {"1": "hello world", "2": "second"}
    topics = write_lines(tmp_path / "topics.txt", [
        "<top>", "<num> Number: 301", "<title> International Organized Crime", "<desc> Description:",
        "Identify organizations.", "</top>", "", "<top>", "<num> Number: 302", "<title>Poliomyelitis", "</top>",
    ])
    assert read_queries(topics).queries == {"301": "International Organized Crime", "302": "Poliomyelitis"}
    write_queries_tsv(queries, tmp_path / "out.tsv")
    assert read_queries(tmp_path / "out.tsv").queries == queries.queries


def test_trec_qrels_and_run_roundtrip(tmp_path):
    qrels = read_qrels(write_lines(tmp_path / "qrels.txt", ["q1 0 d1 1", "q1 0 d2 0", "q2 0 d3 2"]))
    assert qrels.judgments == {"q1": {"d1": 1, "d2": 0}, "q2": {"d3": 2}}
    assert qrels.relevant("q1") == {"d1"}
    assert read_qrels(write_qrels_trec(qrels, tmp_path / "o.txt")).judgments == qrels.judgments
    assert read_qrels(write_qrels_tsv(qrels, tmp_path / "o.tsv")).judgments == qrels.judgments
    run = Run({"q1": {"d2": 0.5, "d1": 1.5}, "q2": {"d3": 3.0}}, name="sys")
    path = write_run_trec(run, tmp_path / "run.txt")
    assert path.read_text().splitlines()[0] == "q1 Q0 d1 1 1.500000 sys"
    assert read_run(path).scores == run.scores


def test_fingerprint_ignores_order_and_source_but_not_content(tmp_path):
    a = Corpus({"1": Document("1", "x"), "2": Document("2", "y")}, source="a")
    b = Corpus({"2": Document("2", "y"), "1": Document("1", "x")}, source="b")
    c = Corpus({"1": Document("1", "x"), "2": Document("2", "y!")})
    d = Corpus({"1": Document("1", "xy"), "2": Document("2", "")})
    assert a.fingerprint() == b.fingerprint()
    assert len({a.fingerprint(), c.fingerprint(), d.fingerprint()}) == 3
    assert read_corpus(write_corpus_jsonl(a, tmp_path / "a.jsonl")).fingerprint() == a.fingerprint()


# --- bad input --------------------------------------------------------------------------------

def test_missing_files_name_the_path(tmp_path):
    with pytest.raises(DataFormatError, match=r"nope\.jsonl: file not found; expected a corpus"):
        read_corpus(tmp_path / "nope.jsonl")
    folder = beir_folder(tmp_path / "c")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DataFormatError, match=r"queries\.jsonl: file not found"):
        load_collection(folder)
    with pytest.raises(DataFormatError, match="no such file or folder"):
        load_collection(tmp_path / "missing")
    with pytest.raises(DataFormatError, match=r"no qrels for split 'dev'; available splits: \['test'\]"):
        load_collection(beir_folder(tmp_path / "d"), split="dev")


def test_malformed_json_line_names_file_and_line(tmp_path):
    path = write_lines(tmp_path / "c.jsonl", ['{"_id": "1", "text": "ok"}', '{"_id": "2", "text": ', '[1, 2]'])
    with pytest.raises(DataFormatError, match=r"c\.jsonl:2: malformed JSON line"):
        read_corpus(path)
    corpus = read_corpus(path, on_bad_line="skip")
    assert list(corpus.documents) == ["1"] and corpus.stats.skipped_bad_lines == 2


def test_missing_field_names_expected_fields(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"_id": "1", "body_text": "x"}])
    with pytest.raises(DataFormatError, match=r"c\.jsonl:1: missing document text: expected one of the fields"):
        read_corpus(path)


def test_duplicate_ids(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"_id": "1", "text": "a"}, {"_id": "2", "text": "b"}, {"_id": "1", "text": "c"}])
    with pytest.raises(DataFormatError, match=r"c\.jsonl:3: duplicate document id '1' \(first seen on line 1\)"):
        read_corpus(path)
    queries = jsonl(tmp_path / "q.jsonl", [{"_id": "q", "text": "a"}, {"_id": "q", "text": "b"}])
    with pytest.raises(DataFormatError, match=r"q\.jsonl:2: duplicate query id 'q'"):
        read_queries(queries)
    qrels = write_lines(tmp_path / "r.tsv", ["query-id\tcorpus-id\tscore", "q\td\t1", "q\td\t0"])
    with pytest.raises(DataFormatError, match=r"r\.tsv:3: duplicate judgment"):
        read_qrels(qrels)


def test_empty_texts_policy(tmp_path):
    corpus = read_corpus(jsonl(tmp_path / "c.jsonl", [{"_id": "1", "text": "a"}, {"_id": "2", "title": "", "text": "  "}]))
    assert len(corpus) == 2 and corpus.stats.empty_texts == 1  # kept and counted
    with pytest.raises(DataFormatError, match=r"q\.jsonl:1: query 'q1' has an empty text"):
        read_queries(jsonl(tmp_path / "q.jsonl", [{"_id": "q1", "text": " "}]))


def test_non_utf8_bytes(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"_id": "1", "text": "fine"}\n{"_id": "2", "text": "caf\xe9"}\n')
    with pytest.raises(DataFormatError, match=r"c\.jsonl:2: not valid UTF-8 \(byte 0xe9 at column 26\)"):
        read_corpus(path)
    corpus = read_corpus(path, on_bad_line="skip")
    assert list(corpus.documents) == ["1"] and corpus.stats.skipped_bad_lines == 1


def test_qrels_with_unknown_ids(tmp_path, caplog):
    folder = beir_folder(tmp_path / "c", qrels=["query-id\tcorpus-id\tscore", "q1\td1\t1", "q9\td1\t1", "q2\tdX\t1"])
    with pytest.raises(DataFormatError, match=r"test\.tsv: judgments name 1 unknown query id\(s\) \(first: \['q9'\]\)"
                       r".* and 1 unknown document id\(s\) \(first: \['dX'\]\)"):
        load_collection(folder)
    with caplog.at_level("WARNING"):
        collection = load_collection(folder, unknown_ids="drop")
    assert collection.qrels.judgments == {"q1": {"d1": 1}}
    assert collection.qrels.stats.dropped_judgments == 2
    # nothing is dropped without a count and the first ids
    assert "dropped 2 judgment(s)" in caplog.text and "['q9']" in caplog.text and "['dX']" in caplog.text


def test_zero_documents(tmp_path):
    with pytest.raises(DataFormatError, match=r"c\.jsonl: the corpus has zero documents"):
        read_corpus(write_lines(tmp_path / "c.jsonl", ["", "  "]))


def test_bad_qrels_and_run_lines(tmp_path):
    with pytest.raises(DataFormatError, match=r"r\.txt:2: expected 3 fields"):
        read_qrels(write_lines(tmp_path / "r.txt", ["q 0 d 1", "q d"]))
    with pytest.raises(DataFormatError, match=r"r\.txt:1: relevance must be an integer, got 'high'"):
        read_qrels(write_lines(tmp_path / "r.txt", ["q 0 d high"]))
    with pytest.raises(DataFormatError, match=r"run\.txt:1: expected 6 fields"):
        read_run(write_lines(tmp_path / "run.txt", ["q Q0 d 1 0.5"]))


def test_corrupt_run_files_are_rejected_naming_the_line(tmp_path):
    """A nan score, swapped rank/score columns, a fractional rank or a qrels file given as a run."""
    def run(*lines):
        return read_run(write_lines(tmp_path / "run.txt", list(lines)))

    with pytest.raises(DataFormatError, match=r"run\.txt:2: score must be finite, got 'nan'"):
        run("q Q0 a 1 3.0 t", "q Q0 b 2 nan t")
    with pytest.raises(DataFormatError, match=r"run\.txt:1: rank must be a whole number, got '3\.2'.*swapped"):
        run("q Q0 a 3.2 1 t", "q Q0 b 1.5 2 t")
    with pytest.raises(DataFormatError, match=r"run\.txt:3: query 'q': rank 3 scores 9, above rank 2's 2.*swapped"):
        run("q Q0 a 1 5.0 t", "q Q0 b 2 2.0 t", "q Q0 c 3 9.0 t")
    with pytest.raises(DataFormatError, match=r"run\.txt:1: the second field must be Q0, got 'x'"):
        run("q x a 1 5.0 t")
    ties = run("q Q0 a 1 2.0 t", "q Q0 b 2 2.0 t", "r 0 c 0 1.0 t")  # ties, Q0 written as 0, ranks from 0
    assert ties.scores == {"q": {"a": 2.0, "b": 2.0}, "r": {"c": 1.0}}


def test_atomic_writer_keeps_old_file_on_failure(tmp_path):
    from synthir.data import atomic_write

    target = write_lines(tmp_path / "out.txt", ["old"])
    with pytest.raises(RuntimeError):
        with atomic_write(target) as out:
            out.write("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# --- ir_datasets ------------------------------------------------------------------------------

def test_ir_datasets_offline_error_says_what_to_do():
    from synthir.data import DatasetUnavailableError

    with pytest.raises(DatasetUnavailableError, match="could not download ir_datasets collection 'beir/scifact/test'.*local BEIR folder"):
        load_collection("beir/scifact/test")
    with pytest.raises(DatasetUnavailableError, match="not an ir_datasets id"):
        load_collection("irds:no-such/dataset")


def test_ir_datasets_registered_local_dataset(tmp_path):
    """The ir_datasets path end to end, on a dataset registered from local files."""
    import ir_datasets
    from ir_datasets.formats import TrecQrels, TsvDocs, TsvQueries
    from ir_datasets.util import LocalDownload

    write_lines(tmp_path / "docs.tsv", ["d1\tbees make honey", "d2\tsolar panels"])
    write_lines(tmp_path / "queries.tsv", ["q1\thoney bees"])
    write_lines(tmp_path / "qrels.txt", ["q1 0 d1 1"])
    name = f"synthir-test/{tmp_path.name}"
    ir_datasets.registry.register(name, ir_datasets.Dataset(
        TsvDocs(LocalDownload(tmp_path / "docs.tsv")),
        TsvQueries(LocalDownload(tmp_path / "queries.tsv")),
        TrecQrels(LocalDownload(tmp_path / "qrels.txt"), {1: "relevant"}),
    ))
    collection = load_collection(f"irds:{name}")
    assert collection.corpus["d1"].text == "bees make honey"
    assert collection.queries.queries == {"q1": "honey bees"}
    assert collection.qrels.judgments == {"q1": {"d1": 1}}
