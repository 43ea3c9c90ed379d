import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run, zenml_pipeline_run

pytestmark = pytest.mark.integration


def save_queries(name: str, pairs: list[tuple[str, str]], demo_dir):
    """A SyntheticQueries artifact made by hand (the pipeline validates any given artifact)."""
    from zenml import save_artifact

    import materializers  # noqa: F401
    from synthir.data import read_corpus
    from synthir.data.synthetic import SyntheticQueries, SyntheticQuery

    corpus = read_corpus(demo_dir)
    rows = [SyntheticQuery(doc_id=d, query=q, log_probs=[-0.5 - i / 10], doc_text=corpus[d].contents,
                           prompt_id="inpars@v1", generator="hand")
            for i, (d, q) in enumerate(pairs)]
    save_artifact(SyntheticQueries(rows, generator="hand", prompt_id="inpars@v1", corpus_fingerprint=corpus.fingerprint()),
                  name=name)
    return corpus


def config_for(demo_dir, artifact: str) -> dict:
    config = yaml.safe_load((PROJECT_ROOT / "configs" / "validation" / "default.yaml").read_text())
    config["parameters"].update({"collection": str(demo_dir), "artifact": artifact})
    return config


def test_validation_pipeline_quarantines_and_filters(zenml_stack, demo_dir, tmp_path):
    save_queries("hand_queries", [
        ("d001", "how many eggs can a queen bee lay in a day"),
        ("d002", "what enzyme turns nectar into honey"),
        ("d002", "What enzyme turns nectar into honey?"),                      # near-duplicate
        ("d003", ""),                                                           # empty
        ("d004", "Example 3: Document: bees"),                                  # prompt residue
        ("d005", "how do\nbeekeepers inspect hives"),                           # multi-line
        ("d011", "how long does a sourdough starter take to become active"),
        ("d012", "why does bread dough need to rest before baking"),
    ], demo_dir)
    zenml_pipeline_run("pipelines.validation.validation_pipeline", config_for(demo_dir, "hand_queries"), tmp_path)

    from zenml.client import Client

    run = Client().get_pipeline("validation_pipeline").last_run
    quarantine = run.steps["check_synthetic_queries"].outputs["quarantine"][0].load()
    report = run.steps["filter_synthetic_queries"].outputs["validation_report"][0].load()
    filtered = run.steps["filter_synthetic_queries"].outputs["filtered_queries"][0].load()
    reasons = {q.query: q.extra["quarantine_reasons"] for q in quarantine}
    assert reasons["What enzyme turns nectar into honey?"] == ["near_duplicates"]
    assert "not_empty" in reasons[""] and "prompt_residue" in reasons["Example 3: Document: bees"]
    assert "single_line" in reasons["how do\nbeekeepers inspect hives"]
    assert report.total == 8 and report.after_checks == 4 and not report.failed
    assert [f["name"] for f in report.filters] == ["scores", "consistency"]
    assert report.filters[0]["after"] == 4  # ceil(0.8 * 4)
    assert len(filtered) == report.kept and {q.doc_id for q in filtered} <= {"d001", "d002", "d011", "d012"}

    client, mlflow_run = latest_mlflow_run(zenml_stack)
    metrics = mlflow_run.data.metrics
    assert metrics["validation.queries_in"] == 8 and metrics["validation.pass_rate.near_duplicates"] == pytest.approx(7 / 8)
    assert "validation.copy_rate" in metrics and "validation.kept_fraction" in metrics
    artifacts = {a.path for a in client.list_artifacts(mlflow_run.info.run_id, "validation")}
    assert artifacts == {"validation/check_report.html", "validation/validation_report.html"}


def test_degenerate_generator_fails_the_run_but_keeps_the_report(zenml_stack, demo_dir, tmp_path):
    from synthir.data import read_corpus

    corpus = read_corpus(demo_dir)
    copies = [(d, " ".join(corpus[d].text.split()[3:12])) for d in ("d030", "d031", "d032")]
    save_queries("degenerate_queries", copies + [("d033", "how hot does lava get")], demo_dir)
    result = zenml_pipeline_run("pipelines.validation.validation_pipeline", config_for(demo_dir, "degenerate_queries"),
                                tmp_path, expect_failure=True)
    assert "copy_exact: 75.0% of queries fail it" in result.stdout + result.stderr
    # under plain `zenml pipeline run` too, the cause is one line of its own after the step's traceback
    assert ("synthir: step enforce_validation_policy failed: ValidationFailed: validation failed: copy_exact: 75.0% "
            "of queries fail it") in result.stderr

    from zenml.client import Client

    run = Client().get_pipeline("validation_pipeline").last_run
    assert run.status == "failed"
    report = run.steps["check_synthetic_queries"].outputs["check_report"][0].load()
    assert report.failed and report.copy_rate == pytest.approx(0.75)
    assert len(run.steps["check_synthetic_queries"].outputs["quarantine"][0].load()) == 3
