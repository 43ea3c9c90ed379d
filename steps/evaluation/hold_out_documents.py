from typing import Annotated, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import evaluation
from synthir.judgments.config import SyntheticJudgmentsConfig


@step
def hold_out_documents(
    corpus: Corpus, synthetic: SyntheticJudgmentsConfig = SyntheticJudgmentsConfig()
) -> Tuple[Annotated[Corpus, "training_corpus"], Annotated[Corpus, "held_out_documents"]]:
    """``synthir.flow.evaluation.hold_out_documents``: the label-free evaluation's documents, split off."""
    held = evaluation.hold_out_documents(corpus, synthetic)
    log_metadata(metadata=held.metadata)
    return held.training_corpus, held.held_out
