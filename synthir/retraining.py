"""When to retrain: compare the corpus at a location with the corpus the production reranker was
trained on, and remember what the gate already refused.

- The corpus **fingerprint** (a hash of every document's id, title and text, ``Corpus.fingerprint``)
  says whether anything changed; the **manifest** logged with each registered version (document id
  -> content hash, ``corpus/manifest.parquet`` in its MLflow run) says how much: new, changed and
  removed documents, checked against ``policy.min_new_documents`` and ``policy.min_changed_fraction``.
- **A memory of refusals**: a (corpus fingerprint, pipeline config hash) pair registered before and
  refused by the gate is not retrained again until the corpus or the config changes, or ``force``
  is set (or ``policy.retry_refused``): a nightly schedule no longer retrains and registers a
  duplicate of the same refused candidate every night.
"""

from __future__ import annotations

import logging
from typing import Optional

from pydantic import BaseModel, Field

from synthir import registry
from synthir.config import ConfigBlock

logger = logging.getLogger(__name__)
MANIFEST_PATH = "corpus/manifest.parquet"


class RetrainingPolicy(ConfigBlock):
    """``policy:``: how much change is worth a retraining run."""

    yaml_path = "policy"
    min_new_documents: int = Field(1, ge=0, description="retrain only with at least this many new or changed "
                                                        "documents since production's corpus")
    min_changed_fraction: float = Field(0.0, ge=0, le=1, description="retrain only when at least this share of "
                                                                     "documents is new, changed or removed")
    retry_refused: bool = Field(False, description="retrain a corpus and config the gate already refused (force: true does too)")


class RetrainingDecision(BaseModel):
    """Whether the corpus warrants retraining, and why: the retraining check's artifact."""

    retrain: bool
    reason: str
    corpus_fingerprint: str = Field(description="the corpus now")
    production_fingerprint: Optional[str] = Field(None, description="the corpus production was trained on")
    production_version: Optional[str] = Field(None, description="the production version compared with")
    new_documents: Optional[int] = Field(None, description="documents not in production's corpus")
    changed_documents: Optional[int] = Field(None, description="documents whose title or text changed")
    removed_documents: Optional[int] = Field(None, description="production's documents no longer in the corpus")
    refused_version: Optional[str] = Field(None, description="the version the gate refused on this corpus and config")


def diff_manifests(now: dict[str, str], then: dict[str, str]) -> tuple[int, int, int]:
    """(new, changed, removed) documents of ``now`` against ``then`` (both id -> content hash)."""
    new = sum(1 for d in now if d not in then)
    changed = sum(1 for d, h in now.items() if d in then and then[d] != h)
    removed = sum(1 for d in then if d not in now)
    return new, changed, removed


def log_manifest(manifest: dict[str, str]) -> None:
    """The corpus manifest into the active MLflow run (beside the model it was trained for)."""
    import tempfile
    from pathlib import Path

    import mlflow
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(MANIFEST_PATH).name
        pd.DataFrame({"doc_id": list(manifest), "content_hash": list(manifest.values())}).to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=str(Path(MANIFEST_PATH).parent))


def version_manifest(version) -> dict[str, str] | None:
    """The manifest logged with a registered version; None when it has none (older versions)."""
    import tempfile

    import mlflow
    import pandas as pd

    run_id = version.run_id or version.tags.get("mlflow_run_id")
    if not run_id:
        return None
    # into a folder removed after reading: without dst_path MLflow downloads a run's artifact into a
    # temp folder of its own and leaves it (one per retraining decision)
    with tempfile.TemporaryDirectory(prefix="synthir-manifest-") as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=MANIFEST_PATH, dst_path=tmp)
        except (mlflow.exceptions.MlflowException, OSError):
            return None
        frame = pd.read_parquet(path)
    return dict(zip(frame["doc_id"], frame["content_hash"]))


def refused_before(registry_name: str, corpus_fingerprint: str, config_hash: str, client) -> Optional[object]:
    """The newest version registered for this corpus and config that the gate refused, if any."""
    return registry.find_version(registry_name, {"corpus_fingerprint": corpus_fingerprint,
                                                 "pipeline_config_hash": config_hash, "promotion.decision": "refused"},
                                 client)


def decide_retraining(corpus_fingerprint: str, registry_name: str = registry.DEFAULT_NAME, force: bool = False,
                      client=None, manifest: dict[str, str] | None = None, policy: RetrainingPolicy | None = None,
                      config_hash: str | None = None) -> RetrainingDecision:
    """Retrain when forced, when there is no production reranker, or when its corpus differs by at
    least the policy's thresholds; never again for a corpus and config the gate already refused."""
    import mlflow

    client = client or mlflow.MlflowClient()
    policy = policy or RetrainingPolicy()
    production = registry.production_version(registry_name, client)
    version = None if production is None else str(production.version)
    trained_on = None if production is None else (production.tags.get("corpus_fingerprint") or None)
    fields = dict(corpus_fingerprint=corpus_fingerprint, production_fingerprint=trained_on, production_version=version)
    refused = None if force or policy.retry_refused or not config_hash else refused_before(
        registry_name, corpus_fingerprint, config_hash, client)
    if force:
        return RetrainingDecision(retrain=True, reason="forced (force: true)", **fields)
    if trained_on is not None and trained_on == corpus_fingerprint:
        return RetrainingDecision(retrain=False, **fields, reason=(
            f"corpus unchanged ({corpus_fingerprint}) since production v{version} was trained on it: nothing to do"))
    if refused is not None and str(refused.version) != version:
        return RetrainingDecision(retrain=False, refused_version=str(refused.version), **fields, reason=(
            f"{registry_name} v{refused.version} was trained on this corpus ({corpus_fingerprint}) with this config "
            f"({config_hash}) and refused: {refused.tags.get('promotion.reason', '')}. Not retrying until the corpus or "
            "the config changes (force: true or policy.retry_refused: true to retry)"))
    if production is None:
        return RetrainingDecision(retrain=True, reason=f"no {registry_name}@{registry.PRODUCTION} yet", **fields)
    if trained_on is None:
        return RetrainingDecision(retrain=True, **fields, reason=(
            f"{registry_name} v{version} has no corpus_fingerprint tag: cannot tell what it was trained on"))
    then = version_manifest(production) if manifest is not None else None
    if then is None:
        return RetrainingDecision(retrain=True, **fields, reason=(
            f"corpus changed: production v{version} was trained on {trained_on}, the corpus is now {corpus_fingerprint}"))
    new, changed, removed = diff_manifests(manifest, then)
    counts = dict(new_documents=new, changed_documents=changed, removed_documents=removed)
    share = (new + changed + removed) / max(1, len(set(manifest) | set(then)))
    summary = f"{new} new, {changed} changed, {removed} removed documents ({share:.1%}) since production v{version}"
    if new + changed < policy.min_new_documents or share < policy.min_changed_fraction:
        return RetrainingDecision(retrain=False, **fields, **counts, reason=(
            f"{summary}: below the policy (min_new_documents {policy.min_new_documents}, min_changed_fraction "
            f"{policy.min_changed_fraction}); not retraining"))
    return RetrainingDecision(retrain=True, **fields, **counts, reason=f"corpus changed: {summary}")
