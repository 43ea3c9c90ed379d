from typing import Annotated, Optional

from zenml import log_metadata, step

from synthir.data.synthetic import SyntheticQueries
from synthir.flow import training as stages
from synthir.training.artifacts import RerankerModel
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples


@step(experiment_tracker=True)
def train_reranker_model(
    triples: Triples, queries: SyntheticQueries, training: RerankerTrainingConfig = RerankerTrainingConfig(),
    checkpoint_root: Optional[str] = None, init_model: Optional[str] = None
) -> Annotated[RerankerModel, "reranker"]:
    """``synthir.flow.training.train_reranker_model``: a bi-encoder, cross-encoder or monoT5 trained on
    the triples; checkpoints resume a killed run. ``init_model`` (from ``plan_warm_start``) is where
    training starts when it is not ``training.base_model``."""
    trained = stages.train_reranker_model(triples, queries, training, checkpoint_root, init_model)
    log_metadata(metadata=trained.metadata)
    return trained.value
