from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import training as stages
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples


@step(experiment_tracker=True)
def add_teacher_margins(
    triples: Triples, corpus: Corpus, training: RerankerTrainingConfig = RerankerTrainingConfig(), depth: int = 100
) -> Annotated[Triples, "taught_triples"]:
    """``synthir.flow.training.add_teacher_margins``: each triple labelled with the teacher's margin
    between its positive and its negative (``training.loss: margin_mse | mnrl_margin_mse``)."""
    taught = stages.add_teacher_margins(triples, corpus, training, depth)
    log_metadata(metadata=taught.metadata)
    return taught.value
