from typing import Annotated, Optional

import mlflow
from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir import registry
from synthir.data import Corpus
from synthir.evaluation.comparison import RerankerComparison
from synthir.tracking import set_tags
from synthir.training.artifacts import RerankerModel
from synthir.zenml_models import record_version

logger = get_logger(__name__)

# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def register_reranker(
    reranker: RerankerModel,
    comparison: RerankerComparison,
    registry_name: str = "inpars-reranker",
    margin: float = 0.005,
    alpha: float = 0.05,
    min_queries: int = 30,
    allow_weak_gate: bool = False,
    collection_corpus: Optional[Corpus] = None,
    pipeline_config_hash: Optional[str] = None,
) -> Annotated[registry.PromotionDecision, "promotion"]:
    """Log the model, register a version with lineage and figures, and promote it only through the gate
    (``synthir.registry.decide_reranker``: the margin and significance over BM25, the untrained model
    and production, on at least ``min_queries`` queries). ``collection_corpus``: the whole corpus the
    run loaded; its fingerprint is the version's ``corpus_fingerprint`` (what retraining compares
    with), the corpus training saw (less held-out documents) is ``training_corpus_fingerprint``, and
    its manifest is logged for the next retraining check. ``pipeline_config_hash`` tags the version
    so a refused (corpus, config) pair is not retrained again. A model identical to a registered
    version (same training data and config: the ``config_hash`` lineage tag) is never registered twice."""
    decision = registry.decide_reranker(comparison, margin, alpha, min_queries, comparison.production_version,
                                        allow_weak_gate)
    tags = {**reranker.lineage, "training_corpus_fingerprint": reranker.lineage.get("corpus_fingerprint", ""),
            **({"corpus_fingerprint": collection_corpus.fingerprint()} if collection_corpus is not None else {}),
            **({"corpus_parts": ",".join(collection_corpus.parts)} if collection_corpus is not None
               and collection_corpus.parts else {}),
            "model_type": reranker.model_type, "base_model": reranker.base_model,
            "fusion_weight": comparison.fusion_weight, "eval_queries": comparison.eval_queries,
            "evaluation_source": comparison.source, "judgments": comparison.judgments,
            "ndcg_at_10": f"{comparison.candidate:.6f}", "mlflow_run_id": mlflow.active_run().info.run_id,
            **({"pipeline_config_hash": pipeline_config_hash} if pipeline_config_hash else {})}
    card = {**tags, **{f"p_value.{k}": f"{v:.4g}" for k, v in decision.p_values.items()}, "gate": decision.reason,
            **({"gate_weakened": "; ".join(decision.weakened)} if decision.weakened else {})}

    def log_model() -> str:
        if collection_corpus is not None:  # the manifest the next retraining check compares with
            from synthir.retraining import log_manifest

            log_manifest(collection_corpus.manifest())
        return registry.log_reranker(reranker.model_dir, card=card)  # the lineage is its model card too

    def mirror(version: str, recorded: registry.PromotionDecision) -> None:  # the ZenML model view
        record_version(registry_name, version, registry.DESCRIPTIONS[registry.DEFAULT_NAME], {
            "ndcg_at_10": recorded.candidate, "evaluation_source": recorded.source, "eval_queries": recorded.eval_queries,
            "decision": "promoted" if recorded.promoted else "refused", "reason": recorded.reason,
            **{f"p_value.{k}": v for k, v in recorded.p_values.items()}})

    decision, duplicate = registry.register_gated(registry_name, {"config_hash": reranker.lineage.get("config_hash")},
                                                  decision, log_model, tags, on_registered=mirror)
    outcome = "duplicate" if duplicate else "promoted" if decision.promoted else "refused"
    set_tags({"registered_version": decision.version, "promotion": outcome})
    log_metadata(metadata={"version": decision.version, "promoted": decision.promoted, "duplicate": duplicate,
                           "reason": decision.reason, "source": comparison.source, "eval_queries": comparison.eval_queries,
                           **{f"p_value.{k}": v for k, v in decision.p_values.items()}})
    logger.info("%s v%s: %s: %s", registry_name, decision.version, "PROMOTED to production" if decision.promoted
                else "not registered again" if duplicate else "not promoted", decision.reason)
    return decision
