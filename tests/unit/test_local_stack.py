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
