import pytest

from synthir.data import Corpus, Document
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.quality import ChecksConfig, check_queries, filter_queries
from synthir.quality.filters import keep_count, scores_filter, validate_filter_specs
from synthir.quality.text import exact_copy, lcs_ratio, ngram_share, repeated_ngram_share

DOC = "Honey bees collect nectar from flowers and turn it into honey inside the hive during the summer months."
CORPUS = Corpus({
    "bees": Document("bees", DOC),
    "sun": Document("sun", "Photovoltaic panels convert sunlight into electricity for homes and businesses."),
    "tea": Document("tea", "Green tea is steamed or pan-fired soon after picking to stop oxidation."),
})


def q(query: str, doc_id: str = "bees", log_probs=(-1.0,)) -> SyntheticQuery:
    return SyntheticQuery(doc_id=doc_id, query=query, log_probs=list(log_probs), doc_text=CORPUS[doc_id].contents)


def test_copy_measures():
    assert exact_copy("turn it into honey", DOC) and exact_copy("Turn it, into HONEY!", DOC)
    assert not exact_copy("how do bees make honey", DOC)
    assert ngram_share("collect nectar from flowers", DOC) == 1.0
    assert ngram_share("how do bees make honey", DOC) == 0.0
    assert ngram_share("bees", DOC) == 1.0  # short queries fall back to smaller n-grams
    assert lcs_ratio("nectar from flowers", DOC) == 1.0
    assert 0 < lcs_ratio("why do bees collect nectar", DOC) < 0.8
    # rep-3: 14 trigrams, 6 of them repeat an earlier one
    assert repeated_ngram_share("how many books are in the library of the library of the library of the library") == pytest.approx(6 / 14)
    assert repeated_ngram_share("what is the difference between a thesaurus and a classification") == 0.0
    assert repeated_ngram_share("bees bees") == 0.0  # fewer than two n-grams: nothing can repeat


CRAFTED = {
    "good": q("how do bees make honey"),
    "copy": q("collect nectar from flowers and turn it into honey"),
    "empty": q("   "),
    "residue": q("Example 3: Document: bees Relevant Query: what"),
    "duplicate": q("How do bees make honey?"),
    "multiline": q("how do bees\nmake honey"),
    "too_long": q(" ".join(["bees"] * 50) + " why"),
    "control": q("how do bees make\x07 honey"),
    "ngram_copy": q("bees collect nectar from flowers and turn honey"),  # 5 of 6 trigrams copied, not a substring
    "loop": q("how many books are in the library of the library of the library of the library"),  # a decoding loop
}


def test_each_crafted_bad_query_is_caught_by_the_right_check():
    config = ChecksConfig.from_dict({"copy_exact": {"fail_above": 0.9}})
    queries = SyntheticQueries(list(CRAFTED.values()), generator="test")
    kept, quarantine, report = check_queries(queries, config)
    names = list(CRAFTED)
    flagged = {check: {names[i] for i in outcome["failed_rows"]} for check, outcome in report.checks.items()}
    assert flagged["not_empty"] == {"empty"}
    assert "copy" in flagged["copy_exact"] and "good" not in flagged["copy_exact"]
    assert flagged["prompt_residue"] == {"residue"}
    # the later of near-identical queries (same words, other case/punctuation/spacing); never the first
    assert "duplicate" in flagged["near_duplicates"] and "good" not in flagged["near_duplicates"]
    assert flagged["single_line"] == {"multiline"}
    assert "too_long" in flagged["length"] and "empty" in flagged["length"]
    assert "multiline" in flagged["printable"] and "control" in flagged["printable"]
    assert {"copy", "ngram_copy"} <= flagged["copy_ngram"]
    assert "copy" in flagged["copy_lcs"]
    assert flagged["repetition"] == {"loop", "too_long"}
    assert [r.query for r in kept] == ["how do bees make honey"]
    assert len(quarantine) == len(CRAFTED) - 1
    by_query = {r.query: r.extra["quarantine_reasons"] for r in quarantine}
    assert set(by_query["collect nectar from flowers and turn it into honey"]) >= {"copy_exact", "copy_ngram", "copy_lcs"}
    assert not report.failed and report.kept == 1 and report.total == len(CRAFTED)
    assert report.metrics()["pass_rate.single_line"] == pytest.approx(1 - 1 / len(CRAFTED))
    assert "Validation report" in report.to_html()


def test_policies_warn_keeps_rows_and_fail_fails_the_run():
    queries = SyntheticQueries([CRAFTED["good"], CRAFTED["copy"], CRAFTED["copy"]])
    warned = ChecksConfig.from_dict({name: {"policy": "warn"} for name in ("copy_exact", "copy_ngram", "copy_lcs", "near_duplicates")}
                                    | {"copy_exact": {"policy": "warn", "fail_above": None}})
    kept, quarantine, report = check_queries(queries, warned)
    assert len(kept) == 3 and len(quarantine) == 0 and report.checks["copy_exact"]["failed"] == 2
    # A degenerate generator: two thirds of the queries copy their document -> the run fails.
    _, _, report = check_queries(queries, ChecksConfig.from_dict({"copy_exact": {"fail_above": 0.5}}))
    assert report.failed and "copy_exact" in report.failure_reasons[0]
    assert report.copy_rate == pytest.approx(2 / 3)
    _, _, report = check_queries(SyntheticQueries([CRAFTED["good"], CRAFTED["residue"]]),
                                 ChecksConfig.from_dict({"prompt_residue": {"policy": "fail"}}))
    assert report.failed and report.failure_reasons[0].startswith("prompt_residue")


def test_checks_config_errors_name_the_field():
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"^checks\.lenght: Extra inputs are not permitted"):
        ChecksConfig.from_dict({"lenght": {}})
    with pytest.raises(ConfigError, match=r"^checks\.length\.max: Extra inputs are not permitted \(got 3\)"):
        ChecksConfig.from_dict({"length": {"max": 3}})
    with pytest.raises(ConfigError, match=r"^checks\.copy_lcs\.policy: Input should be 'quarantine', 'warn' or 'fail' \(got 'drop'\)"):
        ChecksConfig.from_dict({"copy_lcs": {"policy": "drop"}})


def test_scores_filter_keeps_top_k_by_mean_log_prob():
    rows = [q(f"query {i}", log_probs=[-i, -i]) for i in range(6)]
    assert [r.query for r in scores_filter(rows, keep=2)] == ["query 0", "query 1"]
    assert [r.query for r in scores_filter(rows, keep=0.5)] == ["query 0", "query 1", "query 2"]
    assert len(scores_filter(rows, keep=100)) == 6
    assert keep_count(1.0, 7) == 7 and keep_count(0.1, 7) == 1
    with pytest.raises(ValueError, match="keep must be"):
        keep_count(0, 5)


def test_reranker_filter_prefers_queries_about_their_document():
    rows = [q("how do bees make honey"), q("what is the capital of peru"), q("how are solar panels wired", "sun"),
            q("best pizza toppings", "sun")]
    kept, _ = filter_queries(SyntheticQueries(rows), [{"name": "reranker", "keep": 2}], CORPUS,
                             check_queries(SyntheticQueries([]), ChecksConfig())[2])
    assert sorted(r.query for r in kept) == ["how are solar panels wired", "how do bees make honey"]


def test_consistency_filter_round_trip():
    rows = [q("honey bees nectar flowers"), q("photovoltaic electricity", "bees"), q("green tea oxidation", "tea")]
    _, _, report = check_queries(SyntheticQueries(rows), ChecksConfig())
    kept, final = filter_queries(SyntheticQueries(rows), [{"name": "consistency", "top_k": 1}], CORPUS, report)
    assert [r.query for r in kept] == ["honey bees nectar flowers", "green tea oxidation"]
    assert final.filters == [{"name": "consistency", "params": {"top_k": 1}, "before": 3, "after": 2}]
    assert final.kept == 2
    assert kept.filters == ["consistency(top_k=1)"] and kept.lineage()["filters"] == "consistency(top_k=1)"


def test_filters_compose_in_order_and_validate_specs():
    rows = [q("honey bees nectar", log_probs=[-0.1]), q("photovoltaic electricity", "bees", log_probs=[-0.2]),
            q("bees honey hive", log_probs=[-3.0])]
    _, _, report = check_queries(SyntheticQueries(rows), ChecksConfig())
    kept, final = filter_queries(SyntheticQueries(rows), [{"name": "scores", "keep": 2}, {"name": "consistency", "top_k": 1},
                                                          {"name": "none"}], CORPUS, report)
    assert [r.query for r in kept] == ["honey bees nectar"]
    assert [(f["name"], f["before"], f["after"]) for f in final.filters] == [("scores", 3, 2), ("consistency", 2, 1), ("none", 1, 1)]
    from synthir.config import ConfigError

    with pytest.raises(ConfigError, match=r"^filters\[0\]: Input tag 'bm25' found using 'name' does not match any of the "
                                          r"expected tags: 'scores', 'reranker', 'consistency', 'none'"):
        validate_filter_specs([{"name": "bm25"}])
    with pytest.raises(ConfigError, match=r"^filters\[0\]\.top_k: Extra inputs are not permitted \(got 3\)"):
        validate_filter_specs([{"name": "scores", "top_k": 3}])
