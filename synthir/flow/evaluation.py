"""The label-free evaluation set, the comparison and the gate (the evaluation and registration steps' twins)."""

from __future__ import annotations

import logging
from typing import Any, Callable, NamedTuple, Optional, Union

from synthir.data import Corpus, Qrels, Queries
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.evaluation import EvaluationResult
from synthir.judgments.config import CalibrationConfig, LLMJudgeConfig, SyntheticJudgmentsConfig
from synthir.lifecycle.gate import RerankerComparison
from synthir.runtime import default_cache_dir
from synthir.tracking import log_metrics, log_params, run_of_its_own, set_tags
from synthir.training.artifacts import RerankerModel

logger = logging.getLogger(__name__)


class HeldOut(NamedTuple):
    training_corpus: Corpus
    held_out: Corpus
    metadata: dict[str, Any]


def hold_out_documents(corpus: Corpus, synthetic: SyntheticJudgmentsConfig | dict | None = None) -> HeldOut:
    """Split off the label-free evaluation's documents (a hash of seed and id picks them): everything
    training sees (the generator's sample, positives, negatives) comes from ``training_corpus`` only."""
    from synthir.judgments.synthetic import hold_out

    training, held_out = hold_out(corpus, SyntheticJudgmentsConfig.from_dict(synthetic))
    logger.info("Held out %d of %d passages (whole documents) for the label-free evaluation; training sees the other %d",
                len(held_out), len(corpus), len(training))
    figures = {"held_out_documents": len({held_out.document_of(p) for p in held_out.documents}),
               "held_out_passages": len(held_out), "training_passages": len(training)}
    log_params(figures, prefix="evaluation.")
    return HeldOut(training, held_out, figures)


class EvaluationSet(NamedTuple):
    queries: Queries
    qrels: Qrels
    metadata: dict[str, Any]


def write_synthetic_judgments(held_out: Corpus, synthetic: SyntheticJudgmentsConfig | dict | None = None) -> EvaluationSet:
    """The label-free evaluation set: the evaluation generator's queries for the held-out documents,
    kept by the checks, each judged relevant to its source document (checkpointed: re-runs and later
    candidates are scored on the same set)."""
    from synthir.judgments.synthetic import synthetic_judgments

    config = SyntheticJudgmentsConfig.from_dict(synthetic)
    judgments = synthetic_judgments(held_out, config, checkpoint_root=default_cache_dir() / "generation")
    require_output("write_synthetic_judgments", len(judgments.queries), len(held_out), "evaluation queries",
                   "the evaluation generator wrote nothing the checks kept; see evaluation.synthetic.generator/checks")
    log_params({"generator": judgments.generator, "prompt": judgments.prompt_id}, prefix="evaluation.synthetic.")
    log_metrics(judgments.figures, prefix="evaluation.synthetic.")
    return EvaluationSet(judgments.queries, judgments.qrels,
                         {**judgments.figures, "generator": judgments.generator, "prompt_id": judgments.prompt_id})


class Evaluated(NamedTuple):
    comparison: RerankerComparison
    candidate: EvaluationResult
    metadata: dict[str, Any]


def evaluate_rerankers(
    reranker: RerankerModel, corpus: Corpus, queries: Queries, qrels: Qrels, training_queries: SyntheticQueries,
    depth: int = 100, fusion_weight: Union[float, str, None] = 0.7, dev_fraction: float = 0.3, seed: int = 42,
    registry_name: str = "inpars-reranker", exclude_query_ids: Optional[list[str]] = None, source: str = "judged",
    significance_test: str = "randomisation", llm_judge: LLMJudgeConfig | dict | None = None,
    untrained_bias: float = 0.0, calibration: CalibrationConfig | dict | None = None, alpha: float = 0.05,
) -> Evaluated:
    """BM25, the untrained base model (alone, and fused at the candidate's weight), the trained model
    (alone and fused) and the current production version, all on the same evaluation queries
    (``source``: judged, golden or synthetic; ``synthir.evaluation.comparison``), with the candidate's
    paired p-value over each. With ``llm_judge`` (source llm_judge), the judge grades the pooled top
    documents of every system for ``queries`` and ``qrels`` are not used. ``untrained_bias``
    (``evaluation.synthetic.untrained_bias``, synthetic source only) is taken off the gain over the
    untrained model before its margin and test. Judged queries shown to the generator as few-shot
    examples (promptagator) are left out automatically, as are ``exclude_query_ids``. With ``calibration``
    (synthetic source), its golden queries calibrate the gain over the untrained model by PPI++ at ``alpha``
    (``gate.calibrate``)."""
    from synthir import registry
    from synthir.evaluation.report import comparison_markdown, log_comparison
    from synthir.lifecycle.gate import ProductionScorer, compare_rerankers
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
    judge, metadata = None, {}
    if llm_judge is not None:
        from synthir.judgments.llm_judge import make_llm_judge

        judge = make_llm_judge(LLMJudgeConfig.from_dict(llm_judge), default_cache_dir() / "judgments")
    comparison, results, candidate = compare_rerankers(corpus, queries, qrels, trained, zero_shot, production, depth=depth,
                                                       fusion_weight=fusion_weight, dev_fraction=dev_fraction, seed=seed,
                                                       excluded=excluded, significance_test=significance_test,
                                                       source=source, judge=judge, untrained_bias=untrained_bias)
    if judge is not None:
        log_metrics(judge.figures, prefix="evaluation.llm_judge.")
        metadata = {**judge.figures, "judge": judge.backend.name}
    calibration = CalibrationConfig.from_dict(calibration) if calibration is not None else None
    if calibration is not None and calibration.enabled:
        comparison = calibrated(comparison, corpus, queries, calibration, trained, zero_shot, depth, seed, alpha)
        metadata.update({f"calibrated_{k}": v for k, v in comparison.calibrated.model_dump().items()})
    table = comparison_markdown(comparison)  # paired tests per system and baseline: made once
    logger.info("\n%s", table)
    log_comparison(comparison, results, candidate, depth, table)
    return Evaluated(comparison, candidate, metadata)


def calibrated(comparison: RerankerComparison, corpus: Corpus, queries: Queries, calibration: CalibrationConfig,
               trained, zero_shot, depth: int, seed: int, alpha: float) -> RerankerComparison:
    """``gate.calibrate`` with the golden files read and the generator's judgment as the proxy judge."""
    from synthir.data.readers import read_qrels, read_queries
    from synthir.judgments.calibration import GeneratorJudge
    from synthir.lifecycle.gate import calibrate

    golden_queries, golden_qrels = read_queries(calibration.queries), read_qrels(calibration.qrels)
    require_golden(golden_queries, golden_qrels, corpus, calibration)
    judge = GeneratorJudge(calibration.judge_model, depth=calibration.judge_depth)
    comparison = calibrate(comparison, corpus, queries, golden_queries, golden_qrels, trained, zero_shot, judge,
                           depth=depth, seed=seed, alpha=alpha)
    log_metrics({k: v for k, v in comparison.calibrated.model_dump().items() if isinstance(v, (int, float))},
                prefix="evaluation.calibrated.")
    return comparison


def require_golden(queries: Queries, qrels: Qrels, corpus: Corpus, calibration: CalibrationConfig) -> None:
    """Golden files that can calibrate: at least 2 judged queries, judging documents of this collection."""
    from synthir.config import ConfigError

    judged = [q for q in qrels.query_ids if q in queries]
    if len(judged) < 2:
        raise ConfigError(f"evaluation.calibration: {calibration.qrels} judges {len(judged)} of the {len(queries)} queries "
                          f"in {calibration.queries} (query ids must match); calibration needs at least 2 judged queries")
    known = {corpus.document_of(d) for d in corpus.documents} | set(corpus.aliases)
    unknown = sorted({d for q in judged for d in qrels.judgments[q] if d not in known})
    if unknown:
        raise ConfigError(f"evaluation.calibration.qrels: {calibration.qrels} judges {len(unknown)} documents that are "
                          f"not in the collection (e.g. {unknown[:3]}); judge documents by this collection's ids")


class Registered(NamedTuple):
    decision: Any  # gate.PromotionDecision
    duplicate: bool
    metadata: dict[str, Any]


def register_reranker(
    reranker: RerankerModel, comparison: RerankerComparison, registry_name: str = "inpars-reranker",
    margin: float = 0.005, alpha: float = 0.05, min_queries: int = 30, allow_weak_gate: bool = False,
    collection_corpus: Optional[Corpus] = None, pipeline_config_hash: Optional[str] = None,
    on_registered: Optional[Callable[[str, Any], None]] = None, on_promoted: Optional[Callable[[str, str], Any]] = None,
) -> Registered:
    """Log the model, register a version with lineage and figures, and promote it only through the gate
    (``synthir.lifecycle.gate.decide_reranker``: the margin and significance over BM25, the untrained model
    and production, on at least ``min_queries`` queries), in one transaction
    (``synthir.lifecycle.gate.register_gated``). ``collection_corpus``: the whole corpus the run loaded; its
    fingerprint is the version's ``corpus_fingerprint`` (what retraining compares with), the corpus
    training saw (less held-out documents) is ``training_corpus_fingerprint``, and its manifest is
    logged for the next retraining check. ``pipeline_config_hash`` tags the version so a refused
    (corpus, config) pair is not retrained again. ``on_registered(version, decision)``: the
    orchestrator's mirror of the version (ZenML's model view), ``on_promoted(name, version)`` its mirror of the
    production alias. Outside an MLflow run, the registration gets a run of its own. A model identical to a registered
    version (the ``config_hash`` lineage tag) is never registered twice."""
    from synthir import registry
    from synthir.lifecycle import gate

    with run_of_its_own(f"register {registry_name}") as run:
        decision = gate.decide_reranker(comparison, margin, alpha, min_queries, comparison.production_version,
                                            allow_weak_gate)
        tags = {**reranker.lineage, "training_corpus_fingerprint": reranker.lineage.get("corpus_fingerprint", ""),
                **({"corpus_fingerprint": collection_corpus.fingerprint()} if collection_corpus is not None else {}),
                **({"corpus_parts": ",".join(collection_corpus.parts)} if collection_corpus is not None
                   and collection_corpus.parts else {}),
                "model_type": reranker.model_type, "base_model": reranker.base_model,
                "fusion_weight": comparison.fusion_weight, "eval_queries": comparison.eval_queries,
                "evaluation_source": comparison.source, "judgments": comparison.judgments,
                "ndcg_at_10": f"{comparison.candidate:.6f}", "mlflow_run_id": run.info.run_id,
                **({"pipeline_config_hash": pipeline_config_hash} if pipeline_config_hash else {}),
                **({"calibrated_gain": comparison.calibrated.line()} if comparison.calibrated is not None else {})}
        card = {**tags, **{f"p_value.{k}": f"{v:.4g}" for k, v in decision.p_values.items()}, "gate": decision.reason,
                **({"gate_weakened": "; ".join(decision.weakened)} if decision.weakened else {})}

        def log_model() -> str:
            if collection_corpus is not None:  # the manifest the next retraining check compares with
                from synthir.retraining import log_manifest

                log_manifest(collection_corpus.manifest())
            # the lineage is its model card too; the served model cuts documents as the corpus was cut
            passages = collection_corpus.passage_config if collection_corpus is not None else "defaults"
            return registry.log_reranker(reranker.model_dir, card=card, passages=passages)

        decision, duplicate = gate.register_gated(registry_name, {"config_hash": reranker.lineage.get("config_hash")},
                                                      decision, log_model, tags, on_registered=on_registered,
                                                      on_promoted=on_promoted)
        outcome = "duplicate" if duplicate else "promoted" if decision.promoted else "refused"
        set_tags({"registered_version": decision.version, "promotion": outcome})
        logger.info("%s v%s: %s: %s", registry_name, decision.version, "PROMOTED to production" if decision.promoted
                    else "not registered again" if duplicate else "not promoted", decision.reason)
        return Registered(decision, duplicate, {
            "version": decision.version, "promoted": decision.promoted, "duplicate": duplicate, "reason": decision.reason,
            "source": comparison.source, "eval_queries": comparison.eval_queries,
            **{f"p_value.{k}": v for k, v in decision.p_values.items()}})
