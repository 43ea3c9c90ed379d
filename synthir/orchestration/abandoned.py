"""Runs abandoned by a killed process (``kill -9``, a lost laptop lid) stay ``running`` in ZenML and
MLflow for good. Each run records the process that executes its steps (the ``synthir.pid`` and
``synthir.host`` metadata of its first step); the next run of the same pipeline on that host marks
every such run whose process is gone as failed, with the reason, in ZenML and in MLflow.

Only runs whose steps ran on this machine are judged (a remote orchestrator's pod is not a local
process); ZenML is imported lazily, like everywhere in the library.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)
PID_KEY, HOST_KEY = "synthir.pid", "synthir.host"
ACTIVE = ("running", "initializing")


def record_process() -> None:
    """Inside a step: which process runs it, for ``mark_abandoned_runs`` to check later."""
    from zenml import log_metadata

    log_metadata(metadata={PID_KEY: os.getpid(), HOST_KEY: socket.gethostname()})


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def mark_abandoned_runs(pipeline_name: str) -> list[str]:
    """Mark this pipeline's runs whose recorded process on this host is gone as failed; returns their names."""
    from zenml.client import Client
    from zenml.enums import ExecutionStatus
    from zenml.models import PipelineRunUpdate, StepRunUpdate
    from zenml.utils.time_utils import utc_now

    client = Client()
    try:
        pipeline = client.get_pipeline(pipeline_name)
    except KeyError:
        return []
    marked = []
    here = socket.gethostname()
    for status in ACTIVE:
        for run in client.list_pipeline_runs(pipeline_id=pipeline.id, status=status, size=100).items:
            owners = {(s.run_metadata.get(HOST_KEY), s.run_metadata.get(PID_KEY)) for s in run.steps.values()}
            owners = {(host, int(pid)) for host, pid in owners if host and pid is not None}
            if not owners or any(host != here or process_alive(pid) for host, pid in owners):
                continue
            reason = (f"abandoned: its process ({', '.join(f'pid {pid}' for _, pid in sorted(owners))} on {here}) is gone "
                      f"(killed?); marked failed by the next run of {pipeline_name}")
            for step in run.steps.values():
                if str(step.status).lower().rsplit(".", 1)[-1] in ACTIVE:
                    client.zen_store.update_run_step(step.id, StepRunUpdate(status=ExecutionStatus.FAILED, end_time=utc_now()))
            client.zen_store.update_run(run.id, PipelineRunUpdate(status=ExecutionStatus.FAILED, status_reason=reason))
            _fail_mlflow_runs(run.name, reason)
            logger.warning("Run %s was left running by a dead process; marked failed: %s", run.name, reason)
            marked.append(run.name)
    return marked


def _fail_mlflow_runs(run_name: str, reason: str) -> None:
    """The MLflow runs ZenML's tracker opened for that run (named after it, and their nested step runs):
    failed, whatever they show (ZenML's tracker closes the run as FINISHED after each step)."""
    try:
        import mlflow

        from synthir.tracking import use_stack_tracking_uri

        use_stack_tracking_uri()
        client = mlflow.MlflowClient()
        parents = mlflow.search_runs(search_all_experiments=True, filter_string=f'tags.mlflow.runName = "{run_name}"',
                                     output_format="list")
        for parent in parents:
            children = mlflow.search_runs(experiment_ids=[parent.info.experiment_id], output_format="list",
                                          filter_string=f'tags.mlflow.parentRunId = "{parent.info.run_id}"')
            for run in [parent, *children]:
                client.set_tag(run.info.run_id, "synthir.abandoned", reason)
                client.set_terminated(run.info.run_id, status="FAILED")
    except Exception as err:  # no tracker on this stack, or its store is unreachable: ZenML's record is what counts
        logger.info("could not mark the MLflow runs of %s failed: %s", run_name, err)
