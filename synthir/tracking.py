"""Thin MLflow logging helpers used by the steps.

They log into the active MLflow run (ZenML's MLflow experiment tracker opens one per pipeline run)
and do nothing, with one warning, when there is none, so the library stays usable without MLflow.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
_warned = False


def _active_run():
    global _warned
    import mlflow

    run = mlflow.active_run()
    if run is None and not _warned:
        logger.warning("No active MLflow run: figures are not tracked (run through a stack with an MLflow tracker)")
        _warned = True
    return run


def log_params(params: Mapping[str, Any], prefix: str = "") -> None:
    if _active_run() is None:
        return
    import mlflow

    flat = {f"{prefix}{key}": ("" if value is None else str(value))[:6000] for key, value in params.items()}
    mlflow.log_params(flat)


def log_metrics(metrics: Mapping[str, float], prefix: str = "", step: int | None = None) -> None:
    if _active_run() is None:
        return
    import mlflow

    finite = {f"{prefix}{k}": float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
    mlflow.log_metrics(finite, step=step)


def log_artifact(path: str | Path, artifact_path: str | None = None) -> None:
    if _active_run() is None:
        return
    import mlflow

    mlflow.log_artifact(str(path), artifact_path=artifact_path)


def ensure_experiment(name: str, tracking_uri: str | None = None) -> str:
    """The id of experiment ``name`` in the store (``tracking_uri``, else the current one), created when
    missing. On a sqlite store its artifacts are pinned beside the database (``<its folder>/artifacts``):
    MLflow would put them in ``./mlruns`` of whatever folder the process runs in, apart from the store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    uri = tracking_uri or mlflow.get_tracking_uri()
    location = None
    if uri.startswith("sqlite:///"):
        location = (_local_store_path(uri).resolve().parent / "artifacts").as_uri()
    try:
        return client.create_experiment(name, artifact_location=location)
    except MlflowException:  # another process created it meanwhile
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


@contextlib.contextmanager
def run_of_its_own(name: str, experiment: str | None = None):
    """Inside: the active MLflow run, or one opened for ``name`` and closed on the way out (logging a
    model outside a run would open one implicitly and leave it open for the rest of the process).
    ``experiment``: open it in this experiment of the current store (created when missing) without
    making that the active experiment, which another store would not know (None: the active one)."""
    import mlflow

    if mlflow.active_run() is not None:
        yield mlflow.active_run()
        return
    experiment_id = ensure_experiment(experiment) if experiment is not None else None
    with mlflow.start_run(run_name=name, experiment_id=experiment_id) as run:
        yield run


@contextlib.contextmanager
def child_run(name: str):
    """Inside an active MLflow run: a nested run ``name`` (a stage that logs the same parameter names
    with other values, e.g. the expansion's generation); outside one: nothing is logged, as elsewhere."""
    import mlflow

    if _active_run() is None:
        yield None
        return
    with mlflow.start_run(run_name=name, nested=True) as run:
        yield run


def record_figures(figures: Mapping[str, float], prefix: str = "", **metadata: Any) -> None:
    """One call for a step's figures: MLflow metrics (``<prefix><name>``) and the ZenML step's
    metadata (the figures under their plain names, plus ``metadata``), so the dashboard and MLflow
    show the same numbers. Outside a step only the MLflow half applies."""
    log_metrics(figures, prefix=prefix)
    try:
        from zenml import get_step_context, log_metadata

        get_step_context()
    except (ImportError, RuntimeError):  # not inside a ZenML step
        return
    log_metadata(metadata={**metadata, **figures})


def log_text(text: str, artifact_file: str) -> None:
    """A text artifact (an HTML report, a table) straight from memory, no temp folder."""
    if _active_run() is None:
        return
    import mlflow

    mlflow.log_text(text, artifact_file)


def set_tags(tags: Mapping[str, Any]) -> None:
    if _active_run() is None:
        return
    import mlflow

    mlflow.set_tags({k: str(v) for k, v in tags.items()})


def stack_tracker():
    """The active ZenML stack's MLflow experiment tracker; None without a repository, a stack or a tracker."""
    try:
        from zenml.client import Client

        tracker = Client().active_stack.experiment_tracker
    except Exception:  # no ZenML repository or stack
        return None
    return tracker if tracker is not None and hasattr(tracker, "get_tracking_uri") else None


def use_stack_tracking_uri() -> str:
    """Point MLflow at the active ZenML stack's tracker (steps get this from ZenML; code that runs
    while a pipeline is being composed, before any step, does not) and return the URI. An explicit
    ``MLFLOW_TRACKING_URI`` in the environment wins, as it does for MLflow itself."""
    import os

    import mlflow

    if os.environ.get("MLFLOW_TRACKING_URI"):
        mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    elif (tracker := stack_tracker()) is not None:
        mlflow.set_tracking_uri(tracker.get_tracking_uri())
    return mlflow.get_tracking_uri()


PROJECT_STORE = Path(__file__).resolve().parents[1] / "mlruns" / "mlflow.db"  # the local stack's store


def _require_existing_store(uri: str, where: str) -> None:
    """A local store (``sqlite:///file``, ``file://folder`` or a folder) must exist: MLflow would create
    an empty one at a mistyped path and answer from it ("model not found")."""
    path = _local_store_path(uri)
    if path is not None and not path.exists():
        raise RuntimeError(f"{where} names {uri}, but {path} does not exist (a mistyped path? nothing was created "
                           f"there); the project's local store is sqlite:///{PROJECT_STORE}")


def _local_store_path(uri: str) -> Path | None:
    """The file or folder of a local store (``sqlite:///file``, ``file://folder``, a folder); None otherwise."""
    from urllib.parse import urlparse

    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///"))
    if urlparse(uri).scheme in ("", "file"):
        return Path(urlparse(uri).path if uri.startswith("file:") else uri)
    return None  # a tracking server, databricks, ...: it answers for itself


def require_writable_store(uri: str) -> None:
    """A run writes to its MLflow store from its first step; a local store that cannot be written (a
    read-only file, folder or mount) is named here, before any step, instead of failing inside one."""
    import sqlite3
    import tempfile

    path = _local_store_path(uri)
    if path is None:
        return
    fix = "make it writable, or point MLFLOW_TRACKING_URI (or the stack's experiment tracker) at a writable store"
    try:
        if uri.startswith("sqlite:///") and path.exists():
            db = sqlite3.connect(path, timeout=30)
            try:  # a write that is rolled back: SQLite itself says whether it may write
                db.execute("BEGIN IMMEDIATE")
                db.execute("CREATE TABLE synthir_write_probe (x)")
                db.rollback()
            finally:
                db.close()
        else:
            folder = path if path.is_dir() else path.parent
            folder.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=folder).close()
    except (sqlite3.Error, OSError) as err:
        raise RuntimeError(f"the MLflow store {uri} cannot be written ({err}); {fix}") from None


def find_tracking_uri(explicit: str | None = None) -> str:
    """The MLflow store a command line should use, and point MLflow at it: ``explicit``
    (``--tracking-uri``), else ``MLFLOW_TRACKING_URI``, else the active ZenML stack's tracker, else
    the project's local store. Raises when none exists, rather than letting MLflow create an empty
    ``./mlflow.db`` and answer from it."""
    import os

    import mlflow

    if explicit:
        _require_existing_store(explicit, "--tracking-uri")
        mlflow.set_tracking_uri(explicit)
        return explicit
    if os.environ.get("MLFLOW_TRACKING_URI"):
        _require_existing_store(os.environ["MLFLOW_TRACKING_URI"], "MLFLOW_TRACKING_URI")
    if os.environ.get("MLFLOW_TRACKING_URI") or stack_tracker() is not None:
        return use_stack_tracking_uri()
    if PROJECT_STORE.exists():
        uri = f"sqlite:///{PROJECT_STORE}"
        mlflow.set_tracking_uri(uri)
        return uri
    raise RuntimeError(f"no MLflow store found: pass --tracking-uri, set MLFLOW_TRACKING_URI, or create the local "
                       f"stack's store with `make stack` (it lives at {PROJECT_STORE})")
