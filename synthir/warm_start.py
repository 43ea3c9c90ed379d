"""Warm start (``training.init_from: production``): fine-tune the production reranker on the queries
about documents it has not seen, replaying a sample of the queries about documents it was trained on.

Which documents production has seen comes from the corpus manifest logged with its version (document
id -> content hash, ``synthir.retraining``): a triple whose positive document is missing from that
manifest, or whose content changed since, is **new**; the others are **replay** candidates, of which
``replay_ratio`` x (new triples) are kept, a seeded sample (so the model does not forget what it knew).
Without a production version there is nothing to start from: the plan trains from the base model on
every triple and says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from synthir import registry
from synthir.data.records import Corpus, content_hash
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples

logger = logging.getLogger(__name__)


class WarmStartError(ValueError):
    """``init_from: production`` cannot be carried out as configured."""


@dataclass
class WarmStartPlan:
    """What training starts from and trains on."""

    init_model: str  # a model reference: the base model, or ``registry:<name>/<version>``
    triples: Triples
    reason: str
    figures: dict[str, float] = field(default_factory=dict)  # new_triples, replayed_triples, all_triples


def incremental_triples(triples: Triples, new_documents: set[str], replay_ratio: float, seed: int) -> tuple[Triples, int, int]:
    """The triples about ``new_documents`` plus a seeded sample of ``replay_ratio`` x as many others,
    in their original order; returns (triples, new, replayed)."""
    frame = triples.frame
    is_new = frame["pos_id"].isin(new_documents)
    old = frame[~is_new]
    replayed = old.sample(n=min(len(old), round(replay_ratio * int(is_new.sum()))), random_state=seed)
    kept = frame[is_new | frame.index.isin(replayed.index)]
    return triples.with_frame(kept.reset_index(drop=True)), int(is_new.sum()), len(replayed)


def plan_warm_start(triples: Triples, corpus: Corpus, config: RerankerTrainingConfig, registry_name: str,
                    client=None) -> WarmStartPlan:
    """The training plan for ``config.init_from``: the base model on every triple, or the production
    version (pinned by number) on the new documents' triples plus replay."""
    from synthir.retraining import version_manifest

    everything = {"all_triples": float(len(triples)), "new_triples": float(len(triples)), "replayed_triples": 0.0}
    if config.init_from == "base":
        return WarmStartPlan(config.base_model, triples, "init_from: base", everything)
    production = registry.production_version(registry_name, client)
    if production is None:
        return WarmStartPlan(config.base_model, triples, f"init_from: production, but {registry_name} has no "
                             f"{registry.PRODUCTION} version yet: training from the base model {config.base_model} "
                             "on every triple", everything)
    version = str(production.version)
    production_type = production.tags.get("model_type")
    if production_type and production_type != config.model_type:
        raise WarmStartError(
            f"training.init_from: production: {registry_name} v{version} is a {production_type} and training.model_type "
            f"is {config.model_type}. Set training.model_type: {production_type}, or training.init_from: base")
    init_model = f"registry:{registry_name}/{version}"
    manifest = version_manifest(production)
    if manifest is None:
        return WarmStartPlan(init_model, triples, f"init_from: production: {registry_name} v{version} has no corpus "
                             "manifest, so every document counts as new: fine-tuning it on every triple", everything)
    new_documents = {d.doc_id for d in corpus if manifest.get(d.doc_id) != content_hash(d)}
    kept, new, replayed = incremental_triples(triples, new_documents, config.replay_ratio, config.seed)
    if new == 0:
        raise WarmStartError(
            f"training.init_from: production: none of the {len(triples)} training triples is about one of the "
            f"{len(new_documents)} documents that are new or changed since {registry_name} v{version} (the generation "
            "sample, max_generations, took none of them): there is nothing new to fine-tune on. Raise max_generations, "
            "or raise policy.min_new_documents so that retraining waits for more documents")
    figures = {"all_triples": float(len(triples)), "new_triples": float(new), "replayed_triples": float(replayed)}
    reason = (f"init_from: production: fine-tuning {registry_name} v{version} on {new} triples about the "
              f"{len(new_documents)} new or changed documents, replaying {replayed} of {len(triples) - new} others "
              f"(replay_ratio {config.replay_ratio:g})")
    return WarmStartPlan(init_model, kept, reason, figures)
