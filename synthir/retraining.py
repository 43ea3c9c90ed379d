"""When to retrain: compare the corpus at a location with the corpus the production reranker was
trained on (its ``corpus_fingerprint`` lineage tag in the MLflow registry).

The fingerprint is a hash of every document's id, title and text (``Corpus.fingerprint``), so a
changed, added or removed document is a new corpus; touching a file without changing it is not.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field

from synthir import registry


class RetrainingDecision(BaseModel):
    """Whether the corpus warrants retraining, and why: the retraining check's artifact."""

    retrain: bool
    reason: str
    corpus_fingerprint: str = Field(description="the corpus now")
    production_fingerprint: Optional[str] = Field(None, description="the corpus production was trained on")
    production_version: Optional[str] = Field(None, description="the production version compared with")


def decide_retraining(corpus_fingerprint: str, registry_name: str = registry.DEFAULT_NAME, force: bool = False,
                      client=None) -> RetrainingDecision:
    """Retrain when forced, when there is no production reranker, or when its corpus differs."""
    production = registry.production_version(registry_name, client)
    version = None if production is None else str(production.version)
    trained_on = None if production is None else (production.tags.get("corpus_fingerprint") or None)
    if force:
        reason = "forced (force: true)"
        retrain = True
    elif production is None:
        reason = f"no {registry_name}@{registry.PRODUCTION} yet"
        retrain = True
    elif trained_on is None:
        reason = f"{registry_name} v{version} has no corpus_fingerprint tag: cannot tell what it was trained on"
        retrain = True
    elif trained_on != corpus_fingerprint:
        reason = f"corpus changed: production v{version} was trained on {trained_on}, the corpus is now {corpus_fingerprint}"
        retrain = True
    else:
        reason = f"corpus unchanged ({corpus_fingerprint}) since production v{version} was trained on it: nothing to do"
        retrain = False
    return RetrainingDecision(retrain=retrain, reason=reason, corpus_fingerprint=corpus_fingerprint,
                              production_fingerprint=trained_on, production_version=version)
