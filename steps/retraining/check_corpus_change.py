from typing import Annotated, Optional

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import retraining
from synthir.retraining import RetrainingDecision, RetrainingPolicy


# Never cached: the answer depends on the registry's production version, not only on the corpus.
@step(enable_cache=False, experiment_tracker=True)
def check_corpus_change(
    corpus: Corpus,
    registry_name: str = "inpars-reranker",
    force: bool = False,
    policy: RetrainingPolicy = RetrainingPolicy(),
    config_hash: Optional[str] = None,
) -> Annotated[RetrainingDecision, "retraining_decision"]:
    """``synthir.flow.retraining.check_corpus_change``: the corpus against production's (fingerprint, then
    the manifest against ``policy``); a corpus and config the gate already refused are skipped."""
    checked = retraining.check_corpus_change(corpus, registry_name, force, policy, config_hash)
    log_metadata(metadata=checked.metadata)
    return checked.value
