from typing import Annotated

import mlflow
from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir import registry
from synthir.cpo.evaluation import GeneratorComparison
from synthir.lifecycle import gate
from synthir.orchestration.zenml_models import mirror_production, record_version
from synthir.tracking import set_tags
from synthir.training.artifacts import GeneratorModel

logger = get_logger(__name__)

# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def register_generator(
    generator: GeneratorModel,
    comparison: GeneratorComparison,
    registry_name: str = registry.GENERATOR_NAME,
    margin: float = 0.005,
    max_copy_rate_increase: float = 0.05,
) -> Annotated[gate.PromotionDecision, "generator_promotion"]:
    """Register the tuned generator with its lineage and held-out figures; promote it only through the
    gate, which also refuses a generator whose copy rate rose by more than ``max_copy_rate_increase``."""
    candidate = comparison.candidate
    tags = {**generator.lineage, "base_model": generator.base_model, "format": generator.format,
            "held_out_documents": comparison.held_out_documents, "query_eval": f"{candidate['query_eval']:.6f}",
            "copy_rate": f"{candidate['copy_rate']:.6f}", "self_retrieval": f"{candidate['self_retrieval']:.6f}",
            "mlflow_run_id": mlflow.active_run().info.run_id}
    decision = gate.decide_generator(candidate, comparison.base, comparison.production, margin,
                                         max_copy_rate_increase, metric=comparison.metric,
                                         previous_production=comparison.production_version)

    def mirror(version: str, recorded: gate.PromotionDecision) -> None:  # the ZenML model view
        record_version(registry_name, version, registry.DESCRIPTIONS[registry.GENERATOR_NAME],
                       {"query_eval": recorded.candidate, "copy_rate": recorded.guards.get("copy_rate"),
                        "decision": "promoted" if recorded.promoted else "refused", "reason": recorded.reason})

    decision, duplicate = gate.register_gated(registry_name, {"config_hash": generator.lineage.get("config_hash")},
                                                  decision, lambda: registry.log_generator(generator.model_dir), tags,
                                                  on_registered=mirror, on_promoted=mirror_production)
    outcome = "duplicate" if duplicate else "promoted" if decision.promoted else "refused"
    set_tags({"registered_generator_version": decision.version, "generator_promotion": outcome})
    log_metadata(metadata={"version": decision.version, "promoted": decision.promoted, "duplicate": duplicate,
                           "reason": decision.reason})
    logger.info("%s v%s: %s: %s", registry_name, decision.version, "PROMOTED to production" if decision.promoted
                else "not registered again" if duplicate else "not promoted", decision.reason)
    return decision
