"""Corpus-only collections in every form ``load_collection`` takes, and the errors for malformed ones."""

import json
from pathlib import Path

import pandas as pd
import pytest

from synthir.data import DataFormatError, load_collection
from synthir.data.errors import MissingJudgmentsError, require_judgments

DOCS = [{"_id": "d1", "title": "Bees", "text": "Honey bees make honey."},
        {"_id": "d2", "title": "", "text": "Solar panels convert light."}]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def assert_two_docs(collection):
    assert sorted(collection.corpus.documents) == ["d1", "d2"]
    assert collection.corpus["d1"].title == "Bees" and collection.corpus["d2"].text == "Solar panels convert light."
    assert collection.qrels is None and len(collection.queries) == 0


def test_beir_folder_with_only_a_corpus(tmp_path):
    write_jsonl(tmp_path / "c" / "corpus.jsonl", DOCS)
    assert_two_docs(load_collection(tmp_path / "c"))


def test_beir_folder_with_qrels_but_no_queries_names_the_missing_file(tmp_path):
    write_jsonl(tmp_path / "c" / "corpus.jsonl", DOCS)
    (tmp_path / "c" / "qrels").mkdir()
    (tmp_path / "c" / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    with pytest.raises(DataFormatError, match=r"queries\.jsonl.*file not found"):
        load_collection(tmp_path / "c")


@pytest.mark.parametrize("suffix", [".jsonl", ".tsv", ".csv", ".parquet"])
def test_corpus_files(tmp_path, suffix):
    path = tmp_path / f"docs{suffix}"
    frame = pd.DataFrame(DOCS)
    if suffix == ".jsonl":
        write_jsonl(path, DOCS)
    elif suffix == ".tsv":
        path.write_text("d1\tBees\tHoney bees make honey.\nd2\t\tSolar panels convert light.\n")
    elif suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    assert_two_docs(load_collection(path))


def test_csv_errors_name_the_line_across_quoted_newlines(tmp_path):
    path = tmp_path / "docs.csv"
    path.write_text('id,title,text\nd1,Bees,"Honey bees\nmake honey."\nd1,Again,"dup"\n')
    with pytest.raises(DataFormatError, match=r"docs\.csv:4: duplicate document id 'd1'"):
        load_collection(path)
    path.write_text("name,body\nd1,x\n")
    with pytest.raises(DataFormatError, match=r"docs\.csv:2: missing document id: expected one of the fields"):
        load_collection(path)
    path.write_text("id,text\nd1,x,extra\n")
    with pytest.raises(DataFormatError, match=r"docs\.csv:2: 3 cells, but the header names 2 columns"):
        load_collection(path)


def test_parquet_errors_name_the_row(tmp_path):
    path = tmp_path / "docs.parquet"
    pd.DataFrame({"id": ["d1", "d2"], "title": ["a", "b"]}).to_parquet(path)
    with pytest.raises(DataFormatError, match=r"docs\.parquet: row 1: missing document text"):
        load_collection(path)
    path.write_text("this is not parquet")
    with pytest.raises(DataFormatError, match=r"not a readable parquet file"):
        load_collection(path)


def test_a_file_that_is_not_a_corpus(tmp_path):
    path = tmp_path / "notes.docx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(DataFormatError, match=r"notes\.docx: not a corpus file \(suffix '\.docx'\)"):
        load_collection(path)


def write_pdf(path: Path, text: str, title: str | None = None) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"pdf.fonttype": 42}):  # embedded TrueType: text pypdf can extract
        figure = plt.figure()
        figure.text(0.1, 0.5, text)
        figure.savefig(path, metadata={"Title": title} if title else None)
        plt.close(figure)


def test_folder_of_documents(tmp_path):
    root = tmp_path / "docs"
    (root / "guides").mkdir(parents=True)
    (root / "guides" / "setup-guide.txt").write_text("Install the panels facing south.\n")
    (root / "bees.md").write_text("Intro line\n\n# Honey bees\n\nBees make *honey* from nectar.\n")
    (root / "page.html").write_text("<html><head><title>Wind power</title><style>p{}</style></head>"
                                    "<body><h1>Turbines</h1><p>Turbines turn wind into power.</p>"
                                    "<script>var x=1;</script></body></html>")
    write_pdf(root / "solar.pdf", "Solar panels convert sunlight into electricity", title="Solar power")
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / ".hidden.txt").write_text("not a document")
    collection = load_collection(root)
    corpus = collection.corpus
    assert sorted(corpus.documents) == ["bees.md", "guides/setup-guide.txt", "page.html", "solar.pdf"]
    assert corpus["guides/setup-guide.txt"].title == "setup guide"
    assert corpus["bees.md"].title == "Honey bees" and "Bees make *honey* from nectar." in corpus["bees.md"].text
    assert corpus["page.html"].title == "Wind power"
    assert corpus["page.html"].text == "Turbines\nTurbines turn wind into power."  # one block per line
    assert corpus["solar.pdf"].title == "Solar power" and "sunlight" in corpus["solar.pdf"].text
    assert corpus.stats.skipped_files == 1  # image.png: counted and named in a warning
    assert collection.qrels is None
    # ids and contents do not depend on listing order: the same fingerprint on a second read
    assert load_collection(root).corpus.fingerprint() == corpus.fingerprint()


def test_folder_errors_name_the_file(tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("fine")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(DataFormatError, match=r"binary\.txt: a binary file, not \.txt text"):
        load_collection(root)
    (root / "binary.txt").unlink()
    (root / "latin.md").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin\.md:1: not valid UTF-8"):
        load_collection(root)
    (root / "latin.md").unlink()
    (root / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(DataFormatError, match=r"broken\.pdf: an unreadable PDF"):
        load_collection(root)
    # skip: the bad file is left out and counted, the rest kept
    collection = load_collection(root, on_bad_line="skip")
    assert sorted(collection.corpus.documents) == ["a.txt"] and collection.corpus.stats.skipped_bad_lines == 1


def test_folders_do_not_follow_links_out_of_the_tree_and_count_the_links_they_skip(tmp_path, caplog):
    import os

    root = tmp_path / "docs"
    (root / "guides").mkdir(parents=True)
    (root / "guides" / "setup.txt").write_text("Install the panels facing south.")
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash")
    os.symlink(outside, root / "passwd.txt")  # a link out of the folder: once read as a document
    os.symlink(root / "guides" / "setup.txt", root / "setup-link.txt")  # a link inside: read
    os.symlink(root / "loop.txt", root / "loop.txt")  # a link to itself: once dropped without a word
    os.symlink(tmp_path / "missing.txt", root / "broken.txt")
    os.symlink(root, root / "guides" / "again")  # a link to a folder: not followed
    with caplog.at_level("WARNING"):
        corpus = load_collection(root).corpus
    assert sorted(corpus.documents) == ["guides/setup.txt", "setup-link.txt"]
    assert corpus.stats.skipped_links == 4
    warning = next(r.getMessage() for r in caplog.records if "link(s) not followed" in r.getMessage())
    assert "skipped 4 link(s)" in warning and f"passwd.txt -> {outside.resolve()} (outside the folder)" in warning
    assert "loop.txt -> broken or looping link" in warning and "guides/again -> a folder" in warning


def test_folder_problems_are_named(tmp_path, caplog, monkeypatch):
    from pathlib import Path

    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.txt").write_text("Honey bees make honey.")
    (root / "copy of a.txt").write_text("Honey bees make honey.")
    (root / "b.txt").write_text("Honey bees make honey.")
    (root / "empty.txt").write_text("  \n")
    with caplog.at_level("WARNING"):
        corpus = load_collection(root).corpus
    assert corpus.stats.empty_texts == 1 and corpus.stats.duplicate_texts == 2
    text = caplog.text
    assert "1 document(s) have an empty text (kept, counted; generation skips them): ['empty.txt']" in text
    assert "2 document(s) repeat the text of another exactly" in text and "'a.txt' = 'b.txt' = 'copy of a.txt'" in text
    # no read permission (tests run as root, which reads anything: the OS's refusal is simulated)
    read_bytes = Path.read_bytes

    def refuse(path):
        if path.name == "b.txt":
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(DataFormatError, match=r"b\.txt: cannot be read \(Permission denied\)"):
        load_collection(root)
    assert "b.txt" not in load_collection(root, on_bad_line="skip").corpus.documents


def test_folder_with_nothing_readable(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    (root / "a.png").write_bytes(b"\x89PNG")
    with pytest.raises(DataFormatError, match=r"images: neither a BEIR folder .* nor a folder of documents"):
        load_collection(root)


def test_saved_hugging_face_dataset(tmp_path):
    import datasets

    datasets.Dataset.from_list(DOCS).save_to_disk(str(tmp_path / "ds"))
    assert_two_docs(load_collection(tmp_path / "ds"))
    datasets.DatasetDict({"corpus": datasets.Dataset.from_list(DOCS),
                          "queries": datasets.Dataset.from_list([{"_id": "q1", "text": "bees"}])}
                         ).save_to_disk(str(tmp_path / "dd"))
    assert_two_docs(load_collection(tmp_path / "dd"))
    datasets.Dataset.from_list([{"_id": "d1"}]).save_to_disk(str(tmp_path / "bad"))
    with pytest.raises(DataFormatError, match=r"bad: row 1: missing document text"):
        load_collection(tmp_path / "bad")


def test_ir_datasets_without_qrels(monkeypatch):
    import ir_datasets

    class Doc:
        def __init__(self, doc_id, text):
            self.doc_id, self.text, self.title = doc_id, text, ""

    class Dataset:
        def docs_iter(self):
            return iter([Doc("d1", "Honey bees make honey."), Doc("d2", "Solar panels.")])

        def has_queries(self):
            return False

        def has_qrels(self):
            return False

    monkeypatch.setattr(ir_datasets, "load", lambda dataset_id: Dataset())
    collection = load_collection("irds:some/corpus")
    assert sorted(collection.corpus.documents) == ["d1", "d2"] and collection.qrels is None
    assert len(collection.queries) == 0


def test_users_own_unjudged_queries(tmp_path):
    write_jsonl(tmp_path / "c" / "corpus.jsonl", DOCS)
    (tmp_path / "log.tsv").write_text("l1\thow do bees make honey\nl2\tsolar light\n")
    collection = load_collection(tmp_path / "c", queries=tmp_path / "log.tsv")
    assert collection.queries.queries == {"l1": "how do bees make honey", "l2": "solar light"}
    assert collection.qrels is None
    (tmp_path / "bad.tsv").write_text("l1\n")
    with pytest.raises(DataFormatError, match=r"bad\.tsv:1: expected 2 tab-separated fields"):
        load_collection(tmp_path / "c", queries=tmp_path / "bad.tsv")


def test_steps_that_need_judgments_say_so():
    with pytest.raises(MissingJudgmentsError, match="evaluating a run needs relevance judgments.*; try this"):
        require_judgments(0, "evaluating a run", "try this")
    require_judgments(3, "evaluating a run")


def test_a_drop_folder_is_the_union_of_its_parts(tmp_path):
    folder = tmp_path / "incoming"
    write_jsonl(folder / "2026-11-01.jsonl", DOCS)
    write_jsonl(folder / "2026-12-01.jsonl", [{"_id": "d3", "text": "Wind turbines."},
                                               {"_id": "d1", "title": "Bees", "text": "Bees make honey from nectar."}])
    corpus = load_collection(folder).corpus
    assert sorted(corpus.documents) == ["d1", "d2", "d3"] and corpus["d1"].text == "Bees make honey from nectar."
    assert corpus.parts == ["2026-11-01.jsonl", "2026-12-01.jsonl"]


def test_a_remote_collection_is_read_through_fsspec(tmp_path):
    import fsspec

    memory = fsspec.filesystem("memory")
    memory.store.clear()
    memory.pipe("/bucket/corpora/current/corpus.jsonl", "".join(json.dumps(d) + "\n" for d in DOCS).encode())
    collection = load_collection("memory://bucket/corpora/current")
    assert_two_docs(collection)
    assert collection.corpus.source == "memory://bucket/corpora/current/corpus.jsonl"
    memory.pipe("/bucket/docs.csv", pd.DataFrame(DOCS).to_csv(index=False).encode())
    assert_two_docs(load_collection("memory://bucket/docs.csv"))
    with pytest.raises(DataFormatError, match=r"memory://bucket/nothing: no such file or folder"):
        load_collection("memory://bucket/nothing")
