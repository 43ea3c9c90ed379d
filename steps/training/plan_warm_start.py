from typing import Annotated

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.tracking import log_metrics, set_tags
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples
from synthir.warm_start import plan_warm_start as plan

logger = get_logger(__name__)


# Never cached: the plan depends on the registry's production version, not only on the triples.
@step(enable_cache=False, experiment_tracker=True)
def plan_warm_start(
    triples: Triples, corpus: Corpus, training: RerankerTrainingConfig = RerankerTrainingConfig(),
    registry_name: str = "inpars-reranker",
) -> tuple[Annotated[Triples, "warm_start_triples"], Annotated[str, "init_model"]]:
    """``training.init_from: production``: the production version to fine-tune (pinned by number)
    and the triples about new or changed documents plus a replayed sample of the others."""
    result = plan(triples, corpus, RerankerTrainingConfig.from_dict(training), registry_name)
    logger.info("Warm start: %s", result.reason)
    log_metrics(result.figures, prefix="warm_start.")
    set_tags({"warm_start.init_model": result.init_model, "warm_start.reason": result.reason})
    log_metadata(metadata={**result.figures, "init_model": result.init_model, "reason": result.reason})
    return result.triples, result.init_model
