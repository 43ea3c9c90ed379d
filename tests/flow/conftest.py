import mlflow
import pytest


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A fresh MLflow store (registry included) in the test's temp dir, the process-wide tracking URI
    for the test, with an experiment to log into."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.MlflowClient(uri).create_experiment("flow", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.MlflowClient(uri)
    mlflow.set_tracking_uri(None)
