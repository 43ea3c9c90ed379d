"""Run pipelines the way users do (``zenml pipeline run``) and read back what MLflow recorded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def zenml_pipeline_run(source: str, config: dict, tmp_path: Path, timeout: int = 1200,
                       expect_failure: bool = False) -> subprocess.CompletedProcess:
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    zenml = Path(sys.executable).parent / "zenml"
    result = subprocess.run(
        [str(zenml), "pipeline", "run", source, "-c", str(config_path)],
        cwd=PROJECT_ROOT, env=os.environ.copy(), capture_output=True, text=True, timeout=timeout,
    )
    if expect_failure:
        assert result.returncode != 0, "the pipeline was expected to fail but succeeded"
        return result
    if result.returncode != 0:
        output = result.stdout + result.stderr
        errors = [line for line in output.splitlines() if "Error" in line or "Exception" in line or "failed" in line]
        raise AssertionError(f"zenml pipeline run failed ({result.returncode}):\n" + "\n".join(errors[-20:])
                             + f"\n--- output tail ---\n{output[-3000:]}")
    return result


def latest_mlflow_run(tracking_uri: str, experiment: str = "synthir"):
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no MLflow experiment {experiment!r} at {tracking_uri}"
    runs = client.search_runs([found.experiment_id], order_by=["attributes.start_time DESC"], max_results=1)
    assert runs, f"no MLflow run in experiment {experiment!r}"
    return client, runs[0]
