import pytest
import yaml
from helpers import PROJECT_ROOT, latest_mlflow_run

pytestmark = pytest.mark.integration


def test_synthir_run_merges_a_preset_and_runs_it(zenml_stack, demo_dir, tmp_path):
    """The `synthir run` command end to end: a config file through the console script, checked then run."""
    import subprocess
    import sys
    from pathlib import Path

    config = yaml.safe_load((PROJECT_ROOT / "configs" / "evaluation" / "default.yaml").read_text())
    config["parameters"]["collection"] = str(demo_dir)
    path = tmp_path / "evaluation.yaml"
    path.write_text(yaml.safe_dump(config))
    synthir = Path(sys.executable).parent / "synthir"
    done = subprocess.run([str(synthir), "run", "evaluation", str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    from zenml.client import Client

    pipeline_run = Client().get_pipeline("evaluation_pipeline").last_run
    assert pipeline_run.status == "completed"
    # every step's output loads back from the artifact store with the figure MLflow got
    evaluation = pipeline_run.steps["evaluate_run"].outputs["evaluation"][0].load()
    _, mlflow_run = latest_mlflow_run(zenml_stack)
    assert evaluation.metrics()["ndcg_at_10"] == pytest.approx(mlflow_run.data.metrics["ndcg_at_10"])
    # a typo ends the command with one line naming it, before ZenML starts
    config["parameters"]["top_kk"] = 10
    path.write_text(yaml.safe_dump(config))
    bad = subprocess.run([str(synthir), "run", "evaluation", str(path)], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         timeout=600)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == (
        "synthir: parameters.top_kk: evaluation_pipeline has no such parameter; did you mean 'top_k'? "
        "(it takes: collection, split, top_k, max_queries, rerankers, rerank_depth, fusion_weight)")
    # a collection that is not there is named before ZenML starts, too
    config["parameters"].pop("top_kk")
    config["parameters"]["collection"] = str(tmp_path / "no-such-collection")
    path.write_text(yaml.safe_dump(config))
    missing = subprocess.run([str(synthir), "run", "evaluation", str(path)], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=600)
    assert missing.returncode == 2 and missing.stderr.strip().splitlines()[-1].startswith(
        f"synthir: collection: {tmp_path / 'no-such-collection'}: no such file or folder; expected ")
    # a failure inside a step ends the command with its root cause, the step and our message
    broken = tmp_path / "broken-collection"
    broken.mkdir()
    (broken / "corpus.jsonl").write_text('{"_id": "d1", "text": "bees"}\n{"_id": "d2", "text": \n')
    config["parameters"]["collection"] = str(broken)
    path.write_text(yaml.safe_dump(config))
    failed = subprocess.run([str(synthir), "run", "evaluation", str(path)], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=600)
    last = failed.stderr.strip().splitlines()[-1]
    assert failed.returncode == 1 and last.startswith("synthir: run failed: step load_collection: "), last
    assert f"{broken / 'corpus.jsonl'}:2: malformed JSON line" in last, last
