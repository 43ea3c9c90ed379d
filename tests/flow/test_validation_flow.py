"""The checks, the policy and the filters as the validation pipeline runs them (``synthir.flow.validation``)."""

import mlflow
import pytest
import yaml

from synthir.data import read_corpus
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.flow import validation

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def test_the_checks_quarantine_and_the_filters_keep_the_best(client, demo_dir):
    corpus = read_corpus(demo_dir)
    pairs = [
        ("d001", "how many eggs can a queen bee lay in a day"),
        ("d002", "what enzyme turns nectar into honey"),
        ("d002", "What enzyme turns nectar into honey?"),                      # near-duplicate
        ("d003", ""),                                                           # empty
        ("d004", "Example 3: Document: bees"),                                  # prompt residue
        ("d005", "how do\nbeekeepers inspect hives"),                           # multi-line
        ("d011", "how long does a sourdough starter take to become active"),
        ("d012", "why does bread dough need to rest before baking"),
    ]
    queries = SyntheticQueries([SyntheticQuery(doc_id=d, query=q, log_probs=[-0.5 - i / 10], doc_text=corpus[d].contents,
                                               prompt_id="inpars@v1", generator="hand") for i, (d, q) in enumerate(pairs)],
                               generator="hand", prompt_id="inpars@v1", corpus_fingerprint=corpus.fingerprint())
    parameters = yaml.safe_load((ROOT / "configs" / "validation" / "default.yaml").read_text())["parameters"]
    with mlflow.start_run() as run:
        checked = validation.check_synthetic_queries(queries, corpus, parameters["checks"])
        validation.enforce_validation_policy(checked.report)
        filtered, report, _ = validation.filter_synthetic_queries(checked.checked, corpus, checked.report,
                                                                  parameters["filters"])
    reasons = {q.query: q.extra["quarantine_reasons"] for q in checked.quarantine}
    assert reasons["What enzyme turns nectar into honey?"] == ["near_duplicates"]
    assert "not_empty" in reasons[""] and "prompt_residue" in reasons["Example 3: Document: bees"]
    assert "single_line" in reasons["how do\nbeekeepers inspect hives"]
    assert report.total == 8 and report.after_checks == 4 and not report.failed
    assert [f["name"] for f in report.filters] == ["scores", "consistency"]
    assert report.filters[0]["after"] == 4  # ceil(0.8 * 4)
    assert len(filtered) == report.kept and {q.doc_id for q in filtered} <= {"d001", "d002", "d011", "d012"}
    metrics = client.get_run(run.info.run_id).data.metrics
    assert metrics["validation.queries_in"] == 8 and metrics["validation.pass_rate.near_duplicates"] == pytest.approx(7 / 8)
    assert "validation.copy_rate" in metrics and "validation.kept_fraction" in metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "validation")}
    assert artifacts == {"validation/check_report.html", "validation/validation_report.html"}


def test_queries_of_another_corpus_are_refused_by_the_checks(demo_dir):
    corpus = read_corpus(demo_dir)
    queries = SyntheticQueries([SyntheticQuery(doc_id="d001", query="bees")], corpus_fingerprint="0123abcd")
    with pytest.raises(ValueError, match=r"generated for corpus 0123abcd, but `collection` has fingerprint"):
        validation.check_synthetic_queries(queries, corpus)
