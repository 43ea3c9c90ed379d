from typing import Annotated

import mlflow
from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir import registry
from synthir.cpo.evaluation import GeneratorComparison
from synthir.tracking import set_tags
from synthir.training.artifacts import GeneratorModel
from synthir.zenml_models import record_version

logger = get_logger(__name__)

# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def register_generator(
    generator: GeneratorModel,
    comparison: GeneratorComparison,
    registry_name: str = registry.GENERATOR_NAME,
    margin: float = 0.005,
    max_copy_rate_increase: float = 0.05,
) -> Annotated[registry.PromotionDecision, "generator_promotion"]:
    """Register the tuned generator with its lineage and held-out figures; promote it only through the
    gate, which also refuses a generator whose copy rate rose by more than ``max_copy_rate_increase``."""
    model_uri = registry.log_generator(generator.model_dir)
    candidate = comparison.candidate
    tags = {**generator.lineage, "base_model": generator.base_model, "format": generator.format,
            "held_out_documents": comparison.held_out_documents, "query_eval": f"{candidate['query_eval']:.6f}",
            "copy_rate": f"{candidate['copy_rate']:.6f}", "self_retrieval": f"{candidate['self_retrieval']:.6f}",
            "mlflow_run_id": mlflow.active_run().info.run_id}
    version = registry.register_version(model_uri, registry_name, tags)
    decision = registry.decide_generator(candidate, comparison.base, comparison.production, margin,
                                         max_copy_rate_increase, metric=comparison.metric,
                                         previous_production=comparison.production_version)
    record_version(registry_name, version, registry.DESCRIPTIONS[registry.GENERATOR_NAME],  # the ZenML model view
                   {"query_eval": candidate["query_eval"], "copy_rate": candidate["copy_rate"],
                    "decision": "promoted" if decision.promoted else "refused", "reason": decision.reason})
    registry.apply_decision(registry_name, version, decision)
    set_tags({"registered_generator_version": version,
              "generator_promotion": "promoted" if decision.promoted else "refused"})
    log_metadata(metadata={"version": version, "promoted": decision.promoted, "reason": decision.reason})
    logger.info("%s v%s: %s: %s", registry_name, version, "PROMOTED to production" if decision.promoted else "not promoted",
                decision.reason)
    return decision.model_copy(update={"version": version})
