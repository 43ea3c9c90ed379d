from typing import Annotated

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.retraining import RetrainingDecision, decide_retraining
from synthir.tracking import set_tags

logger = get_logger(__name__)


# Never cached: the answer depends on the registry's production version, not only on the corpus.
@step(enable_cache=False, experiment_tracker=True)
def check_corpus_change(
    corpus: Corpus, registry_name: str = "inpars-reranker", force: bool = False
) -> Annotated[RetrainingDecision, "retraining_decision"]:
    """Compare the corpus fingerprint with the one the production reranker was trained on."""
    decision = decide_retraining(corpus.fingerprint(), registry_name, force=force)
    logger.info("%s: %s", "Retraining" if decision.retrain else "Not retraining", decision.reason)
    set_tags({"retraining.decision": "retrain" if decision.retrain else "skip", "retraining.reason": decision.reason})
    log_metadata(metadata={k: v for k, v in decision.model_dump().items() if v is not None})
    return decision
