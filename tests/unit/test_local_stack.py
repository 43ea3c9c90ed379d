"""infra/local_stack.py is idempotent: a second run changes nothing and keeps the stack active."""


def test_local_stack_registration_is_idempotent(zenml_stack, session_dir):
    import local_stack
    from zenml.client import Client
    from zenml.enums import StackComponentType

    client = Client()
    stack = client.active_stack_model
    assert stack.name == "synthir_local"
    tracker = stack.components[StackComponentType.EXPERIMENT_TRACKER][0]
    assert tracker.configuration["tracking_uri"] == zenml_stack
    assert StackComponentType.MODEL_REGISTRY in stack.components

    uri = local_stack.setup_local_stack(session_dir / "mlruns", init_repo=session_dir / "repo")
    assert uri == zenml_stack
    assert client.active_stack_model.id == stack.id
    names = [s.name for s in client.list_stacks(size=100).items]
    assert names.count("synthir_local") == 1

    import mlflow

    experiment = mlflow.MlflowClient(uri).get_experiment_by_name("synthir")
    assert experiment.artifact_location.startswith((session_dir / "mlruns").as_uri())


def test_an_experiment_keeps_its_artifacts_beside_its_sqlite_store_not_in_the_working_folder(tmp_path, monkeypatch):
    """MLflow would put a new experiment's artifacts in ./mlruns of the process's folder, apart from the store:
    a benchmark's temp store would leave them behind in the checkout."""
    import mlflow

    from synthir.tracking import ensure_experiment, run_of_its_own

    store, working = tmp_path / "store", tmp_path / "working"
    store.mkdir()
    working.mkdir()
    monkeypatch.chdir(working)
    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    try:
        with run_of_its_own("probe", experiment="synthir-benchmarks") as run:
            mlflow.log_text("figures", "note.txt")
        assert ensure_experiment("synthir-benchmarks") == run.info.experiment_id  # found, not created twice
    finally:
        mlflow.set_tracking_uri(None)
    assert [p.relative_to(store).parts[0] for p in store.rglob("note.txt")] == ["artifacts"]
    assert list(working.iterdir()) == []
