import time
from pathlib import Path
from typing import Annotated, Optional

from zenml import step
from zenml.logger import get_logger

from synthir.config import config_hash
from synthir.cpo.config import CPOTrainingConfig
from synthir.cpo.preferences import PreferencePairs
from synthir.runtime import default_cache_dir
from synthir.tracking import log_metrics, log_params, record_figures
from synthir.training.artifacts import GeneratorModel

logger = get_logger(__name__)


@step(experiment_tracker=True)
def train_cpo_generator(
    pairs: PreferencePairs, cpo: CPOTrainingConfig = CPOTrainingConfig(), checkpoint_root: Optional[str] = None
) -> Annotated[GeneratorModel, "generator"]:
    """CPO + LoRA on the preference pairs (TRL); checkpoints resume a killed run."""
    from synthir.cpo.training import train_generator  # torch and TRL only when the step runs

    config = CPOTrainingConfig.from_dict(cpo)
    if config.base_model != pairs.student and not config.base_model.startswith("registry:"):
        logger.warning("Tuning %s on pairs whose student was %s: the prompts and rejected queries came from another model",
                       config.base_model, pairs.student)
    run_hash = config_hash(config, pairs.corpus_fingerprint, pairs.fingerprint(), pairs.teacher, pairs.student)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "cpo"
    started = time.perf_counter()
    result = train_generator(pairs, config, root / run_hash)
    seconds = time.perf_counter() - started
    log_params(vars(config), prefix="cpo.")
    for index, entry in enumerate(result.history):  # the training curves, under the pipeline's own names too
        log_metrics({k.replace("/", "_"): v for k, v in entry.items() if k not in ("epoch", "step")}, prefix="cpo.curve.",
                    step=int(entry.get("step", index)))
    last = result.history[-1] if result.history else {}
    figures = {"steps": float(result.steps), "final_loss": result.losses[-1], "seconds": seconds,
               "steps_per_s": result.steps / max(seconds, 1e-9), "pairs_per_s": len(pairs) * config.epochs / max(seconds, 1e-9),
               "adapter_norm": result.adapter_norm, "pairs": float(len(pairs)),
               **{f"final_{k.replace('/', '_')}": v for k, v in last.items() if k.startswith(("rewards/", "nll_loss"))}}
    record_figures(figures, prefix="cpo.")
    lineage = {"teacher": pairs.teacher, "student": pairs.student, "reference_source": pairs.reference_source,
               "corpus_fingerprint": pairs.corpus_fingerprint, "prompt_id": pairs.prompt_id, "config_hash": run_hash,
               "loss_type": config.loss_type}
    logger.info("CPO: %d steps in %.0f s, final loss %.3f, adapter norm %.4f", result.steps, seconds, figures["final_loss"],
                result.adapter_norm)
    return GeneratorModel(model_dir=result.model_dir, base_model=config.base_model, format=config.save,
                          prompt_id=pairs.prompt_id, lineage=lineage, training=figures)
