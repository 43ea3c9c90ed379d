from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import training as stages
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples


# Never cached: the plan depends on the registry's production version, not only on the triples.
@step(enable_cache=False, experiment_tracker=True)
def plan_warm_start(
    triples: Triples, corpus: Corpus, training: RerankerTrainingConfig = RerankerTrainingConfig(),
    registry_name: str = "inpars-reranker",
) -> tuple[Annotated[Triples, "warm_start_triples"], Annotated[str, "init_model"]]:
    """``synthir.flow.training.plan_warm_start``: the production version to fine-tune (pinned by number)
    and the triples about new or changed documents plus a replayed sample of the others."""
    plan = stages.plan_warm_start(triples, corpus, training, registry_name)
    log_metadata(metadata=plan.metadata)
    return plan.triples, plan.init_model
