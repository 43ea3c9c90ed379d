import pytest

from synthir.data import Corpus, Document, Qrels, Queries, Run
from synthir.retrieval.rerank import average, fuse, rerank, tune_fusion_weight


class LengthReranker:
    """Scores a document by its length: enough to check plumbing without a model."""

    def __init__(self):
        self.precomputed = []

    def precompute(self, doc_ids, documents):
        self.precomputed = list(doc_ids)

    def score(self, queries, documents, doc_ids=None):
        return [float(len(d)) for d in documents]


def test_rerank_rescores_the_top_depth_only():
    corpus = Corpus({"a": Document("a", "x"), "b": Document("b", "xxx"), "c": Document("c", "xx")})
    first = Run({"q": {"a": 3.0, "b": 2.0, "c": 1.0}})
    reranker = LengthReranker()
    out = rerank(first, Queries({"q": "query"}), corpus, reranker, depth=2, show_progress=False)
    assert out.scores == {"q": {"a": 1.0, "b": 3.0}} and reranker.precomputed == ["a", "b"]


def test_fusion_normalises_and_interpolates():
    model = Run({"q": {"a": 10.0, "b": 0.0, "c": 5.0}})
    bm25 = Run({"q": {"a": 1.0, "b": 3.0, "c": 2.0}})
    fused = fuse(model, bm25, 0.7).scores["q"]
    assert fused["a"] == pytest.approx(0.7 * 1.0 + 0.3 * 0.0)
    assert fused["b"] == pytest.approx(0.7 * 0.0 + 0.3 * 1.0)
    assert fused["c"] == pytest.approx(0.7 * 0.5 + 0.3 * 0.5)
    assert fuse(model, bm25, 1.0).ranked("q")[0][0] == "a" and fuse(model, bm25, 0.0).ranked("q")[0][0] == "b"
    with pytest.raises(ValueError, match=r"fusion weight must be in \[0, 1\]"):
        fuse(model, bm25, 1.5)


def test_average_is_an_ensemble_of_equals_over_the_first_runs_documents():
    first = Run({"q": {"a": 10.0, "b": 0.0, "c": 5.0}})
    second = Run({"q": {"a": 0.2, "b": 0.4, "d": 9.0}})  # c unscored here; d is not in the first run's pool
    averaged = average([first, second]).scores["q"]
    assert averaged == pytest.approx({"a": (1.0 + 0.0) / 2, "b": (0.0 + 1.0) / 2, "c": (0.5 + 0.0) / 2})
    assert average([first]).scores == fuse(first, first, 1.0).scores  # alone: its own min-max


def test_tuning_picks_the_weight_that_ranks_dev_judgments_best():
    model = Run({"q": {"a": 10.0, "b": 0.0, "c": 5.0}})
    bm25 = Run({"q": {"a": 1.0, "b": 3.0, "c": 2.0}})
    weight, grid = tune_fusion_weight(model, bm25, Qrels({"q": {"b": 1}}))
    assert weight == 0.0 and grid[0.0] == pytest.approx(1.0)  # only BM25 puts b first
    weight, _ = tune_fusion_weight(model, bm25, Qrels({"q": {"a": 1}}))
    assert weight == 0.6  # the smallest weight at which the model's favourite wins
