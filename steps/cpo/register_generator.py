from typing import Annotated

from zenml import log_metadata, step

from synthir import registry
from synthir.cpo.evaluation import GeneratorComparison
from synthir.flow import cpo
from synthir.lifecycle import gate
from synthir.orchestration.zenml_models import mirror_production, record_version
from synthir.training.artifacts import GeneratorModel


# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def register_generator(
    generator: GeneratorModel,
    comparison: GeneratorComparison,
    registry_name: str = registry.GENERATOR_NAME,
    margin: float = 0.005,
    max_copy_rate_increase: float = 0.05,
) -> Annotated[gate.PromotionDecision, "generator_promotion"]:
    """``synthir.flow.cpo.register_generator``: registration with lineage and held-out figures, promotion only
    through the copy-guarded gate, mirrored into ZenML's model view."""

    def mirror(version: str, recorded: gate.PromotionDecision) -> None:  # the ZenML model view
        record_version(registry_name, version, registry.DESCRIPTIONS[registry.GENERATOR_NAME],
                       {"query_eval": recorded.candidate, "copy_rate": recorded.guards.get("copy_rate"),
                        "decision": "promoted" if recorded.promoted else "refused", "reason": recorded.reason})

    registered = cpo.register_generator(generator, comparison, registry_name, margin, max_copy_rate_increase,
                                        on_registered=mirror, on_promoted=mirror_production)
    log_metadata(metadata=registered.metadata)
    return registered.decision
