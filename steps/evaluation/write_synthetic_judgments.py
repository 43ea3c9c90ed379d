from typing import Annotated, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Queries
from synthir.flow import evaluation
from synthir.judgments.config import SyntheticJudgmentsConfig


@step(experiment_tracker=True)
def write_synthetic_judgments(
    held_out: Corpus, synthetic: SyntheticJudgmentsConfig = SyntheticJudgmentsConfig()
) -> Tuple[Annotated[Queries, "evaluation_queries"], Annotated[Qrels, "evaluation_qrels"]]:
    """``synthir.flow.evaluation.write_synthetic_judgments``: queries for the held-out documents, each
    judged relevant to its source document."""
    judged = evaluation.write_synthetic_judgments(held_out, synthetic)
    log_metadata(metadata=judged.metadata)
    return judged.queries, judged.qrels
