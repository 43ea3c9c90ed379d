"""A run killed with ``kill -9`` does not stay ``running``: the next run of the pipeline marks it failed,
with the reason, in ZenML and in MLflow."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
import yaml
from helpers import PROJECT_ROOT

pytestmark = pytest.mark.integration


def status_of(thing) -> str:
    return str(thing.status).lower().rsplit(".", 1)[-1]


def test_a_killed_run_is_marked_failed_by_the_next_run(zenml_stack, demo_dir, tmp_path):
    from zenml.client import Client

    from pipelines.generation import generation_pipeline

    config = yaml.safe_load((PROJECT_ROOT / "configs" / "generation" / "default.yaml").read_text())
    config["parameters"].update({"collection": str(demo_dir), "max_generations": 200, "query_store": None,
                                 "seed": 977})  # a sample no other test has checkpointed: generation takes a while
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    zenml = Path(sys.executable).parent / "zenml"
    process = subprocess.Popen([str(zenml), "pipeline", "run", "pipelines.generation.generation_pipeline", "-c", str(path)],
                               cwd=PROJECT_ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    client = Client()
    run = None

    def mlflow_runs_of(pipeline_run):  # in the stack's store, whatever another test left as mlflow's default
        store = mlflow.MlflowClient(tracking_uri=zenml_stack)
        return store.search_runs([e.experiment_id for e in store.search_experiments()],
                                 filter_string=f'tags.mlflow.runName = "{pipeline_run.name}"')

    deadline = time.time() + 300
    while time.time() < deadline:  # until the generation step is under way, its MLflow run opened
        try:  # the pipeline is registered a moment before its run is: wait for both
            runs = client.get_pipeline("generation_pipeline").get_runs(size=1)
        except KeyError:
            runs = []
        if runs:
            run = runs[0]
            step = run.steps.get("generate_synthetic_queries")
            # the step's tracker opens the MLflow run just after the step starts: on a busy machine
            # (the suite runs on every core) a kill between the two leaves no MLflow run to mark
            if step is not None and status_of(step) == "running" and mlflow_runs_of(run):
                break
        assert process.poll() is None, "the run ended before it could be killed"
        time.sleep(1)
    else:
        pytest.fail("the generation step never started")
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert status_of(client.get_pipeline_run(run.id)) == "running"  # what ZenML believes without us

    generation_pipeline.prepare(collection=str(demo_dir))  # composing the next run is enough
    abandoned = client.get_pipeline_run(run.id)
    assert status_of(abandoned) == "failed" and "abandoned: its process" in abandoned.get_body().status_reason
    assert status_of(abandoned.steps["generate_synthetic_queries"]) == "failed"
    mlflow_runs = mlflow_runs_of(run)
    assert mlflow_runs and all(r.info.status == "FAILED" and "abandoned" in r.data.tags["synthir.abandoned"]
                               for r in mlflow_runs)
