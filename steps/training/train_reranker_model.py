import time
from pathlib import Path
from typing import Annotated, Optional

from zenml import step
from zenml.logger import get_logger

from synthir.data.synthetic import SyntheticQueries
from synthir.runtime import default_cache_dir
from synthir.tracking import log_metrics, log_params, record_figures
from synthir.training.artifacts import RerankerModel
from synthir.training.config import RerankerTrainingConfig, training_run_key
from synthir.training.triples import Triples

logger = get_logger(__name__)


@step(experiment_tracker=True)
def train_reranker_model(
    triples: Triples, queries: SyntheticQueries, training: RerankerTrainingConfig = RerankerTrainingConfig(),
    checkpoint_root: Optional[str] = None, init_model: Optional[str] = None
) -> Annotated[RerankerModel, "reranker"]:
    """Train a bi-encoder or cross-encoder on the triples; checkpoints resume a killed run.
    ``init_model`` (from ``plan_warm_start``) is the model training starts from when it is not
    ``training.base_model``; the untrained baseline the gate compares with stays ``base_model``."""
    from synthir.training.rerankers import train_reranker  # torch only when the step runs

    config = RerankerTrainingConfig.from_dict(training)
    run_hash = training_run_key(config, triples, init_model)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "training"
    started = time.perf_counter()
    result = train_reranker(triples, config, root / run_hash, init_model=init_model)
    seconds = time.perf_counter() - started
    log_params({k: v for k, v in vars(config).items()}, prefix="training.")
    for step_index, loss in enumerate(result.losses):
        log_metrics({"loss_curve": loss}, prefix="training.", step=step_index)
    figures = {"steps": float(result.steps), "final_loss": result.losses[-1] if result.losses else float("nan"),
               "seconds": seconds, "pairs_per_s": len(triples) * config.epochs / max(seconds, 1e-9)}
    if result.dev:  # model selection on the dev set: its curve, and where training ended
        for step_index, value in result.dev["curve"].items():
            log_metrics({"dev_ndcg_at_10": value}, prefix="training.", step=step_index)
        figures.update({"dev_start_ndcg_at_10": result.dev["start"], "dev_best_ndcg_at_10": result.dev["best"],
                        "dev_best_step": float(result.dev["best_step"])})
    record_figures(figures, prefix="training.", model_type=config.model_type)
    lineage = {**queries.lineage(), "config_hash": run_hash, "initialised_from": init_model or config.base_model}
    return RerankerModel(model_dir=result.model_dir, model_type=config.model_type, base_model=config.base_model,
                         lineage=lineage, training=figures)
