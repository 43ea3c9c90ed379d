"""Long, messy, duplicated documents: passages, document ranking, boilerplate and copies."""

import pytest

from synthir.data import Corpus, Document, Qrels, Queries, Run
from synthir.data.records import aggregate_scores
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.judgments.config import SyntheticJudgmentsConfig
from synthir.judgments.synthetic import hold_out, one_passage_each
from synthir.lifecycle.gate import compare_rerankers, document_qrels
from synthir.preparation import DocumentsConfig, prepare_corpus
from synthir.preparation.boilerplate import BoilerplateConfig, remove_boilerplate
from synthir.preparation.duplicates import DuplicatesConfig, find_duplicates
from synthir.preparation.passages import PassageConfig, load_tokenizer, split_corpus
from synthir.training.triples import build_triples

WORDS = ("bees make honey from nectar in their hives and the queen lays eggs while workers forage for pollen "
         "across fields of clover").split()


def manual(topic: str, sections: int = 6) -> str:
    """A long Markdown manual: headings and paragraphs, about 60 words a section."""
    parts = [f"# {topic} manual"]
    for n in range(sections):
        parts.append(f"## {topic} section {n}")
        parts.append(" ".join(f"{topic}{n} {WORDS[(n + i) % len(WORDS)]}" for i in range(30)))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def long_corpus() -> Corpus:
    documents = {"solar.md": Document("solar.md", manual("solar"), "Solar"),
                 "wind.md": Document("wind.md", manual("wind"), "Wind"),
                 "note.txt": Document("note.txt", "a short note about tides", "Note")}
    return Corpus(documents, name="manuals")


def test_long_documents_become_passages_within_the_window_and_short_ones_stay_whole(long_corpus):
    config = PassageConfig(max_tokens=64, overlap_tokens=8)
    corpus, figures = split_corpus(long_corpus, config)
    tokenizer = load_tokenizer(config.tokenizer)
    solar = [p for p in corpus.documents if p.startswith("solar.md#")]
    assert len(solar) > 3 and solar[0] == "solar.md#1"
    assert all(corpus.document_of(p) == "solar.md" for p in solar) and corpus.document_of("note.txt") == "note.txt"
    assert corpus["note.txt"].text == "a short note about tides" and "note.txt" not in corpus.parents
    for passage in solar:
        assert len(tokenizer.encode(corpus[passage].contents, add_special_tokens=False).ids) <= 64
        assert corpus[passage].title == "Solar"
    # every word of the document is in some passage: nothing past the first window is lost
    assert set(long_corpus["solar.md"].text.split()) <= set(" ".join(corpus[p].text for p in solar).split())
    assert figures["split_documents"] == 2 and figures["passages"] == len(corpus)
    # the passage map survives the artifact's frame
    again = Corpus.from_frame(corpus.to_frame())
    assert again.parents == corpus.parents and again.fingerprint() == corpus.fingerprint()
    # how it was cut travels with it (the served model cuts alike), through subsets and the artifact
    assert corpus.passage_config == config.model_dump() == corpus.subset(solar).passage_config
    assert long_corpus.passage_config is None
    from materializers.records import CorpusMaterializer

    frame, meta = corpus.to_frame(), CorpusMaterializer._meta(corpus)
    assert CorpusMaterializer.from_parts(None, frame, meta).passage_config == config.model_dump()


def test_a_document_is_counted_whole_only_when_its_prefix_fits_the_window():
    from synthir.preparation.passages import PREFIX_CHARACTERS, PassageSplitter

    splitter = PassageSplitter(PassageConfig(max_tokens=64, overlap_tokens=8))
    short = "a short note about tides"
    long = " ".join(["tidal turbines turn the flow of the tides into electricity"] * 200)
    odd = "x" * (64 * PREFIX_CHARACTERS + 10) + " tail"  # few characters per token: the prefix decides nothing
    exact = splitter.token_counts([short, long, odd])
    lengths = splitter.document_lengths([short, long, odd])
    assert lengths[0] == exact[0] and lengths[2] == exact[2]  # exact where it fits or the prefix cannot tell
    assert lengths[1] > 64 and abs(lengths[1] - exact[1]) <= 0.02 * exact[1]  # long: estimated from its prefix


def test_the_splitter_cuts_at_headings_first(long_corpus):
    corpus, _ = split_corpus(long_corpus, PassageConfig(max_tokens=128, overlap_tokens=0))
    starts = [corpus[p].text.split()[0] for p in corpus.documents if p.startswith("wind.md#")]
    assert all(word.startswith("#") for word in starts), starts


def test_a_bad_overlap_is_named():
    with pytest.raises(ValueError, match="passages.overlap_tokens"):
        PassageConfig(max_tokens=64, overlap_tokens=40)


def test_passage_scores_aggregate_to_documents():
    parents = {"a#1": "a", "a#2": "a", "a#3": "a"}
    scores = {"a#1": 0.2, "a#2": 0.9, "a#3": 0.5, "b": 0.4}
    assert aggregate_scores(scores, parents, "maxp") == {"a": 0.9, "b": 0.4}
    assert aggregate_scores(scores, parents, "firstp") == {"a": 0.2, "b": 0.4}
    assert aggregate_scores({"a#3": 0.5, "a#2": 0.1}, parents, "firstp") == {"a": 0.1}
    assert aggregate_scores(scores, parents, "sum_top_k", top_k=2) == {"a": pytest.approx(1.4), "b": 0.4}


def test_a_run_of_passages_ranks_documents_and_removed_copies_rank_beside_their_original():
    corpus = Corpus({"a#1": Document("a#1", "x"), "a#2": Document("a#2", "y"), "b": Document("b", "z")},
                    parents={"a#1": "a", "a#2": "a"}, aliases={"b-copy": "b"})
    run = corpus.document_run(Run({"q": {"a#1": 1.0, "a#2": 3.0, "b": 2.0}}))
    assert run.scores == {"q": {"a": 3.0, "b": 2.0, "b-copy": 2.0}}
    whole = Corpus({"b": Document("b", "z")})
    plain = Run({"q": {"b": 1.0}})
    assert whole.document_run(plain) is plain
    graded = document_qrels(Qrels({"q": {"a#1": 0, "a#2": 2, "b": 1}}), corpus)
    assert graded.judgments == {"q": {"a": 2, "b": 1}}


def test_exact_and_near_copies_are_aliases_of_the_first(monkeypatch):
    text = " ".join(f"{WORDS[i % len(WORDS)]}{i // len(WORDS)}" for i in range(400))
    near = text.replace("clover0", "meadow0")  # one word of 400 changed (Jaccard of 5-word shingles about 0.98)
    corpus = Corpus({"a": Document("a", text, "A"), "b": Document("b", "other " * 40, "B"),
                     "a-copy": Document("a-copy", text, "Another title"), "a-near": Document("a-near", near, "A2")})
    aliases, figures = find_duplicates(corpus, DuplicatesConfig())
    assert aliases == {"a-copy": "a", "a-near": "a"}
    assert figures["exact_duplicates"] == 1 and figures["near_duplicates"] == 1
    assert find_duplicates(corpus, DuplicatesConfig(near=False))[0] == {"a-copy": "a"}
    from synthir.preparation import duplicates

    monkeypatch.setattr(duplicates, "CHUNK_WORDS", 50)  # a chunk per document: copies found across chunks
    assert find_duplicates(corpus, DuplicatesConfig())[0] == aliases
    prepared, _ = prepare_corpus(corpus)
    assert {prepared.document_of(p) for p in prepared.documents} == {"a", "b"} and prepared.aliases == aliases
    kept, _ = prepare_corpus(corpus, {"duplicates": {"policy": "keep"}})
    assert {kept.document_of(p) for p in kept.documents} == set(corpus.documents) and not kept.aliases


def test_compact_band_index_finds_what_datasketch_lsh_finds():
    # chains (c shares a band with b, b with a, c not with a) and several groups: the band keys and the
    # one-pass search must alias exactly what querying then inserting into datasketch's index does
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    from synthir.preparation.duplicates import band_keys, first_kept

    rng = np.random.default_rng(3)
    lsh = MinHashLSH(threshold=0.9, num_perm=128)
    signatures = rng.integers(0, 2**32, size=(300, 128), dtype=np.uint32)
    for row in range(1, 300, 3):  # copy one band from a random earlier row
        source, band = int(rng.integers(0, row)), int(rng.integers(0, lsh.b))
        signatures[row, band * lsh.r:(band + 1) * lsh.r] = signatures[source, band * lsh.r:(band + 1) * lsh.r]
    expected = {}
    for row, signature in enumerate(signatures):
        matches = lsh.query(MinHash(num_perm=128, hashvalues=signature, scheme="affine32"))
        if matches:
            expected[row] = min(matches)
        else:
            lsh.insert(row, MinHash(num_perm=128, hashvalues=signature, scheme="affine32"))
    assert len(expected) > 50
    assert first_kept(band_keys(signatures, lsh.b, lsh.r)) == expected


def test_signatures_of_a_chunk_are_datasketchs_for_each_document():
    # the chunk-at-once signatures must equal datasketch's MinHash of each document's distinct shingles
    # (a shingle never spanning two documents; too short a document has none: datasketch's empty values)
    import random
    import zlib

    import numpy as np
    from datasketch import MinHash

    from synthir.preparation.duplicates import minhash_signatures

    def shingles(words: list[str], n: int = 5) -> list[int]:  # each shingle's hash rolled from its words' CRC-32
        hashed = [zlib.crc32(w.encode("utf-8")) for w in words]
        rolled = set()
        for start in range(len(words) - n + 1):
            h = 0
            for word in hashed[start:start + n]:
                h = (h * 1_000_003 + word) % 2**64
            rolled.add(h & 0xFFFFFFFF)
        return sorted(rolled)

    rng = random.Random(1)
    documents = [[rng.choice(["bee", "hive", "honey", "été", "x"]) for _ in range(rng.choice([2, 5, 6, 40, 300]))]
                 for _ in range(120)]
    expected = np.stack([m.hashvalues for m in MinHash.bulk([shingles(d) for d in documents], num_perm=128,
                                                            seed=1, hashfunc=int)])
    permutations = MinHash(num_perm=128, seed=1).permutations
    assert (minhash_signatures(documents, 5, permutations, block=48) == expected).all()


def test_lines_repeated_across_a_folder_are_removed_and_reported():
    nav = "Home | Next | Previous"
    documents = {f"page{i}.html": Document(f"page{i}.html", f"{nav}\nPage {i} explains topic {i} in detail.\n"
                                                           f"Copyright 2024 ACME") for i in range(10)}
    documents["solo.txt"] = Document("solo.txt", "Home | Next | Previous")  # a one-line document is left alone
    cleaned, figures = remove_boilerplate(Corpus(documents), BoilerplateConfig())
    assert cleaned["page3.html"].text == "Page 3 explains topic 3 in detail."
    assert cleaned["solo.txt"].text == nav
    assert figures["boilerplate_lines"] == 2 and nav in figures["boilerplate_examples"]
    assert figures["boilerplate_chars_removed"] == 10 * (len(nav) + len("Copyright 2024 ACME") + 2)


def test_documents_off_is_the_corpus_as_read(long_corpus):
    prepared, figures = prepare_corpus(long_corpus, DocumentsConfig.off())
    assert prepared.documents == long_corpus.documents and figures["passages"] == 3


def test_held_out_documents_are_held_out_whole_with_one_evaluation_passage_each(long_corpus):
    corpus, _ = split_corpus(long_corpus, PassageConfig(max_tokens=64, overlap_tokens=8))
    training, held = hold_out(corpus, SyntheticJudgmentsConfig(held_out_documents=1, max_held_out_fraction=0.5))
    held_documents = {held.document_of(p) for p in held.documents}
    assert len(held_documents) == 1
    assert not held_documents & {training.document_of(p) for p in training.documents}
    assert set(held.documents) | set(training.documents) == set(corpus.documents)
    chosen = one_passage_each(corpus, seed=1)
    assert sorted(chosen.document_of(p) for p in chosen.documents) == ["note.txt", "solar.md", "wind.md"]


def test_a_passages_negatives_are_never_passages_of_its_own_document(long_corpus):
    corpus, _ = split_corpus(long_corpus, PassageConfig(max_tokens=64, overlap_tokens=8))
    rows = [SyntheticQuery(doc_id=f"solar.md#{i + 1}", query=f"solar{i} bees honey") for i in range(3)]
    queries = SyntheticQueries(rows, corpus_fingerprint=corpus.fingerprint())
    triples = build_triples(queries, corpus, negatives_per_query=3, depth=50, seed=0)
    assert len(triples) and not any(corpus.document_of(n) == "solar.md" for n in triples.frame["neg_id"])


class OverlapScorer:
    def score(self, queries, documents, doc_ids=None):
        return [float(len(set(q.lower().split()) & set(d.lower().split()))) for q, d in zip(queries, documents)]


def test_the_gate_evaluates_documents_when_it_ranks_passages(long_corpus):
    corpus, _ = split_corpus(long_corpus, PassageConfig(max_tokens=64, overlap_tokens=8))
    queries = Queries({"q1": "wind5 bees", "q2": "solar2 honey"})
    qrels = Qrels({"q1": {"wind.md": 1}, "q2": {"solar.md": 1}})
    comparison, results, _ = compare_rerankers(corpus, queries, qrels, OverlapScorer(), zero_shot=OverlapScorer(),
                                               depth=20, fusion_weight=None)
    assert comparison.candidate == pytest.approx(1.0) and comparison.bm25 == pytest.approx(1.0)
    assert comparison.eval_queries == 2


def long_page(topic: str, needle: str) -> str:
    """A long page whose last section is about ``needle``: past any 256-token window's reach."""
    filler = "\n".join(f"Section {n}. " + " ".join(f"{topic} configuration option {n}-{i}" for i in range(20))
                       for n in range(8))
    return f"{filler}\n{needle}"


def test_batch_rerank_and_the_served_model_score_a_long_document_by_its_best_passage(tmp_path):
    import json
    from types import SimpleNamespace

    import pandas as pd

    from synthir.data.readers import read_run
    from synthir.data.writers import write_run_trec
    from synthir.model_flavors import RerankerPyfunc
    from synthir.models import resolve_model
    from synthir.rerank_run import rerank_run_file

    needle = "Bees turn flower nectar into honey inside the hive."
    documents = {"manual": long_page("printer", needle), "other": "Printers need toner and paper to print pages."}
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps({"_id": d, "title": "", "text": t}) + "\n" for d, t in documents.items()))
    (tmp_path / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "how do bees make honey"}) + "\n")
    first_stage = write_run_trec(Run({"q": {"other": 2.0, "manual": 1.0}}), tmp_path / "bm25.trec")
    scores = {}
    for tokens in (256, 0):
        out = rerank_run_file(first_stage, tmp_path / "queries.jsonl", corpus_file, tmp_path / f"out{tokens}.trec",
                              model="package:all-minilm-l6-v2", depth=10, passage_tokens=tokens)
        scores[tokens] = read_run(out).scores["q"]
        assert set(scores[tokens]) == {"manual", "other"}  # documents, not passages
    assert scores[256]["manual"] > scores[256]["other"]  # its last passage answers the query
    assert scores[256]["manual"] > scores[0]["manual"]  # cut to its first window, it does not
    served = RerankerPyfunc()
    # a version registered before its passage settings were stored (no "passages" in model_config): the defaults
    served.load_context(SimpleNamespace(artifacts={"model": str(resolve_model("package:all-minilm-l6-v2"))},
                                        model_config={}))
    frame = pd.DataFrame({"query": ["how do bees make honey"] * 2, "document": [documents["manual"], documents["other"]]})
    manual, other = served.predict(None, frame)
    cut = served.reranker.score(["how do bees make honey"], [documents["manual"]])[0]  # the page cut to one window
    assert manual > other and manual > cut + 0.1, (manual, other, cut)


def test_worker_threads_cut_the_same_passages(long_corpus, monkeypatch):
    import synthir.preparation.passages as passages

    config = PassageConfig(max_tokens=64, overlap_tokens=8)
    alone, _ = split_corpus(long_corpus, config, workers=1)
    monkeypatch.setattr(passages, "PARALLEL_FROM", 1)
    together, _ = split_corpus(long_corpus, config, workers=2)
    assert together.documents == alone.documents and together.parents == alone.parents


def test_passages_written_as_they_are_cut_are_the_passages_held_as_records(long_corpus, monkeypatch, tmp_path):
    import synthir.preparation.passages as passages
    from synthir.data.columnar import DocumentTable

    config = PassageConfig(max_tokens=64, overlap_tokens=8)
    held, held_figures = split_corpus(long_corpus, config)
    monkeypatch.setattr(passages, "SPLIT_CHUNK", 2)  # several chunks of documents
    written, written_figures = split_corpus(long_corpus, config, into=tmp_path / "passages.arrow")
    assert isinstance(written.documents, DocumentTable) and list(written.documents) == list(held.documents)
    assert written.documents == held.documents and written.parents == held.parents and written_figures == held_figures
    assert written.fingerprint() == held.fingerprint()
    # with passages off, the prepared documents are written and mapped all the same
    as_read, _ = prepare_corpus(long_corpus, DocumentsConfig.off(), into=tmp_path / "as-read.arrow")
    assert isinstance(as_read.documents, DocumentTable) and as_read.documents == long_corpus.documents


def test_the_flow_keeps_a_prepared_corpus_once_in_the_cache_by_its_fingerprint(tmp_path, monkeypatch):
    from synthir.data.columnar import DocumentTable
    from synthir.flow.data import corpora_folder, load_collection

    monkeypatch.setenv("SYNTHIR_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "manuals"
    folder.mkdir()
    for topic in ("solar", "wind"):
        (folder / f"{topic}.md").write_text(manual(topic, sections=30))
    loaded = load_collection(str(folder))
    assert isinstance(loaded.corpus.documents, DocumentTable) and loaded.corpus.parents
    fingerprint = loaded.metadata["corpus_fingerprint"]
    assert [p.name for p in corpora_folder().iterdir()] == [f"{fingerprint}.arrow"]  # no staging file left
    assert load_collection(str(folder)).corpus.documents == loaded.corpus.documents
    assert [p.name for p in corpora_folder().iterdir()] == [f"{fingerprint}.arrow"]
