from typing import Annotated, Tuple

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.judgments.config import SyntheticJudgmentsConfig
from synthir.tracking import log_params

logger = get_logger(__name__)


@step
def hold_out_documents(
    corpus: Corpus, synthetic: SyntheticJudgmentsConfig = SyntheticJudgmentsConfig()
) -> Tuple[Annotated[Corpus, "training_corpus"], Annotated[Corpus, "held_out_documents"]]:
    """Split off the label-free evaluation's documents (a hash of seed and id picks them): everything
    training sees (the generator's sample, positives, negatives) comes from ``training_corpus`` only."""
    from synthir.judgments.synthetic import hold_out

    training, held_out = hold_out(corpus, SyntheticJudgmentsConfig.from_dict(synthetic))
    logger.info("Held out %d of %d documents for the label-free evaluation; training sees the other %d",
                len(held_out), len(corpus), len(training))
    log_params({"held_out_documents": len(held_out), "training_documents": len(training)}, prefix="evaluation.")
    log_metadata(metadata={"held_out_documents": len(held_out), "training_documents": len(training)})
    return training, held_out
