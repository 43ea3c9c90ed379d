import math

import pytest

from synthir.data import Qrels, Run
from synthir.evaluation import evaluate, metric_key


def test_hand_computed_case():
    # q1: relevant d1 and d3 at ranks 2 and 3; q2 is judged but the system returned nothing.
    qrels = Qrels({"q1": {"d1": 1, "d3": 1, "d9": 0}, "q2": {"d5": 1}})
    run = Run({"q1": {"d2": 0.9, "d1": 0.8, "d3": 0.7, "d4": 0.6}, "q9": {"d1": 1.0}})
    result = evaluate(run, qrels)

    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    q1 = result.per_query.loc["q1"]
    assert q1["nDCG@10"] == pytest.approx(dcg / idcg)
    assert q1["RR@10"] == pytest.approx(0.5)
    assert q1["AP"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert q1["R@100"] == pytest.approx(1.0)
    # The judged query with no results counts as zero; the unjudged q9 is ignored.
    assert list(result.per_query.index) == ["q1", "q2"]
    assert result.per_query.loc["q2"].sum() == 0
    assert result.aggregate["nDCG@10"] == pytest.approx(dcg / idcg / 2)
    assert result.metrics()["ndcg_at_10"] == pytest.approx(dcg / idcg / 2)


def test_graded_gain_and_cutoff():
    qrels = Qrels({"q": {"a": 2, "b": 1}})
    perfect = evaluate(Run({"q": {"a": 2.0, "b": 1.0}}), qrels, measures=["nDCG@10"])
    swapped = evaluate(Run({"q": {"b": 2.0, "a": 1.0}}), qrels, measures=["nDCG@10"])
    assert perfect.aggregate["nDCG@10"] == pytest.approx(1.0)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert swapped.aggregate["nDCG@10"] == pytest.approx(expected)
    deep = Run({"q": {**{f"x{i}": 100.0 - i for i in range(10)}, "a": 1.0}})
    assert evaluate(deep, qrels, measures=["RR@10"]).aggregate["RR@10"] == 0.0


def test_metric_keys_are_mlflow_safe():
    assert metric_key("nDCG@10") == "ndcg_at_10"
    assert metric_key("AP") == "map"
    assert metric_key("R@1000") == "r_at_1000"


def test_excluded_queries_are_left_out():
    qrels = Qrels({"q1": {"d1": 1}, "q2": {"d2": 1}})
    run = Run({"q1": {"d1": 1.0}, "q2": {"d9": 1.0}})
    assert evaluate(run, qrels, measures=["nDCG@10"]).aggregate["nDCG@10"] == pytest.approx(0.5)
    result = evaluate(run, qrels, measures=["nDCG@10"], exclude_query_ids=["q2"])
    assert list(result.per_query.index) == ["q1"] and result.aggregate["nDCG@10"] == pytest.approx(1.0)
