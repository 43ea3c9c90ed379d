from typing import Annotated, List, Optional, Tuple, Union

from zenml import step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Queries
from synthir.data.synthetic import SyntheticQueries
from synthir.evaluation import EvaluationResult
from synthir.evaluation.comparison import RerankerComparison
from synthir.evaluation.report import comparison_markdown, log_comparison
from synthir.judgments.config import LLMJudgeConfig
from synthir.tracking import record_figures
from synthir.training.artifacts import RerankerModel

logger = get_logger(__name__)


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
) -> Tuple[Annotated[RerankerComparison, "comparison"], Annotated[EvaluationResult, "candidate_evaluation"]]:
    """BM25, the untrained base model (alone, and fused at the candidate's weight), the trained model
    (alone and fused) and the current production version, all on the same evaluation queries
    (``source``: judged, golden or synthetic; ``synthir.evaluation.comparison``), with the candidate's
    paired p-value over each. With ``llm_judge`` (source llm_judge), the judge grades the pooled top
    documents of every system for ``queries`` and ``qrels`` are not used. ``untrained_bias``
    (``evaluation.synthetic.untrained_bias``, synthetic source only) is taken off the gain over the
    untrained model before its margin and test. Judged queries shown to the generator as few-shot examples
    (promptagator) are left out automatically, as are ``exclude_query_ids``."""
    from synthir import registry
    from synthir.evaluation.comparison import ProductionScorer, compare_rerankers
    from synthir.models import resolve_model
    from synthir.retrieval.reranker import Reranker

    excluded = set(exclude_query_ids or []) | set(training_queries.fewshot_query_ids)
    if training_queries.fewshot_query_ids:
        logger.info("Excluding %d few-shot example queries from evaluation: %s", len(training_queries.fewshot_query_ids),
                    training_queries.fewshot_query_ids)
    trained = Reranker(reranker.model_dir)  # scores at the length it was trained at (its marker)
    # the untrained base model of every type, scored the same way: the bar the synthetic data must clear
    zero_shot = Reranker(resolve_model(reranker.base_model), model_type=reranker.model_type, max_length=trained.max_length)
    current = registry.production_version(registry_name)
    production = None if current is None else ProductionScorer(
        # by version, not alias: an alias moved or removed meanwhile cannot swap the model under the comparison
        Reranker(resolve_model(f"registry:{registry_name}/{current.version}")), registry.fusion_weight_of(current),
        str(current.version))
    judge = None
    if llm_judge is not None:
        from synthir.judgments.llm_judge import make_llm_judge
        from synthir.runtime import default_cache_dir

        judge = make_llm_judge(LLMJudgeConfig.from_dict(llm_judge), default_cache_dir() / "judgments")
    comparison, results, candidate = compare_rerankers(corpus, queries, qrels, trained, zero_shot, production, depth=depth,
                                                       fusion_weight=fusion_weight, dev_fraction=dev_fraction, seed=seed,
                                                       excluded=excluded, significance_test=significance_test,
                                                       source=source, judge=judge, untrained_bias=untrained_bias)
    if judge is not None:
        record_figures(judge.figures, prefix="evaluation.llm_judge.", judge=judge.backend.name)
    table = comparison_markdown(comparison)  # paired tests per system and baseline: made once
    logger.info("\n%s", table)
    log_comparison(comparison, results, candidate, depth, table)
    return comparison, candidate
