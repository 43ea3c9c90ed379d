from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.tracking import log_metrics
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples


@step(experiment_tracker=True)
def add_teacher_margins(
    triples: Triples, corpus: Corpus, training: RerankerTrainingConfig = RerankerTrainingConfig(), depth: int = 100
) -> Annotated[Triples, "taught_triples"]:
    """``training.loss: margin_mse | mnrl_margin_mse``: each triple labelled with the margin of the teacher (the untrained
    base model fused with BM25, ``training.teacher_weight``, with query likelihood under
    ``training.teacher_likelihood_model`` fused in where set; or the cross-encoder ``training.teacher_model``) between
    its positive and its negative."""
    from synthir.training import teacher as teaching  # torch only when the step runs

    config = RerankerTrainingConfig.from_dict(training)
    taught, teacher = teaching.teach(triples, corpus, config, depth=depth)
    margins = taught.frame["teacher_margin"]
    figures = {"triples": float(len(taught)), "mean_margin": float(margins.mean()) if len(taught) else 0.0,
               "near_zero_margins": float((margins < 0.01).mean()) if len(taught) else 0.0}
    log_metrics(figures, prefix="teacher.")
    log_metadata(metadata={**figures, "teacher": teacher})
    return taught
