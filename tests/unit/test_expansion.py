"""Document expansion: the corpus carries each passage's first-stage text; BM25 indexes it, nothing else reads it."""

import json

import pytest

from synthir.config import ConfigError
from synthir.data import Corpus, Document, Queries
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.retrieval import BM25Index
from synthir.retrieval.expansion import ExpansionConfig, select_expansions, write_expansions


def small_corpus() -> Corpus:
    return Corpus({
        "bees": Document("bees", "Honey bees collect nectar and turn it into honey in the hive.", "Beekeeping"),
        "sun": Document("sun", "Photovoltaic panels convert sunlight into electricity.", "Solar power"),
        "bread": Document("bread", "Sourdough bread rises thanks to wild yeast in the starter.", "Baking"),
    })


def test_an_expanded_corpus_is_another_index_and_the_same_text():
    corpus = small_corpus()
    expanded = corpus.with_expansions({"sun": "what are solar cells", "elsewhere": "not in this corpus"})
    assert expanded.expansions == {"sun": "what are solar cells"}
    assert expanded["sun"] == corpus["sun"]  # what rerankers and generators read is unchanged
    assert expanded.index_contents(expanded["sun"]) == "Solar power Photovoltaic panels convert sunlight into " \
                                                        "electricity. what are solar cells"
    assert expanded.fingerprint() != corpus.fingerprint()  # so its BM25 index is cached apart
    assert corpus.fingerprint() == small_corpus().fingerprint() and not corpus.expansions
    assert expanded.subset(["sun", "bees"]).expansions == {"sun": "what are solar cells"}
    assert expanded.subset(["bees"]).fingerprint() == corpus.subset(["bees"]).fingerprint()
    # the frame (what the ZenML materializer stores) carries it both ways
    again = Corpus.from_frame(expanded.to_frame())
    assert again.expansions == expanded.expansions and again.fingerprint() == expanded.fingerprint()
    assert "expansion" not in corpus.to_frame().columns


def test_bm25_finds_a_passage_by_the_words_of_its_expansion_only(tmp_path):
    corpus = small_corpus()
    query = Queries({"q": "solar cells"})
    assert BM25Index.build(corpus, cache_dir=tmp_path).search(query, k=3).ranked("q")[0][0] == "sun"
    query = Queries({"q": "rooftop modules"})  # in no passage: only the expansion has these words
    assert BM25Index.build(corpus, cache_dir=tmp_path).search(query, k=3).scores["q"] == {}
    expanded = corpus.with_expansions({"sun": "how many rooftop modules for a house"})
    assert BM25Index.build(expanded, cache_dir=tmp_path).search(query, k=3).ranked("q")[0][0] == "sun"


def rows(*items) -> SyntheticQueries:
    return SyntheticQueries([SyntheticQuery(doc_id, query, log_probs=[score]) for doc_id, query, score in items])


def test_doc2query_minus_minus_keeps_the_most_relevant_share_once_each():
    queries = rows(("bees", "how do bees make honey", -0.1), ("bees", "How do  bees make honey", -0.2),
                   ("bees", "price of cars", -3.0), ("sun", "solar panel output", -0.5), ("sun", "", -0.01),
                   ("gone", "a passage no longer in the corpus", -0.05), ("bread", "starter yeast", -1.0))
    expansions, figures = select_expansions(queries, small_corpus(), {"keep": 0.75, "filter_model": None})
    # distinct, non-empty, of a passage in the corpus: 4 candidates, the best 3 kept (by mean log-prob here)
    assert figures["candidates"] == 4 and figures["kept"] == 3 and figures["passages_expanded"] == 3
    assert expansions == {"bees": "how do bees make honey", "sun": "solar panel output", "bread": "starter yeast"}
    everything, _ = select_expansions(queries, small_corpus(), {"keep": 1.0, "filter_model": None})
    assert everything["bees"] == "how do bees make honey price of cars"  # most relevant first
    assert select_expansions(rows(), small_corpus(), {"filter_model": None})[0] == {}


def test_the_relevance_filter_drops_the_query_about_something_else():
    queries = rows(("bees", "how do bees make honey", -3.0), ("bees", "price of used cars", -0.1),
                   ("sun", "solar panel electricity", -3.0), ("sun", "medieval poetry", -0.1))
    expansions, _ = select_expansions(queries, small_corpus(), {"keep": 0.5})  # the bi-encoder, not the log-probs
    assert expansions == {"bees": "how do bees make honey", "sun": "solar panel electricity"}


def test_expansions_are_written_as_json_lines_and_the_config_is_checked(tmp_path):
    path = write_expansions({"sun": "solar cells", "my doc.md#2": "ünïcode"}, tmp_path / "out" / "expansions.jsonl")
    assert [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] == [
        {"_id": "sun", "expansion": "solar cells"}, {"_id": "my doc.md#2", "expansion": "ünïcode"}]
    with pytest.raises(ConfigError, match=r"inpars.expansion.keep"):
        ExpansionConfig.from_dict({"keep": 0})
