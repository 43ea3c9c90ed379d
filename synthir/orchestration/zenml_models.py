"""The registry's models as ZenML Models too, so the dashboard shows a model with its versions, their
lineage and which one is in production.

MLflow stays the registry of record (serving loads ``models:/<name>@production``); ZenML mirrors it:
- ZenML model ``<name>`` (``inpars-reranker``, ``inpars-generator``), version ``v<n>`` = MLflow version n
  (``zenml_version_name``; ZenML keeps bare numbers for its own counter);
- each version links every artifact of the pipeline run that produced it (corpus, synthetic and
  filtered queries, triples, the model, the comparison), and carries the gate's figures as metadata;
- its stage is ``production`` exactly when the MLflow alias points at it: the gate, ``synthir registry
  promote`` and ``rollback`` move both (``ModelStages.PRODUCTION`` is held by one version at a time).

A version registered outside a pipeline (or before the mirror existed) has no ZenML version; changing
its stage says so in the log and leaves the dashboard as it was.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def zenml_version_name(version: str) -> str:
    """ZenML's name for MLflow version ``version``."""
    return f"v{version}"


def record_version(name: str, version: str, description: str, metadata: dict[str, Any]):
    """Inside a step: ZenML model ``name`` version ``v<version>`` (created when new), linked to every
    artifact the current pipeline run has produced so far, with ``metadata``. Returns the model version."""
    from zenml import get_step_context, log_metadata
    from zenml.client import Client
    from zenml.exceptions import EntityExistsError
    from zenml.model.utils import link_artifact_version_to_model_version

    client = Client()
    try:
        client.get_model(name)
    except KeyError:
        try:
            client.create_model(name, description=description)
        except EntityExistsError:  # a concurrent run created it meanwhile
            pass

    try:
        model_version = client.get_model_version(name, zenml_version_name(version))
    except KeyError:
        try:
            model_version = client.create_model_version(name, name=zenml_version_name(version),
                                                        description=f"MLflow {name} version {version}")
        except EntityExistsError:  # a run completing the same version created it meanwhile
            model_version = client.get_model_version(name, zenml_version_name(version))
    run = client.get_pipeline_run(get_step_context().pipeline_run.id)
    linked = 0
    for step in run.steps.values():
        for artifacts in step.outputs.values():
            for artifact in artifacts:
                link_artifact_version_to_model_version(artifact, model_version)
                linked += 1
    log_metadata(metadata={**metadata, "mlflow_version": version, "pipeline_run": run.name}, model_name=name,
                 model_version=zenml_version_name(version))
    logger.info("ZenML model %s version %s: %d artifacts of run %s linked", name, version, linked, run.name)
    return model_version


def mirror_production(name: str, version: str) -> bool:
    """Give ZenML model ``name``'s version ``version`` the production stage (taking it from any other).
    False when the ZenML store has no such model version (the dashboard is then left as it was, and
    the log says so)."""
    from zenml.client import Client
    from zenml.enums import ModelStages

    client = Client()
    try:
        client.update_model_version(name, zenml_version_name(version), stage=ModelStages.PRODUCTION, force=True)
        return True
    except KeyError:
        logger.warning("ZenML has no model version %s v%s (registered outside a pipeline?): its dashboard stage is "
                       "unchanged; MLflow's %s alias moved", name, version, "production")
        return False
    except Exception as err:  # the ZenML store is unreachable or locked: MLflow has already moved
        raise RuntimeError(f"MLflow's {name}@production now points at v{version}, but mirroring the stage to ZenML failed "
                           f"({type(err).__name__}: {err}); run `synthir registry promote --name {name} --version "
                           f"{version}` again once the ZenML store is reachable") from err
