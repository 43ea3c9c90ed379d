from typing import Annotated, Tuple

from zenml import step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Queries
from synthir.data.errors import require_output
from synthir.judgments.config import SyntheticJudgmentsConfig
from synthir.runtime import default_cache_dir
from synthir.tracking import log_params, record_figures

logger = get_logger(__name__)


@step(experiment_tracker=True)
def write_synthetic_judgments(
    held_out: Corpus, synthetic: SyntheticJudgmentsConfig = SyntheticJudgmentsConfig()
) -> Tuple[Annotated[Queries, "evaluation_queries"], Annotated[Qrels, "evaluation_qrels"]]:
    """The label-free evaluation set: the evaluation generator's queries for the held-out documents,
    kept by the checks, each judged relevant to its source document (cached: re-runs and later
    candidates are scored on the same set)."""
    from synthir.judgments.synthetic import synthetic_judgments

    config = SyntheticJudgmentsConfig.from_dict(synthetic)
    judgments = synthetic_judgments(held_out, config, checkpoint_root=default_cache_dir() / "generation")
    require_output("write_synthetic_judgments", len(judgments.queries), len(held_out), "evaluation queries",
                   "the evaluation generator wrote nothing the checks kept; see evaluation.synthetic.generator/checks")
    log_params({"generator": judgments.generator, "prompt": judgments.prompt_id}, prefix="evaluation.synthetic.")
    record_figures(judgments.figures, prefix="evaluation.synthetic.", generator=judgments.generator,
                   prompt_id=judgments.prompt_id)
    return judgments.queries, judgments.qrels
