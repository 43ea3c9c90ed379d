"""The promotion gate's comparison: every system on the same judged queries, split and fusion in the library."""

import pytest

from synthir.data import load_collection
from synthir.lifecycle.gate import Baseline, ProductionScorer, RerankerComparison, compare_rerankers, decide_reranker, split_judged


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
    assert [r.system for r in results] == ["bm25", "zero-shot", "zero-shot-fused", "trained", "fused", "production"]
    assert {r.num_queries for r in results} == {comparison.eval_queries} and comparison.eval_queries == 40 - 3
    assert candidate.system == comparison.candidate_system == "fused" and comparison.fusion_weight == 0.7
    assert comparison.production_version == "4" and comparison.excluded_queries == sorted(excluded)
    assert comparison.production == comparison.systems["production"]["ndcg_at_10"] < comparison.candidate
    assert comparison.zero_shot == comparison.systems["zero-shot"]["ndcg_at_10"]
    assert comparison.bm25 == comparison.systems["bm25"]["ndcg_at_10"]
    # the untrained model is on the candidate's footing: fused at the same weight
    assert set(comparison.baselines) == {"bm25", "untrained", "production"}
    untrained = comparison.baselines["untrained"]
    assert untrained.system == "zero-shot-fused" and untrained.figure == comparison.systems["zero-shot-fused"]["ndcg_at_10"]
    # word overlap beats its reverse on nearly every query: significant; p-values are probabilities
    assert comparison.baselines["production"].p_value < 0.01
    assert all(0.0 <= b.p_value <= 1.0 for b in comparison.baselines.values())
    assert comparison.source == "judged" and comparison.judgments == sum(
        len(demo.qrels.judgments[q]) for q in demo.qrels.query_ids if q not in excluded)


def test_without_fusion_the_trained_model_alone_is_the_candidate_and_tuning_reports_on_the_rest(demo):
    alone, results, candidate = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), depth=20,
                                                  fusion_weight=None)
    assert candidate.system == "trained" and alone.fusion_weight is None and alone.production is None
    assert [r.system for r in results] == ["bm25", "trained"] and set(alone.baselines) == {"bm25"}
    unfused, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), zero_shot=ReversedScorer(),
                                      depth=20, fusion_weight=None, significance_test="t-test")
    assert unfused.baselines["untrained"].system == "zero-shot" and unfused.significance_test == "t-test"
    tuned, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), depth=20,
                                    fusion_weight="tune", dev_fraction=0.25, seed=3)
    assert tuned.dev_queries == 10 and tuned.eval_queries == 30 and 0.0 <= tuned.fusion_weight <= 1.0


def make_comparison(candidate=0.60, bm25=0.50, untrained=0.55, p_bm25=0.001, p_untrained=0.001, queries=50,
                    production=None, p_production=0.001):
    baselines = {"bm25": Baseline(system="bm25", figure=bm25, p_value=p_bm25),
                 "untrained": Baseline(system="zero-shot-fused", figure=untrained, p_value=p_untrained)}
    if production is not None:
        baselines["production"] = Baseline(system="production", figure=production, p_value=p_production)
    return RerankerComparison(candidate=candidate, candidate_system="fused", bm25=bm25, production=production,
                              eval_queries=queries, source="synthetic", judgments=queries, baselines=baselines)


def test_the_gate_needs_the_margin_and_significance_over_every_baseline():
    promoted = decide_reranker(make_comparison(), margin=0.005, alpha=0.05, min_queries=30)
    assert promoted.promoted and "the untrained base model 0.5500" in promoted.reason
    assert promoted.source == "synthetic" and promoted.p_values == {"bm25": 0.001, "untrained": 0.001}
    assert promoted.baseline_name == "the untrained base model" and promoted.baseline == 0.55
    # beats BM25 (the old gate would promote) but not the untrained model: the synthetic data did not help
    refused = decide_reranker(make_comparison(untrained=0.598), margin=0.005, alpha=0.05, min_queries=30)
    assert not refused.promoted and "does not beat the untrained base model 0.5980" in refused.reason
    assert promoted.verdicts == {"bm25": True, "untrained": True} and refused.verdicts == {"bm25": True, "untrained": False}
    # the margin alone is not enough
    noisy = decide_reranker(make_comparison(p_untrained=0.2), margin=0.005, alpha=0.05, min_queries=30)
    assert not noisy.promoted and "but not significantly (alpha 0.05)" in noisy.reason
    assert noisy.verdicts == {"bm25": True, "untrained": False}
    few = decide_reranker(make_comparison(queries=12), margin=0.005, alpha=0.05, min_queries=30)
    assert not few.promoted and "only 12 evaluation queries (min_queries 30)" in few.reason
    behind = decide_reranker(make_comparison(production=0.61), margin=0.005, alpha=0.05, min_queries=30)
    assert not behind.promoted and "does not beat production 0.6100" in behind.reason
    # alpha 1 switches the significance requirement off (the margin still applies), only by the named switch
    with pytest.raises(ValueError, match=r"alpha 1.0 is above 0.1 \(no significance required\).*allow_weak_gate"):
        decide_reranker(make_comparison(p_untrained=1.0), margin=0.005, alpha=1.0, min_queries=30)
    weak = decide_reranker(make_comparison(p_untrained=1.0, queries=12), margin=0.005, alpha=1.0, min_queries=1,
                           allow_weak_gate=True)
    assert weak.promoted and weak.weakened == ["alpha 1.0 is above 0.1 (no significance required)",
                                               "min_queries 1 is below 20"]
    assert "GATE WEAKENED on purpose (evaluation.allow_weak_gate)" in weak.reason
    with pytest.raises(ValueError, match=r"promotion_margin -1.0 is negative"):
        decide_reranker(make_comparison(), margin=-1.0, alpha=0.05, min_queries=30)


def test_a_known_bias_for_the_candidate_comes_off_its_gain_and_its_test(demo):
    import pandas as pd

    from synthir.evaluation.significance import paired_p_value

    # +0.012 over the untrained model clears the margin, but not once 0.01 of synthetic bias is taken off
    comparison = make_comparison(candidate=0.562)
    comparison.baselines["untrained"].shift = 0.01
    refused = decide_reranker(comparison, margin=0.005, alpha=0.05, min_queries=30)
    assert not refused.promoted and "(+0.0120, 0.01 of it taken off as synthetic judgments' bias" in refused.reason
    assert refused.guards == {"untrained_bias": 0.01}
    # the test's null hypothesis moves with the shift: a gain of 0.05 a query is certain over 0, not over 0.06
    base = pd.Series([0.1 * i for i in range(20)])
    assert paired_p_value(base + 0.05, base) < 0.01 and paired_p_value(base + 0.05, base, shift=0.06) > 0.5
    shifted, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), zero_shot=ReversedScorer(),
                                      depth=20, fusion_weight=None, untrained_bias=0.02)
    plain, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(), zero_shot=ReversedScorer(),
                                    depth=20, fusion_weight=None)
    assert shifted.baselines["untrained"].shift == 0.02 and shifted.baselines["bm25"].shift == 0.0
    assert shifted.baselines["untrained"].p_value >= plain.baselines["untrained"].p_value


def test_reports_show_paired_significance_and_win_loss_against_bm25_and_the_untrained_model(demo, tmp_path):
    import pandas as pd

    from synthir.evaluation.report import comparison_markdown, comparison_win_loss, win_loss

    comparison, _, _ = compare_rerankers(demo.corpus, demo.queries, demo.qrels, OverlapScorer(),
                                         zero_shot=ReversedScorer(), depth=20, fusion_weight=None)
    assert set(comparison.per_query) == {"bm25", "zero-shot", "trained"}
    assert len(comparison.per_query["trained"]) == comparison.eval_queries
    table = comparison_markdown(comparison)
    header, _, *rows = table.splitlines()
    assert header.endswith("| vs bm25 (p) | vs zero-shot (p) |")
    trained = next(r for r in rows if r.startswith("| trained |"))
    gain = comparison.candidate - comparison.zero_shot
    p_value = comparison.baselines["untrained"].p_value
    assert trained.rstrip(" |").endswith(f"{gain:+.4f} (p={p_value:.3g})")  # the gate's own p-value
    assert "| bm25 | 40 |" in table and "source: judged, 40 queries" in table
    assert comparison_win_loss(comparison, tmp_path / "plot.png").stat().st_size > 1000

    gains, wins, ties, losses = win_loss(pd.Series({"a": 0.5, "b": 0.2, "c": 0.1}), pd.Series({"a": 0.1, "b": 0.2, "c": 0.4, "d": 1}))
    assert (wins, ties, losses) == (1, 1, 1) and list(gains.index) == ["a", "b", "c"]  # shared queries, best first


def test_golden_queries_calibrate_the_synthetic_gain_over_the_untrained_model(demo):
    from synthir.data import Qrels
    from synthir.lifecycle.gate import calibrate

    ids = sorted(demo.qrels.query_ids)
    golden, synthetic = ids[:15], ids[15:]
    synthetic_qrels = Qrels({q: demo.qrels.judgments[q] for q in synthetic})
    comparison, _, _ = compare_rerankers(demo.corpus, demo.queries.subset(synthetic), synthetic_qrels, OverlapScorer(),
                                         zero_shot=ReversedScorer(), depth=20, fusion_weight=0.7, source="synthetic")
    judged = []

    def people(runs, queries, corpus):  # a judge that judges as people did: the proxy is the human gain itself
        judged.append(sorted(queries))
        return Qrels({q: demo.qrels.judgments[q] for q in queries})

    calibrated = calibrate(comparison, demo.corpus, demo.queries, demo.queries.subset(golden),
                           Qrels({q: demo.qrels.judgments[q] for q in golden}), OverlapScorer(), ReversedScorer(), people,
                           depth=20, alpha=0.05)
    gain = calibrated.calibrated
    assert judged == [golden, synthetic]  # the judge reads the golden queries, then the comparison's own
    assert gain.golden_queries == 15 and gain.unlabelled_queries == 25 and gain.proxy_correlation == pytest.approx(1.0)
    assert gain.high - gain.low < gain.golden_high - gain.golden_low  # narrower than the golden queries alone
    untrained = calibrated.baselines["untrained"]
    assert untrained.p_value == gain.p_value and calibrated.baselines["bm25"] == comparison.baselines["bm25"]
    assert calibrated.candidate - untrained.figure - untrained.shift == pytest.approx(gain.estimate)
    decision = decide_reranker(calibrated, margin=0.0, min_queries=20)
    assert decision.verdicts["untrained"] == (gain.estimate >= 0 and gain.p_value < 0.05) and decision.verdicts["untrained"]
    refused = decide_reranker(calibrated, margin=gain.estimate + 0.01, min_queries=20)
    assert "calibrated by 15 golden queries to" in refused.reason and not refused.verdicts["untrained"]
    from synthir.evaluation.report import comparison_markdown

    assert "calibrated by golden queries (PPI++)" in comparison_markdown(calibrated)
