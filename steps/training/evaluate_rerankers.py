import random
import tempfile
from pathlib import Path
from typing import Annotated, Any, Dict, List, Optional, Tuple, Union

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Queries
from synthir.data.synthetic import SyntheticQueries
from synthir.evaluation import EvaluationResult, evaluate
from synthir.evaluation.report import metrics_markdown, plot_per_query
from synthir.models import resolve_model
from synthir.retrieval import BM25Index
from synthir.retrieval.rerank import fuse, rerank, tune_fusion_weight
from synthir.tracking import log_artifact, log_metrics, log_params
from synthir.training import Reranker
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
) -> Tuple[Annotated[Dict[str, Any], "comparison"], Annotated[EvaluationResult, "candidate_evaluation"]]:
    """BM25, the zero-shot base model, the trained model (alone and fused) and the current production
    version, all on the same judged queries. ``fusion_weight: tune`` picks it on a dev split.

    Judged queries shown to the generator as few-shot examples (promptagator) are left out
    automatically, as are ``exclude_query_ids``."""
    from synthir import registry

    excluded = set(exclude_query_ids or []) | set(training_queries.fewshot_query_ids)
    if training_queries.fewshot_query_ids:
        logger.info("Excluding %d few-shot example queries from evaluation: %s", len(training_queries.fewshot_query_ids),
                    training_queries.fewshot_query_ids)
    judged = [q for q in qrels.query_ids if q in queries and q not in excluded]
    dev_ids: set = set()
    if fusion_weight == "tune":
        shuffled = sorted(judged)
        random.Random(seed).shuffle(shuffled)
        dev_ids = set(shuffled[: max(1, int(len(shuffled) * dev_fraction))])
    test_ids = [q for q in judged if q not in dev_ids]
    test_qrels = Qrels({q: qrels.judgments[q] for q in test_ids})
    all_queries = queries.subset(judged)
    bm25 = BM25Index.build(corpus).search(all_queries, k=max(depth, 1000))

    trained = Reranker(reranker.model_dir)  # scores at the length it was trained at (its marker)
    trained_run = rerank(bm25, all_queries, corpus, trained, depth=depth, name="trained")
    if fusion_weight == "tune":
        weight, grid = tune_fusion_weight(trained_run, bm25, Qrels({q: qrels.judgments[q] for q in dev_ids}))
        logger.info("fusion weight tuned on %d dev queries: %.1f (%s)", len(dev_ids), weight, grid)
    else:
        weight = None if fusion_weight is None else float(fusion_weight)
    results = [evaluate(bm25, test_qrels, system="bm25")]
    zero_shot = Reranker(resolve_model(reranker.base_model), model_type=reranker.model_type,
                         max_length=trained.max_length) if reranker.model_type == "bi-encoder" else None
    if zero_shot is not None:
        results.append(evaluate(rerank(bm25, all_queries, corpus, zero_shot, depth=depth, name="zero-shot"), test_qrels,
                                system="zero-shot"))
    results.append(evaluate(trained_run, test_qrels, system="trained"))
    candidate = results[-1]
    if weight is not None:
        candidate = evaluate(fuse(trained_run, bm25, weight), test_qrels, system="fused")
        results.append(candidate)
    production = registry.production_version(registry_name)
    production_figure = None
    if production is not None:
        model_dir = resolve_model(f"registry:{registry_name}@production")
        prod_run = rerank(bm25, all_queries, corpus, Reranker(model_dir), depth=depth, name="production")
        prod_weight = registry.fusion_weight_of(production)
        if prod_weight is not None:
            prod_run = fuse(prod_run, bm25, prod_weight)
        prod_result = evaluate(prod_run, test_qrels, system="production")
        results.append(prod_result)
        production_figure = prod_result.aggregate["nDCG@10"]
    print(metrics_markdown(results))
    for result in results:
        log_metrics(result.metrics(), prefix=f"eval.{result.system}.")
    log_metrics(candidate.metrics())  # the run's headline figures: same names as every other pipeline
    log_params({"depth": depth, "fusion_weight": weight, "test_queries": len(test_ids), "dev_queries": len(dev_ids),
                "excluded_queries": ",".join(sorted(excluded))}, prefix="eval.")
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(plot_per_query(results, Path(tmp) / "rerankers.per_query.png"), "evaluation")
    comparison = {
        "metric": "ndcg_at_10", "candidate": candidate.aggregate["nDCG@10"], "candidate_system": candidate.system,
        "bm25": results[0].aggregate["nDCG@10"], "production": production_figure,
        "production_version": None if production is None else str(production.version),
        "fusion_weight": weight, "eval_queries": len(test_ids),
        "systems": {r.system: r.metrics() for r in results},
    }
    log_metadata(metadata={k: v for k, v in comparison.items() if k != "systems"})
    return comparison, candidate
