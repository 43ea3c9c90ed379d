"""The calibrated gate: PPI++ on the candidate's gain from golden and label-free queries, and the
generator's judgment that gives every query a proxy gain."""

import numpy as np
import pytest

from synthir.judgments.calibration import GeneratorJudge, ppi_gain


def population(rng, size, bias=0.0, noise=0.02):
    """Per-query human gains and a proxy that tracks them (with a bias and noise of its own)."""
    gain = rng.normal(0.02, 0.08, size)
    return gain, gain + bias + rng.normal(0.0, noise, size)


def test_a_proxy_that_tracks_the_gain_narrows_the_interval_and_its_bias_is_corrected():
    rng = np.random.default_rng(0)
    gain, proxy = population(rng, 20, bias=0.05)
    _, unlabelled = population(rng, 400, bias=0.05)
    calibrated = ppi_gain(gain, proxy, unlabelled, alpha=0.05)
    golden_width, width = calibrated.golden_high - calibrated.golden_low, calibrated.high - calibrated.low
    assert width < 0.6 * golden_width and calibrated.proxy_correlation > 0.9
    assert calibrated.low < 0.02 < calibrated.high  # the proxy's +0.05 bias is taken off by the golden queries
    assert calibrated.proxy_mean == pytest.approx(0.07, abs=0.02) and calibrated.low <= calibrated.lower_bound
    assert (calibrated.lower_bound > 0) == (calibrated.p_value < 0.05)
    assert calibrated.golden_low < calibrated.golden_lower_bound < calibrated.golden_mean


def test_a_useless_proxy_leaves_about_the_golden_interval():
    rng = np.random.default_rng(1)
    gain = rng.normal(0.02, 0.08, 20)
    calibrated = ppi_gain(gain, rng.normal(size=20), rng.normal(size=400), alpha=0.05)
    width, golden_width = calibrated.high - calibrated.low, calibrated.golden_high - calibrated.golden_low
    assert width < 1.15 * golden_width  # power tuning turns the proxy off instead of paying for it


def test_a_proxy_without_spread_falls_back_to_the_golden_queries_alone():
    """A judge that saw no difference between the models anywhere: PPI++'s tuned weight would be 0/0
    (a NaN estimate, which once broke the stored gate decision); the golden mean and interval stand."""
    golden = np.array([0.02, -0.01, 0.05, 0.0, 0.03, 0.01])
    gain = ppi_gain(golden, np.zeros(6), np.zeros(40))
    assert np.isfinite([gain.estimate, gain.low, gain.high, gain.lower_bound, gain.p_value]).all()
    assert gain.estimate == pytest.approx(golden.mean())
    assert (gain.low, gain.high) == pytest.approx((gain.golden_low, gain.golden_high))


def test_the_interval_covers_the_true_gain_at_its_level():
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(400):
        gain, proxy = population(rng, 20, bias=0.03, noise=0.04)
        _, unlabelled = population(rng, 200, bias=0.03, noise=0.04)
        calibrated = ppi_gain(gain, proxy, unlabelled, alpha=0.1)
        covered += calibrated.low <= 0.02 <= calibrated.high
    assert covered / 400 >= 0.85  # nominal 0.9; the normal interval on 20 queries is a little short


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="must be paired: 3 against 2"):
        ppi_gain([0.1, 0.2, 0.3], [0.1, 0.2], [0.0, 0.1])
    with pytest.raises(ValueError, match="at least 2 golden"):
        ppi_gain([0.1], [0.1], [0.0, 0.1])
    with pytest.raises(ValueError, match=r"alpha must be in \(0, 0.5\)"):
        ppi_gain([0.1, 0.2], [0.1, 0.2], [0.0, 0.1], alpha=0.7)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        GeneratorJudge(depth=0)


def test_the_generator_judges_the_demo_queries_mostly_as_people_did(demo_dir, monkeypatch):
    import torch

    from synthir.data import Queries, load_collection
    from synthir.retrieval import BM25Index
    from synthir.training import query_likelihood

    # fp32 on every CPU: which document wins must not hang on bf16 rounding
    monkeypatch.setattr(query_likelihood, "pick_dtype", lambda dtype, device: torch.float32)

    demo = load_collection(demo_dir)
    queries = Queries(dict(list(demo.queries.queries.items())[:8]))
    bm25 = BM25Index.build(demo.corpus).search(queries, k=10, show_progress=False)
    judged = GeneratorJudge(depth=4)({"bm25": bm25}, queries.queries, demo.corpus)
    assert set(judged.query_ids) == set(queries.queries) and all(len(j) == 1 for j in judged.judgments.values())
    agree = sum(bool(set(judged.judgments[q]) & demo.qrels.relevant(q, 1)) for q in queries.queries)
    first = sum(bool({bm25.ranked(q)[0][0]} & demo.qrels.relevant(q, 1)) for q in queries.queries)
    assert agree >= 5, (agree, first)  # of 8; the pools hold a relevant document for most queries


def test_calibration_needs_golden_queries_with_judgments_and_a_synthetic_gate():
    from synthir.config import ConfigError
    from synthir.inpars_config import InParsConfig

    with pytest.raises(ConfigError, match=r"evaluation\.calibration: .*needs both `queries:` and `qrels:`"):
        InParsConfig.from_dict({"evaluation": {"calibration": {"queries": "golden.jsonl"}}})
    with pytest.raises(ConfigError, match="calibrates synthetic judgments; with source: judged"):
        InParsConfig.from_dict({"evaluation": {"source": "judged", "calibration": {"queries": "q.jsonl", "qrels": "q.tsv"}}})
    calibration = InParsConfig.from_dict({"evaluation": {"calibration": {"queries": "q.jsonl", "qrels": "q.tsv"}}})
    assert calibration.evaluation.calibration.enabled and not InParsConfig().evaluation.calibration.enabled


def test_golden_files_that_cannot_calibrate_are_named(tmp_path):
    from synthir.config import ConfigError
    from synthir.data import Corpus, Document, Qrels, Queries
    from synthir.flow.evaluation import require_golden
    from synthir.judgments.config import CalibrationConfig

    corpus = Corpus({"a": Document("a", "text"), "b": Document("b", "text")}, aliases={"c": "a"})
    calibration = CalibrationConfig(queries="golden.jsonl", qrels="golden.tsv")
    queries = Queries({"q1": "one", "q2": "two", "q3": "three"})
    with pytest.raises(ConfigError, match=r"golden\.tsv judges 1 of the 3 queries in golden\.jsonl"):
        require_golden(queries, Qrels({"q1": {"a": 1}, "x9": {"b": 1}}), corpus, calibration)
    with pytest.raises(ConfigError, match=r"judges 1 documents that are not in the collection \(e\.g\. \['d'\]\)"):
        require_golden(queries, Qrels({"q1": {"a": 1}, "q2": {"d": 1}}), corpus, calibration)
    require_golden(queries, Qrels({"q1": {"a": 1}, "q2": {"c": 1}}), corpus, calibration)  # an alias is a document
