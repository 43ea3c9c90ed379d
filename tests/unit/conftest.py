import mlflow
import pytest


@pytest.fixture
def client(tmp_path, monkeypatch):
    """An MLflow client on a fresh sqlite store (registry included) in the test's temp dir, also the
    process-wide tracking URI for the test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.MlflowClient(uri).create_experiment("t", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.MlflowClient(uri)
    mlflow.set_tracking_uri(None)
