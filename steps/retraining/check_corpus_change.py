from typing import Annotated, Optional

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.retraining import RetrainingDecision, RetrainingPolicy, decide_retraining
from synthir.tracking import set_tags

logger = get_logger(__name__)


# Never cached: the answer depends on the registry's production version, not only on the corpus.
@step(enable_cache=False, experiment_tracker=True)
def check_corpus_change(
    corpus: Corpus,
    registry_name: str = "inpars-reranker",
    force: bool = False,
    policy: RetrainingPolicy = RetrainingPolicy(),
    config_hash: Optional[str] = None,
) -> Annotated[RetrainingDecision, "retraining_decision"]:
    """Compare the corpus with the one the production reranker was trained on (fingerprint, then the
    per-document manifest against ``policy``), and skip a corpus and config the gate already refused."""
    decision = decide_retraining(corpus.fingerprint(), registry_name, force=force, manifest=corpus.manifest(),
                                 policy=RetrainingPolicy.from_dict(policy), config_hash=config_hash)
    logger.info("%s: %s", "Retraining" if decision.retrain else "Not retraining", decision.reason)
    set_tags({"retraining.decision": "retrain" if decision.retrain else "skip", "retraining.reason": decision.reason})
    log_metadata(metadata={k: v for k, v in decision.model_dump().items() if v is not None})
    return decision
