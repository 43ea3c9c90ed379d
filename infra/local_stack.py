"""Register and activate the local ZenML stack; idempotent and non-interactive.

    python infra/local_stack.py                 # MLflow store in ./mlruns (the default)
    python infra/local_stack.py --mlflow-dir /path/to/store

Stack ``synthir_local``: local orchestrator, local artifact store, MLflow experiment tracker and MLflow
model registry on a sqlite store (``<mlflow-dir>/mlflow.db``, artifacts in ``<mlflow-dir>/artifacts``).
Running it again updates the components in place and re-activates the stack.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "synthir_local"
TRACKER_NAME = "mlflow_tracker"
REGISTRY_NAME = "mlflow_registry"
EXPERIMENT_NAME = "synthir"

logger = logging.getLogger("synthir.infra")


def mlflow_tracking_uri(mlflow_dir: Path) -> str:
    return f"sqlite:///{mlflow_dir.resolve() / 'mlflow.db'}"


def ensure_mlflow_experiment(mlflow_dir: Path, experiment: str = EXPERIMENT_NAME) -> str:
    """Create the experiment with its artifacts pinned inside the store (MLflow would use ./mlruns of the cwd)."""
    from synthir.tracking import ensure_experiment

    mlflow_dir.mkdir(parents=True, exist_ok=True)
    return ensure_experiment(experiment, mlflow_tracking_uri(mlflow_dir))


def _upsert_component(client, component_type, name: str, configuration: dict) -> None:
    try:
        component = client.get_stack_component(component_type, name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack_component(name=name, flavor="mlflow", component_type=component_type,
                                      configuration=configuration)
        logger.info("registered %s %s", component_type.value, name)
        return
    if any(component.configuration.get(k) != v for k, v in configuration.items()):
        client.update_stack_component(name, component_type, configuration=configuration)
        logger.info("updated %s %s", component_type.value, name)


def setup_local_stack(mlflow_dir: Path, stack_name: str = STACK_NAME, init_repo: Path | None = PROJECT_ROOT) -> str:
    """Register (or update) the local stack and activate it; returns the MLflow tracking URI."""
    from zenml.client import Client
    from zenml.enums import StackComponentType

    if init_repo is not None and not (init_repo / ".zen").exists():
        Client.initialize(root=init_repo)
    client = Client()
    tracking_uri = mlflow_tracking_uri(mlflow_dir)
    ensure_mlflow_experiment(mlflow_dir)
    _upsert_component(client, StackComponentType.EXPERIMENT_TRACKER, TRACKER_NAME, {"tracking_uri": tracking_uri})
    _upsert_component(client, StackComponentType.MODEL_REGISTRY, REGISTRY_NAME, {})
    components = {
        StackComponentType.ORCHESTRATOR: "default",
        StackComponentType.ARTIFACT_STORE: "default",
        StackComponentType.EXPERIMENT_TRACKER: TRACKER_NAME,
        StackComponentType.MODEL_REGISTRY: REGISTRY_NAME,
    }
    try:
        client.get_stack(stack_name, allow_name_prefix_match=False)
    except KeyError:
        client.create_stack(name=stack_name, components=components)
        logger.info("registered stack %s", stack_name)
    client.activate_stack(stack_name)
    logger.info("active stack: %s (MLflow at %s)", stack_name, tracking_uri)
    return tracking_uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mlflow-dir", type=Path, default=Path(os.environ.get("SYNTHIR_MLFLOW_DIR", PROJECT_ROOT / "mlruns")))
    parser.add_argument("--stack-name", default=STACK_NAME)
    args = parser.parse_args()
    uri = setup_local_stack(args.mlflow_dir, args.stack_name)
    print(f"Stack '{args.stack_name}' is active. MLflow tracking URI: {uri}")
    print(f"Open the MLflow UI with: mlflow ui --backend-store-uri {uri}")


if __name__ == "__main__":
    main()
