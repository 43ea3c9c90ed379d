from typing import Annotated, List, Optional, Tuple, Union

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Queries
from synthir.data.synthetic import SyntheticQueries
from synthir.evaluation import EvaluationResult
from synthir.flow import evaluation
from synthir.judgments.config import CalibrationConfig, LLMJudgeConfig
from synthir.lifecycle.gate import RerankerComparison
from synthir.training.artifacts import RerankerModel


# Never cached: the outcome depends on the registry's current production version, not only on the inputs.
@step(enable_cache=False, experiment_tracker=True)
def evaluate_rerankers(
    reranker: RerankerModel,
    corpus: Corpus,
    queries: Queries,
    qrels: Qrels,
    training_queries: SyntheticQueries,
    depth: int = 100,
    fusion_weight: Union[float, str, None] = 0.7,
    dev_fraction: float = 0.3,
    seed: int = 42,
    registry_name: str = "inpars-reranker",
    exclude_query_ids: Optional[List[str]] = None,
    source: str = "judged",
    significance_test: str = "randomisation",
    llm_judge: Optional[LLMJudgeConfig] = None,
    untrained_bias: float = 0.0,
    calibration: Optional[CalibrationConfig] = None,
    alpha: float = 0.05,
) -> Tuple[Annotated[RerankerComparison, "comparison"], Annotated[EvaluationResult, "candidate_evaluation"]]:
    """``synthir.flow.evaluation.evaluate_rerankers``: BM25, the untrained base model, the trained model
    (each alone and fused) and production on the same evaluation queries, with paired p-values."""
    evaluated = evaluation.evaluate_rerankers(reranker, corpus, queries, qrels, training_queries, depth, fusion_weight,
                                              dev_fraction, seed, registry_name, exclude_query_ids, source,
                                              significance_test, llm_judge, untrained_bias, calibration, alpha)
    if evaluated.metadata:
        log_metadata(metadata=evaluated.metadata)
    return evaluated.comparison, evaluated.candidate
