from typing import Annotated, Optional

from zenml import log_metadata, step

from synthir import registry
from synthir.data import Corpus
from synthir.flow import evaluation
from synthir.lifecycle import gate
from synthir.lifecycle.gate import RerankerComparison
from synthir.orchestration.zenml_models import mirror_production, record_version
from synthir.training.artifacts import RerankerModel


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
) -> Annotated[gate.PromotionDecision, "promotion"]:
    """``synthir.flow.evaluation.register_reranker``: the version registered with its lineage and
    promoted only through the gate, in one transaction; ZenML's model view mirrors it."""

    def mirror(version: str, recorded: gate.PromotionDecision) -> None:
        record_version(registry_name, version, registry.DESCRIPTIONS[registry.DEFAULT_NAME], {
            "ndcg_at_10": recorded.candidate, "evaluation_source": recorded.source, "eval_queries": recorded.eval_queries,
            "decision": "promoted" if recorded.promoted else "refused", "reason": recorded.reason,
            **{f"p_value.{k}": v for k, v in recorded.p_values.items()}})

    registered = evaluation.register_reranker(reranker, comparison, registry_name, margin, alpha, min_queries,
                                              allow_weak_gate, collection_corpus, pipeline_config_hash, on_registered=mirror,
                                              on_promoted=mirror_production)
    log_metadata(metadata=registered.metadata)
    return registered.decision
