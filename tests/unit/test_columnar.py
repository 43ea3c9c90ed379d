"""The columnar corpus: Arrow columns memory-mapped from a file, read as the dict of records they replace."""

import os

import pytest

from synthir.data.columnar import DocumentTable, memory_mapped, open_documents, prune, write_documents
from synthir.data.records import Corpus, Document
from synthir.generation.generate import sample_documents

DOCS = [Document(f"d{i}", f"text {i} " + "word " * (i % 7), f"title {i}" if i % 3 else "") for i in range(20_000)]


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> DocumentTable:
    return open_documents(write_documents(tmp_path_factory.mktemp("columnar") / "docs.arrow", DOCS))


def test_a_table_reads_like_the_dict_it_replaces(table):
    as_dict = {d.doc_id: d for d in DOCS}
    assert len(table) == len(as_dict) and list(table) == list(as_dict)
    assert table["d12345"] == as_dict["d12345"] and "d19999" in table and "d20000" not in table
    assert list(table.values()) == DOCS  # batch by batch, across several record batches
    assert table == as_dict and dict(table.items()) == as_dict
    with pytest.raises(KeyError):
        table["nope"]


def test_a_subset_is_a_view_in_corpus_order_and_the_corpus_methods_agree(table):
    corpus, plain = Corpus(table, name="c"), Corpus({d.doc_id: d for d in DOCS}, name="c")
    assert corpus.fingerprint() == plain.fingerprint() and corpus.manifest() == plain.manifest()
    view = corpus.subset(["d9", "d3", "d15000", "missing"])
    assert isinstance(view.documents, DocumentTable) and view.documents.table is table.table  # no texts copied
    assert list(view.documents) == ["d3", "d9", "d15000"] and "d4" not in view and view["d9"] == DOCS[9]
    assert [d.doc_id for d in view] == ["d3", "d9", "d15000"] and len(view) == 3
    narrower = view.subset(["d9", "d4"])
    assert list(narrower.documents) == ["d9"] and narrower.to_frame().equals(plain.subset(["d9"]).to_frame())
    assert view.documents.arrow().num_rows == 3
    # the generator's sample reads ids, then the chosen records, alike from both
    assert sample_documents(corpus, 50, seed=1).documents == sample_documents(plain, 50, seed=1).documents


def test_memory_mapping_keeps_the_rest_of_the_corpus_and_prune_keeps_the_most_recently_used(tmp_path):
    corpus = Corpus({d.doc_id: d for d in DOCS[:10]}, name="c", parents={"d1": "x"}, aliases={"y": "d2"})
    mapped = memory_mapped(corpus, tmp_path / "one.arrow")
    assert isinstance(mapped.documents, DocumentTable) and mapped.documents == corpus.documents
    assert (mapped.parents, mapped.aliases, mapped.name) == (corpus.parents, corpus.aliases, "c")
    for name in ("two", ".preparing-left-by-a-killed-process"):
        memory_mapped(corpus, tmp_path / f"{name}.arrow")
    old = (tmp_path / "one.arrow").stat().st_mtime_ns - 10**10
    os.utime(tmp_path / "one.arrow", ns=(old, old))  # the least recently used
    removed = prune(tmp_path, keep=2)
    assert [p.name for p in removed] == ["one.arrow"] and len(list(tmp_path.glob("*.arrow"))) == 2
    assert prune(tmp_path, keep=1)[0].name in {"two.arrow", ".preparing-left-by-a-killed-process.arrow"}
    killed, writing = tmp_path / ".x.arrow.k1.tmp", tmp_path / ".y.arrow.w2.tmp"  # atomic_write's temporaries
    killed.write_bytes(b"half"), writing.write_bytes(b"half")
    hours_ago = killed.stat().st_mtime_ns - 2 * 3600 * 10**9
    os.utime(killed, ns=(hours_ago, hours_ago))
    assert prune(tmp_path, keep=1) == [killed] and writing.exists()
    assert mapped["d3"] == DOCS[3]  # a mapped file stays readable after it is removed


def test_repeated_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="'d1' appears more than once"):
        open_documents(write_documents(tmp_path / "bad.arrow", [DOCS[1], DOCS[2], DOCS[1]]))


def test_an_interrupted_write_leaves_no_file(tmp_path):
    def crashing():
        yield DOCS[0]
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        write_documents(tmp_path / "c.arrow", crashing())
    assert not list(tmp_path.iterdir())


def test_a_tables_fingerprint_is_computed_once_and_matches_the_records(table):
    corpus = Corpus(table, expansions={"d1": "what is one"})
    plain = Corpus({d.doc_id: d for d in DOCS}, expansions={"d1": "what is one"})
    assert corpus.fingerprint() == plain.fingerprint() == corpus.fingerprint()
    assert "digest" in vars(table)  # cached on the read-only table; expansions are hashed per call
    view = corpus.subset([f"d{i}" for i in range(0, 20_000, 7)])
    assert view.fingerprint() == plain.subset([f"d{i}" for i in range(0, 20_000, 7)]).fingerprint()
    assert list(view.documents.many(["d14", "d7", "d19999"])) == [DOCS[14], DOCS[7], DOCS[19999]]


def test_a_full_pass_leaves_the_files_pages_out_of_the_process_and_the_documents_readable(table):
    assert sum(1 for _ in table.values()) == len(DOCS)  # a full pass, then its pages are released
    assert list(table.values())[:3] == DOCS[:3] and table["d19999"] == DOCS[19999]  # read again from the cache
    view = table.select(["d5", "d6"])
    assert list(view.values()) == DOCS[5:7] and view["d6"] == DOCS[6]


def test_every_corpus_form_reads_into_a_file_as_it_does_into_records(tmp_path):
    # the flow reads a collection straight into an Arrow file (never all held as records); each form
    # must give the same documents, figures and errors either way, and a reader that fails leaves no file
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from synthir.data import load_collection
    from synthir.data.errors import DataFormatError

    rows = [{"_id": d.doc_id, "title": d.title, "text": d.text} for d in DOCS] + [
        {"_id": "copy", "title": "", "text": DOCS[0].text}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "c.parquet")
    (folder := tmp_path / "pages").mkdir()
    for r in rows[:30]:
        (folder / f"{r['_id']}.txt").write_text(r["text"])
    (drop := tmp_path / "incoming").mkdir()  # a drop folder: the second part updates ten documents, adds the rest
    updates = [dict(r, text=f"updated {r['text']}") for r in rows[50:60]]
    (drop / "part-1.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:60]))
    (drop / "part-2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in updates + rows[60:]))
    for form in ("c.jsonl", "c.parquet", "pages", "incoming"):
        records = load_collection(str(tmp_path / form)).corpus
        mapped = load_collection(str(tmp_path / form), into=tmp_path / f"{form}.arrow").corpus
        assert isinstance(mapped.documents, DocumentTable) and mapped.documents == records.documents, form
        assert list(mapped.documents) == list(records.documents) and mapped.parts == records.parts, form
        assert mapped.stats == records.stats and mapped.stats.duplicate_texts == (form in ("c.jsonl", "c.parquet")), form
    assert mapped.documents[rows[55]["_id"]].text.startswith("updated ") and len(mapped) == len(rows)
    assert list(mapped.documents)[50] == rows[50]["_id"]  # an update keeps its place
    assert sorted(p.name for p in tmp_path.glob("incoming*")) == ["incoming", "incoming.arrow"]  # the parts' files went
    (tmp_path / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows[:9000]) + "{broken\n")
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:9001"):
        load_collection(str(tmp_path / "bad.jsonl"), into=tmp_path / "bad.arrow")
    assert not list(tmp_path.glob("*bad*.arrow*"))  # neither the file nor its temporary
    (drop / "part-3.jsonl").write_text("{broken\n")  # a bad part after good ones: no part file is left either
    with pytest.raises(DataFormatError, match=r"part-3\.jsonl:1"):
        load_collection(str(drop), into=tmp_path / "drop.arrow")
    assert not list(tmp_path.glob("drop*"))


def test_boilerplate_counted_in_a_sample_finds_what_counting_every_document_finds(monkeypatch):
    # a large collection's lines are counted in a stable sample, then only the frequent ones in all
    from synthir.preparation import boilerplate
    from synthir.preparation.boilerplate import BoilerplateConfig, find_boilerplate

    footer, menu, rare = "Copyright ACME", "Home | Docs | Blog", "Seen in a tenth"
    documents = {f"p{i}": Document(f"p{i}", "\n".join(
        [*([menu] if i % 3 else []), f"page {i} body", footer, *([rare] if i % 10 == 0 else [])])) for i in range(3000)}
    corpus, config = Corpus(documents), BoilerplateConfig(min_share=0.5)
    whole = find_boilerplate(corpus, config)
    monkeypatch.setattr(boilerplate, "SAMPLE_DOCUMENTS", 400)
    sampled = find_boilerplate(corpus, config)
    assert whole[0] == sampled[0] == {footer, menu}
    assert whole[1]["boilerplate_examples"] == sampled[1]["boilerplate_examples"] == [footer, menu]
