"""Test session set-up: every bit of ZenML, MLflow and cache state lives in one temp dir.

The environment is set at import time, before anything imports zenml or mlflow.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from fixtures.sessions import OWNER_FILE, remove_folders_of_killed_sessions

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SESSION_DIR = Path(tempfile.mkdtemp(prefix="synthir-tests-"))
SESSION_STARTED = time.time()
# Packaged models made loadable (the GGUF generators de-quantised: Gemma's takes over a minute) are
# shared by the session's pytest-xdist workers, which inherit the controller's environment; a file
# lock lets one worker build each. They depend only on the installed packages, not on any test.
MADE_MODEL_CACHE = "SYNTHIR_TEST_MODEL_CACHE_DIR" not in os.environ  # the controller, or a run without workers
if MADE_MODEL_CACHE:
    os.environ["SYNTHIR_TEST_MODEL_CACHE_DIR"] = tempfile.mkdtemp(prefix="synthir-test-models-")
MODEL_CACHE_DIR = Path(os.environ["SYNTHIR_TEST_MODEL_CACHE_DIR"])
(SESSION_DIR / OWNER_FILE).write_text(str(os.getpid()))
if MADE_MODEL_CACHE:
    (MODEL_CACHE_DIR / OWNER_FILE).write_text(str(os.getpid()))
CISI_DIR = (PROJECT_ROOT.parent / "shared" / "data" / "cisi").resolve()
DEMO_DIR = PROJECT_ROOT / "data" / "demo"

os.environ.update(
    {
        "ZENML_CONFIG_PATH": str(SESSION_DIR / "zenml"),
        "ZENML_REPOSITORY_PATH": str(SESSION_DIR / "repo"),
        "ZENML_CUSTOM_SOURCE_ROOT": str(PROJECT_ROOT),
        "ZENML_ANALYTICS_OPT_IN": "false",
        "ZENML_LOGGING_COLORS_DISABLED": "true",
        "AUTO_UPDATE_SETTINGS": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "MLFLOW_TRACKING_URI": f"sqlite:///{SESSION_DIR / 'mlruns' / 'mlflow.db'}",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "SYNTHIR_CACHE_DIR": str(SESSION_DIR / "cache"),
        "SYNTHIR_MODEL_CACHE_DIR": str(MODEL_CACHE_DIR),
        "IR_DATASETS_HOME": str(SESSION_DIR / "ir_datasets"),
    }
)
(SESSION_DIR / "repo").mkdir(parents=True, exist_ok=True)
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    # `make test` runs the files on as many pytest-xdist workers as there are cores: each worker (and the
    # pipelines it starts) gets its share of the cores, since oversubscribed math libraries spin and run
    # several times slower, not in parallel
    THREADS = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    os.environ.update({"OMP_NUM_THREADS": THREADS, "MKL_NUM_THREADS": THREADS, "OPENBLAS_NUM_THREADS": THREADS,
                       "TOKENIZERS_PARALLELISM": "false"})


def pytest_sessionstart(session):
    if MADE_MODEL_CACHE:  # the controller, once
        remove_folders_of_killed_sessions(Path(tempfile.gettempdir()))
    # The ZenML repository must exist before anything creates a Client: a Client made earlier (by a
    # materializer test, say) would keep using the global config, and the stack that the `zenml_stack`
    # fixture activates would not be the one `zenml pipeline run` subprocesses see.
    from zenml.client import Client

    Client.initialize(root=SESSION_DIR / "repo")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(SESSION_DIR, ignore_errors=True)
    if MADE_MODEL_CACHE:
        shutil.rmtree(MODEL_CACHE_DIR, ignore_errors=True)
        leaked = runs_left_in_the_checkout()
        if leaked:  # MLflow puts an unpinned experiment's artifacts in ./mlruns: a test's store left them here
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            reporter.write_line(
                f"\nMLflow artifacts of {len(leaked)} run(s) were written into the checkout during the tests, apart from "
                f"their store (an experiment created without synthir.tracking.ensure_experiment?): {leaked[:5]}", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def runs_left_in_the_checkout() -> list[str]:
    """Run folders (``mlruns/<experiment id>/<run>``) of the checkout made since the session started."""
    return sorted(str(run.relative_to(PROJECT_ROOT)) for run in (PROJECT_ROOT / "mlruns").glob("*/*")
                  if run.parent.name.isdigit() and run.stat().st_ctime >= SESSION_STARTED)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return SESSION_DIR


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    return DEMO_DIR


@pytest.fixture(scope="session")
def cisi_dir() -> Path:
    if not (CISI_DIR / "corpus.jsonl").exists():
        pytest.skip(f"CISI collection not found at {CISI_DIR} (needs ../shared/data/cisi beside the project)")
    return CISI_DIR


@pytest.fixture(scope="session")
def zenml_stack() -> str:
    """The project's local stack, registered in the session's temp ZenML store; returns the MLflow URI."""
    import sys

    sys.path.insert(0, str(PROJECT_ROOT / "infra"))
    from local_stack import setup_local_stack

    return setup_local_stack(SESSION_DIR / "mlruns", init_repo=SESSION_DIR / "repo")


@pytest.fixture
def client(tmp_path, monkeypatch):
    """An MLflow client on a fresh sqlite store (registry included) in the test's temp dir, also the
    process-wide tracking URI for the test, with an experiment to log into."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.MlflowClient(uri).create_experiment("t", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment(experiment_id=experiment)
    yield mlflow.MlflowClient(uri)
    mlflow.set_tracking_uri(None)
