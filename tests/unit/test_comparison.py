"""The promotion gate's comparison: every system on the same judged queries, split and fusion in the library."""

import pytest

from synthir.data import load_collection
from synthir.evaluation.comparison import ProductionScorer, RerankerComparison, compare_rerankers, split_judged


class OverlapScorer:
    """Scores a pair by shared words: a deterministic stand-in for a model."""

    def score(self, queries, documents, doc_ids=None):
        return [float(len(set(q.lower().split()) & set(d.lower().split()))) for q, d in zip(queries, documents)]


class ReversedScorer(OverlapScorer):
    def score(self, queries, documents, doc_ids=None):
        return [-s for s in super().score(queries, documents, doc_ids)]


@pytest.fixture(scope="module")
def demo(demo_dir):
    return load_collection(demo_dir)


def test_the_dev_split_is_seeded_disjoint_and_only_when_tuning():
    judged = [f"q{i}" for i in range(20)]
    test, dev = split_judged(judged, tune=True, dev_fraction=0.3, seed=1)
    assert len(dev) == 6 and not dev & set(test) and set(test) | dev == set(judged)
    assert split_judged(judged, tune=True, dev_fraction=0.3, seed=1) == (test, dev)
    assert split_judged(judged, tune=True, dev_fraction=0.3, seed=2)[1] != dev
    assert split_judged(judged, tune=False, dev_fraction=0.3, seed=1) == (judged, set())


def test_every_system_is_scored_on_the_same_queries(demo):
    excluded = set(list(demo.qrels.query_ids)[:3])
    production = ProductionScorer(ReversedScorer(), fusion_weight=None, version="4")
    comparison, results, candidate = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(),
                                                       zero_shot=ReversedScorer(), production=production, depth=20,
                                                       fusion_weight=0.7, excluded=excluded)
    assert isinstance(comparison, RerankerComparison)
    assert [r.system for r in results] == ["bm25", "zero-shot", "trained", "fused", "production"]
    assert {r.num_queries for r in results} == {comparison.eval_queries} and comparison.eval_queries == 40 - 3
    assert candidate.system == comparison.candidate_system == "fused" and comparison.fusion_weight == 0.7
    assert comparison.production_version == "4" and comparison.excluded_queries == sorted(excluded)
    assert comparison.production == comparison.systems["production"]["ndcg_at_10"] < comparison.candidate
    assert comparison.zero_shot == comparison.systems["zero-shot"]["ndcg_at_10"]
    assert comparison.bm25 == comparison.systems["bm25"]["ndcg_at_10"]


def test_without_fusion_the_trained_model_alone_is_the_candidate_and_tuning_reports_on_the_rest(demo):
    alone, results, candidate = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), depth=20,
                                                  fusion_weight=None)
    assert candidate.system == "trained" and alone.fusion_weight is None and alone.production is None
    assert [r.system for r in results] == ["bm25", "trained"]
    tuned, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), depth=20,
                                    fusion_weight="tune", dev_fraction=0.25, seed=3)
    assert tuned.dev_queries == 10 and tuned.eval_queries == 30 and 0.0 <= tuned.fusion_weight <= 1.0
