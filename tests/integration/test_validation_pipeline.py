import pytest
import yaml
from helpers import PROJECT_ROOT, zenml_pipeline_run

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
