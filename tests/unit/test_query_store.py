"""The per-document query store: reuse for unchanged documents, generation for new or changed ones,
a sample that stays put as the corpus grows, on a local folder and on a remote (fsspec) one."""

import pytest
from test_generation_loop import EchoBackend

from synthir.data import Corpus, Document
from synthir.data.synthetic import SyntheticQuery
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, sample_documents
from synthir.generation.query_store import QueryStore


def corpus(n: int, changed: dict[int, str] | None = None) -> Corpus:
    changed = changed or {}
    return Corpus({f"d{i:04d}": Document(f"d{i:04d}", changed.get(i, f"word{i} and more text")) for i in range(n)})


@pytest.fixture(params=["local", "memory"])
def store(request, tmp_path):
    if request.param == "local":
        return QueryStore(str(tmp_path / "store"))
    import fsspec

    fsspec.filesystem("memory").store.clear()
    return QueryStore("memory://query-store")


def test_rows_are_found_by_document_content_under_their_key(store):
    docs = corpus(3)
    rows = [SyntheticQuery(doc_id=d.doc_id, query=f"q {d.doc_id}", extra={"index": 0}) for d in docs]
    assert store.add("k1", docs.documents, rows) is not None
    renamed = Document("moved/d0000", docs["d0000"].text)
    edited = Document("d0001", "different text now")
    found = store.lookup("k1", [renamed, edited, docs["d0002"]])
    assert set(found) == {"moved/d0000", "d0002"}  # the edited document has no stored queries
    assert found["moved/d0000"][0].query == "q d0000" and found["moved/d0000"][0].doc_id == "moved/d0000"
    assert store.lookup("other-key", list(docs)) == {}


def test_the_sample_is_stable_as_the_corpus_grows():
    before = {d.doc_id for d in sample_documents(corpus(1000), 200, seed=3).documents}
    after = {d.doc_id for d in sample_documents(corpus(1010), 200, seed=3).documents}
    assert len(before - after) <= 10  # 1% more documents move about 1% of the sample
    assert before != {d.doc_id for d in sample_documents(corpus(1000), 200, seed=4).documents}


def test_a_grown_corpus_generates_only_for_its_new_and_changed_documents(store, tmp_path):
    config = QueryGenerationConfig(max_generations=None, shard_size=16)
    template = load_prompt("inpars")
    first_backend = EchoBackend()
    first = generate_queries(corpus(100), first_backend, template, config, store=store, show_progress=False)
    assert len(first_backend.seen) == 100 and first.figures["documents_reused"] == 0
    grown = corpus(101, changed={5: "edited text of five"})  # one added, one changed
    backend = EchoBackend()
    second = generate_queries(grown, backend, template, config, store=store, show_progress=False)
    assert sorted(backend.seen) == sorted(["edited text of five", "word100 and more text"])
    assert second.figures["documents_reused"] == 99 and second.figures["documents_generated_now"] == 2
    assert [q.doc_id for q in second.queries] == [d.doc_id for d in sample_documents(grown, None, 42).documents]
    assert {q.query for q in second.queries if q.doc_id == "d0005"} == {"about edited 0"}
    shrunk = generate_queries(corpus(50), EchoBackend(), template, config, store=store, show_progress=False)
    assert len(shrunk.queries) == 50 and shrunk.figures["documents_generated_now"] == 0  # removed ones dropped
    # another prompt or decoding setting is another key: nothing reused
    other = EchoBackend()
    generate_queries(corpus(10), other, template, QueryGenerationConfig(max_generations=None, max_new_tokens=12),
                     store=store, show_progress=False)
    assert len(other.seen) == 10
