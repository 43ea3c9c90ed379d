"""The promotion gate, in one place: the comparison every system is measured on, the decisions about
rerankers and generators, and the one registration transaction both go through.

- **The comparison** (``compare_rerankers``): BM25, the untrained base model, the trained model (alone
  and fused with BM25; the base model fused at the same weight) and the current production version,
  all on the same evaluation queries (judged, golden or synthetic), ranked as documents, with the
  candidate's paired significance over each baseline, as one typed artifact. Scorers are anything
  with ``score(queries, documents, doc_ids)`` (and optionally ``precompute``):
  ``synthir.retrieval.reranker.Reranker`` in a run, a stub in the tests.
- **The decisions** (``decide_reranker``, ``decide_generator``): promote only on the margin and the
  paired test over every baseline (rerankers), behind a copy guard (generators).
- **The transaction** (``register_gated``): pending -> the orchestrator's mirror -> the decision
  applied -> complete, with the duplicate check; the store operations are ``synthir.registry``'s.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Optional, Union

import mlflow
from pydantic import BaseModel, Field

from synthir.data import Corpus, Qrels, Queries, Run
from synthir.evaluation.metrics import HEADLINE, EvaluationResult, evaluate
from synthir.evaluation.significance import paired_p_value
from synthir.judgments.calibration import CalibratedGain, ppi_gain
from synthir.registry import PromotionHook, apply_decision, register_version, versions_tagged

logger = logging.getLogger(__name__)


class Baseline(BaseModel):
    """A system the candidate must beat, on the same queries, and how sure that it does."""

    system: str = Field(description="its row in `systems`")
    figure: float = Field(description="its headline figure")
    p_value: float = Field(description="one-sided paired p-value that the candidate is better (by more than `shift`)")
    shift: float = Field(0.0, description="a known bias in the candidate's favour, taken off its gain before the margin "
                                          "and the test (synthetic judgments against the untrained model)")


class RerankerComparison(BaseModel):
    """What the gate decides on: the candidate's headline figure against BM25, the untrained base model
    (on the same footing: fused at the same weight when the candidate is) and production."""

    metric: str = Field("ndcg_at_10", description="the gate's metric")
    candidate: float = Field(description="the candidate's figure (fused when a fusion weight is used)")
    candidate_system: str = Field(description="which row of `systems` the candidate is")
    bm25: float = Field(description="BM25 on the same queries")
    zero_shot: Optional[float] = Field(None, description="the untrained base model alone, re-scoring the same hits")
    production: Optional[float] = Field(None, description="the current production version; null: none yet")
    production_version: Optional[str] = Field(None, description="its registry version")
    fusion_weight: Optional[float] = Field(None, description="the BM25 fusion weight used; null: reranker alone")
    eval_queries: int = Field(description="evaluation queries the figures are means over")
    dev_queries: int = Field(0, description="queries used to tune the fusion weight (not evaluated on)")
    excluded_queries: list[str] = Field(default_factory=list, description="evaluation queries left out")
    systems: dict[str, dict[str, float]] = Field(default_factory=dict, description="every system's figures")
    source: str = Field("judged", description="the source of truth: judged | golden | synthetic")
    judgments: int = Field(0, description="relevance judgments behind the evaluation queries")
    significance_test: str = Field("randomisation", description="the paired test behind `baselines`' p-values")
    baselines: dict[str, Baseline] = Field(default_factory=dict, description="bm25, untrained, production")
    per_query: dict[str, dict[str, float]] = Field(default_factory=dict,
                                                   description="system -> query id -> headline figure (reports, win/loss plots)")
    calibrated: Optional[CalibratedGain] = Field(
        None, description="synthetic source with evaluation.calibration: the gain over the untrained model on real "
                          "queries, by PPI++ from the golden queries and the synthetic ones; the untrained baseline's "
                          "test is then this one")


@dataclass
class ProductionScorer:
    """The production version as it was gated: its scorer and its recorded fusion weight."""

    scorer: Any
    fusion_weight: Optional[float]
    version: str


def split_judged(judged: list[str], tune: bool, dev_fraction: float, seed: int) -> tuple[list[str], set[str]]:
    """(test ids, dev ids): a seeded dev share when the fusion weight is tuned, else all for test."""
    if not tune:
        return list(judged), set()
    shuffled = sorted(judged)
    random.Random(seed).shuffle(shuffled)
    dev = set(shuffled[: max(1, int(len(shuffled) * dev_fraction))])
    return [q for q in judged if q not in dev], dev


def document_qrels(qrels: Qrels, corpus: Corpus) -> Qrels:
    """Judgments of passages as judgments of their documents (a document's grade: its best passage's)."""
    if not corpus.parents:
        return qrels
    judgments: dict[str, dict[str, int]] = {}
    for qid, graded in qrels.judgments.items():
        documents = judgments.setdefault(qid, {})
        for passage_id, grade in graded.items():
            doc_id = corpus.document_of(passage_id)
            documents[doc_id] = max(grade, documents.get(doc_id, grade))
    return Qrels(judgments, name=qrels.name, source=qrels.source, stats=qrels.stats)


def compare_rerankers(
    corpus: Corpus,
    queries: Queries,
    qrels: Qrels,
    trained: Any,
    zero_shot: Any | None = None,
    production: ProductionScorer | None = None,
    depth: int = 100,
    fusion_weight: Union[float, str, None] = 0.7,
    dev_fraction: float = 0.3,
    seed: int = 42,
    excluded: Collection[str] = (),
    significance_test: str = "randomisation",
    source: str = "judged",
    judge: Callable[[dict[str, Run], dict[str, str], Corpus], Qrels] | None = None,
    untrained_bias: float = 0.0,
) -> tuple[RerankerComparison, list[EvaluationResult], EvaluationResult]:
    """Every system on the same evaluation queries (less ``excluded``); ``fusion_weight: tune`` picks
    the weight on a dev split and reports on the rest, and the untrained model is fused at the weight
    the candidate gets. With a ``judge`` (an LLM judge), ``qrels`` are ignored: the judge grades the
    pooled runs of every system on all of ``queries``. ``untrained_bias`` is taken off the candidate's
    gain over the untrained model before its test (``evaluation.synthetic.untrained_bias``). Returns
    the comparison, every result, and the candidate's result."""
    from synthir.retrieval import BM25Index
    from synthir.retrieval.rerank import fuse, rerank, tune_fusion_weight

    excluded = set(excluded)
    candidates = list(queries.queries) if judge is not None else qrels.query_ids
    evaluated = [q for q in candidates if q in queries and q not in excluded]
    if not evaluated:
        raise ValueError(f"no evaluation queries: {len(qrels.judgments)} judged, none of them among the "
                         f"{len(queries)} queries (less {len(excluded)} excluded)")
    all_queries = queries.subset(evaluated)
    # the first stage and the rerankers score passages; every system is evaluated on documents
    # (Corpus.document_run: each document scored from its passages; the identity without passages)
    bm25 = BM25Index.build(corpus).search(all_queries, k=max(depth, 1000))
    runs = {"bm25": bm25, "trained": rerank(bm25, all_queries, corpus, trained, depth=depth, name="trained")}
    if zero_shot is not None:
        runs["zero-shot"] = rerank(bm25, all_queries, corpus, zero_shot, depth=depth, name="zero-shot")
    if production is not None:
        runs["production"] = rerank(bm25, all_queries, corpus, production.scorer, depth=depth, name="production")
    if judge is not None:  # pool every system as it will be scored (a tuned weight is not known yet: 0.5)
        pool_weight = 0.5 if fusion_weight == "tune" else fusion_weight
        pooled = dict(runs)
        if pool_weight is not None:
            pooled.update({f"{name}-fused": fuse(runs[name], bm25, float(pool_weight))
                           for name in ("trained", "zero-shot") if name in runs})
        qrels = document_qrels(judge(pooled, all_queries.queries, corpus), corpus)
    runs = {name: corpus.document_run(run) for name, run in runs.items()}
    bm25 = runs["bm25"]
    if production is not None and production.fusion_weight is not None:
        runs["production"] = fuse(runs["production"], bm25, production.fusion_weight)
    test_ids, dev_ids = split_judged([q for q in evaluated if q in qrels.judgments], fusion_weight == "tune",
                                     dev_fraction, seed)
    test_qrels = Qrels({q: qrels.judgments[q] for q in test_ids})
    if fusion_weight == "tune":
        weight, grid = tune_fusion_weight(runs["trained"], bm25, Qrels({q: qrels.judgments[q] for q in dev_ids}))
        logger.info("fusion weight tuned on %d dev queries: %.1f (%s)", len(dev_ids), weight, grid)
    else:
        weight = None if fusion_weight is None else float(fusion_weight)
    results = {"bm25": evaluate(bm25, test_qrels, system="bm25")}
    if zero_shot is not None:
        results["zero-shot"] = evaluate(runs["zero-shot"], test_qrels, system="zero-shot")
        if weight is not None:
            results["zero-shot-fused"] = evaluate(fuse(runs["zero-shot"], bm25, weight), test_qrels,
                                                  system="zero-shot-fused")
    results["trained"] = candidate = evaluate(runs["trained"], test_qrels, system="trained")
    if weight is not None:
        results["fused"] = candidate = evaluate(fuse(runs["trained"], bm25, weight), test_qrels, system="fused")
    if production is not None:
        results["production"] = evaluate(runs["production"], test_qrels, system="production")
    untrained = "zero-shot-fused" if weight is not None else "zero-shot"
    baseline_rows = {"bm25": "bm25", "untrained": untrained if untrained in results else None,
                     "production": "production" if production is not None else None}
    shifts = {"untrained": untrained_bias}
    baselines = {name: Baseline(system=row, figure=results[row].aggregate[HEADLINE], shift=shifts.get(name, 0.0),
                                p_value=paired_p_value(candidate.per_query[HEADLINE], results[row].per_query[HEADLINE],
                                                       significance_test, seed, shift=shifts.get(name, 0.0)))
                 for name, row in baseline_rows.items() if row is not None}
    comparison = RerankerComparison(
        candidate=candidate.aggregate[HEADLINE], candidate_system=candidate.system,
        bm25=results["bm25"].aggregate[HEADLINE],
        zero_shot=results["zero-shot"].aggregate[HEADLINE] if "zero-shot" in results else None,
        production=results["production"].aggregate[HEADLINE] if "production" in results else None,
        production_version=production.version if production else None,
        fusion_weight=weight, eval_queries=len(test_ids), dev_queries=len(dev_ids), excluded_queries=sorted(excluded),
        systems={r.system: r.metrics() for r in results.values()}, source=source,
        judgments=sum(len(qrels.judgments[q]) for q in test_ids), significance_test=significance_test,
        baselines=baselines, per_query={r.system: {str(q): float(v) for q, v in r.per_query[HEADLINE].items()}
                                        for r in results.values()})
    return comparison, list(results.values()), candidate


def calibrate(comparison: RerankerComparison, corpus: Corpus, queries: Queries, golden_queries: Queries,
              golden_qrels: Qrels, trained: Any, zero_shot: Any, judge: Callable[[dict[str, Run], dict[str, str], Corpus], Qrels],
              depth: int = 100, seed: int = 42, alpha: float = 0.05) -> RerankerComparison:
    """A synthetic comparison calibrated by a few judged (golden) queries. The candidate's gain over the
    untrained model, per query and on the comparison's footing, is measured on the golden queries under
    their judgments (Y) and under ``judge`` (the proxy f, e.g. ``GeneratorJudge``), and under ``judge`` on
    the comparison's own synthetic queries (f, label-free); PPI++ (``ppi_gain``) estimates the gain on real
    queries. The untrained baseline is then tested by it: its p-value, and as its shift the difference
    between the synthetic gain and the estimate (the synthetic judgments' bias, as the golden queries see it)."""
    candidate_row = comparison.candidate_system
    untrained_row = "zero-shot-fused" if comparison.fusion_weight is not None else "zero-shot"

    def gains(on: Queries, qrels: Qrels, by=None) -> dict[str, float]:
        rows = compare_rerankers(corpus, on, qrels, trained, zero_shot, depth=depth, fusion_weight=comparison.fusion_weight,
                                 seed=seed, judge=by)[0].per_query
        return {q: rows[candidate_row][q] - rows[untrained_row][q] for q in rows[candidate_row]}

    human = gains(golden_queries, golden_qrels)
    golden_proxy = gains(golden_queries.subset(list(human)), golden_qrels, judge)
    synthetic_proxy = gains(queries.subset(list(comparison.per_query[candidate_row])), Qrels({}), judge)
    shared = [q for q in human if q in golden_proxy]
    calibrated = ppi_gain([human[q] for q in shared], [golden_proxy[q] for q in shared], list(synthetic_proxy.values()),
                          alpha=alpha)
    logger.info("Calibrated gain over the untrained model: %s", calibrated.line())
    untrained = comparison.baselines["untrained"]
    bias = comparison.candidate - untrained.figure - calibrated.estimate
    baselines = {**comparison.baselines,
                 "untrained": untrained.model_copy(update={"shift": bias, "p_value": calibrated.p_value})}
    return comparison.model_copy(update={"calibrated": calibrated, "baselines": baselines})


# The decisions

class PromotionDecision(BaseModel):
    """A gate's verdict on a candidate, with the figures it compared: the promotion artifact."""

    promoted: bool
    reason: str
    metric: str
    candidate: float
    production: Optional[float] = None
    baseline: float
    margin: float
    previous_production: Optional[str] = None
    baseline_name: str = "BM25"
    guards: dict[str, float] = Field(default_factory=dict, description="extra figures the decision checked (copy rates)")
    version: Optional[str] = Field(None, description="the registered version the decision is about")
    source: Optional[str] = Field(None, description="rerankers: the evaluation's source of truth (judged | golden | synthetic)")
    eval_queries: Optional[int] = Field(None, description="rerankers: evaluation queries behind the figures")
    judgments: Optional[int] = Field(None, description="rerankers: relevance judgments behind the figures")
    baselines: dict[str, float] = Field(default_factory=dict, description="rerankers: each baseline's figure")
    p_values: dict[str, float] = Field(default_factory=dict, description="rerankers: one-sided paired p-value per baseline")
    alpha: Optional[float] = Field(None, description="rerankers: the significance level every p-value must be below")
    weakened: list[str] = Field(default_factory=list, description="rerankers: how the gate was weakened on purpose "
                                                                  "(evaluation.allow_weak_gate); empty: the full gate")
    verdicts: dict[str, bool] = Field(default_factory=dict, description="rerankers: whether the candidate beat each "
                                                                        "baseline by the margin and significantly")


def require_margin(margin: float) -> None:
    if margin < 0:
        raise ValueError(f"promotion_margin {margin} is negative: a model worse than a baseline or production could be "
                         "promoted; use 0 or more")


def decide(metric: str, candidate: float, baseline: float, production: float | None, margin: float,
           previous_production: str | None = None, baseline_name: str = "BM25") -> PromotionDecision:
    """Promote only when the candidate beats the baseline (BM25 for rerankers, the untuned generator
    for generators) and the current production model by ``margin`` (never negative)."""
    require_margin(margin)
    if candidate < baseline + margin:
        reason = f"{metric} {candidate:.4f} does not beat {baseline_name} {baseline:.4f} by {margin}"
        promoted = False
    elif production is not None and candidate < production + margin:
        reason = f"{metric} {candidate:.4f} does not beat production {production:.4f} by {margin}"
        promoted = False
    else:
        reason = f"{metric} {candidate:.4f} beats {baseline_name} {baseline:.4f}" + (
            f" and production {production:.4f}" if production is not None else " (no production version yet)") + f" by >= {margin}"
        promoted = True
    return PromotionDecision(promoted=promoted, reason=reason, metric=metric, candidate=candidate, production=production,
                             baseline=baseline, margin=margin, previous_production=previous_production,
                             baseline_name=baseline_name)


BASELINE_NAMES = {"bm25": "BM25", "untrained": "the untrained base model", "production": "production"}


def decide_reranker(comparison, margin: float, alpha: float = 0.05, min_queries: int = 30,
                    previous_production: str | None = None, allow_weak_gate: bool = False) -> PromotionDecision:
    """Promote a reranker only when, on at least ``min_queries`` evaluation queries, it beats every
    baseline of the comparison (BM25, the untrained base model on the same footing, production) by
    ``margin`` **and** with a one-sided paired p-value below ``alpha``. ``comparison`` is a
    ``RerankerComparison``. A negative margin is refused; ``alpha`` above
    0.1 or ``min_queries`` below 20 need ``allow_weak_gate``, and the decision then says so."""
    from synthir.judgments.config import gate_weakenings

    require_margin(margin)
    weakened = gate_weakenings(alpha, min_queries)
    if weakened and not allow_weak_gate:
        raise ValueError(f"the gate is weakened ({'; '.join(weakened)}) without evaluation.allow_weak_gate: true")
    failures, passes, verdicts = [], [], {}
    if comparison.eval_queries < min_queries:
        failures.append(f"only {comparison.eval_queries} evaluation queries (min_queries {min_queries})")
    for name, baseline in comparison.baselines.items():
        label = BASELINE_NAMES.get(name, name)
        gain = comparison.candidate - baseline.figure - baseline.shift  # less a known bias for the candidate
        bias = f", {baseline.shift:g} of it taken off as {comparison.source} judgments' bias" if baseline.shift else ""
        if name == "untrained" and comparison.calibrated is not None:
            bias = f", calibrated by {comparison.calibrated.golden_queries} golden queries to {gain:+.4f}"
        line = f"{label} {baseline.figure:.4f} ({comparison.candidate - baseline.figure:+.4f}{bias}, p={baseline.p_value:.3g})"
        verdicts[name] = False
        if gain < margin:
            failures.append(f"does not beat {line} by {margin}")
        elif alpha < 1 and baseline.p_value >= alpha:  # alpha 1: no significance required
            failures.append(f"beats {line} but not significantly (alpha {alpha})")
        else:
            passes.append(line)
            verdicts[name] = True
    metric = f"{comparison.metric} {comparison.candidate:.4f} on {comparison.eval_queries} {comparison.source} queries"
    if failures:
        reason = f"{metric}: " + "; ".join(failures)
    else:
        reason = f"{metric} beats " + ", ".join(passes) + (" (no production version yet)" if comparison.production is None
                                                           else "") + f" by >= {margin} at alpha {alpha}"
    if weakened:
        reason += f" [GATE WEAKENED on purpose (evaluation.allow_weak_gate): {'; '.join(weakened)}]"
    strongest = max((n for n in comparison.baselines if n != "production"), key=lambda n: comparison.baselines[n].figure)
    return PromotionDecision(
        promoted=not failures, reason=reason, metric=comparison.metric, candidate=comparison.candidate,
        production=comparison.production, baseline=comparison.baselines[strongest].figure, margin=margin,
        previous_production=previous_production, baseline_name=BASELINE_NAMES[strongest], source=comparison.source,
        eval_queries=comparison.eval_queries, judgments=comparison.judgments,
        baselines={n: b.figure for n, b in comparison.baselines.items()},
        p_values={n: b.p_value for n, b in comparison.baselines.items()}, alpha=alpha,
        guards={f"{n}_bias": b.shift for n, b in comparison.baselines.items() if b.shift}, weakened=weakened,
        verdicts=verdicts)


def decide_generator(candidate: dict[str, float], base: dict[str, float], production: dict[str, float] | None,
                     margin: float, max_copy_rate_increase: float, metric: str = "query_eval",
                     previous_production: str | None = None) -> PromotionDecision:
    """The reranker's gate on ``metric`` (vs the untuned base generator and production), behind a copy
    guard: refused when the candidate's copy rate exceeds the lowest of the base's and production's
    by more than ``max_copy_rate_increase`` (CPO raised InPars+'s scores partly by copying documents)."""
    reference = min([base["copy_rate"]] + ([production["copy_rate"]] if production else []))
    guards = {"copy_rate": candidate["copy_rate"], "copy_rate_reference": reference,
              "max_copy_rate_increase": max_copy_rate_increase}
    decision = decide(metric, candidate[metric], base[metric], production[metric] if production else None, margin,
                      previous_production, baseline_name="base generator")
    decision.guards = guards
    if candidate["copy_rate"] > reference + max_copy_rate_increase:
        decision.promoted = False
        decision.reason = (f"copy rate {candidate['copy_rate']:.3f} rose beyond {reference:.3f} + {max_copy_rate_increase} "
                           f"(the lower of the base generator's and production's); {metric}: {decision.reason}")
    return decision


# The registration transaction

PENDING, COMPLETE = "pending", "complete"


def _state(version) -> str | None:
    """``pending``, ``complete``, or None for a version whose decision was never recorded anywhere
    (registered by hand, or cut short before this transaction existed): never counted as identical."""
    state = version.tags.get("registration")
    if state in (PENDING, COMPLETE):
        return state
    return COMPLETE if version.tags.get("promotion.decision") else None


def identical_versions(name: str, identity: dict[str, str | None], client: mlflow.MlflowClient | None = None) -> list:
    """The versions of ``name`` carrying every ``identity`` tag whose registration is complete or
    pending with its decision stored, oldest first (the oldest is the one that counts)."""
    return [v for v in versions_tagged(name, identity, client) if _state(v)]


def _complete(name: str, version, client: mlflow.MlflowClient, on_registered=None,
              on_promoted: PromotionHook | None = None) -> PromotionDecision:
    """Apply a pending version's stored decision (idempotent: two runs finishing it write the same tags
    and move the alias to the same version) and mark it complete."""
    decision = PromotionDecision.model_validate_json(version.tags["registration.decision"])
    if on_registered is not None:
        on_registered(str(version.version), decision)
    apply_decision(name, str(version.version), decision, client, on_promoted)
    client.set_model_version_tag(name, str(version.version), "registration", COMPLETE)
    return decision


def register_gated(name: str, identity: dict[str, str | None], decision: PromotionDecision, log_model,
                   tags: dict[str, Any], on_registered=None, client: mlflow.MlflowClient | None = None,
                   on_promoted: PromotionHook | None = None) -> tuple[PromotionDecision, bool]:
    """The one registration transaction for rerankers and generators. Returns the decision about the
    version that counts and whether it is a duplicate (nothing new registered).

    1. A version with the same ``identity`` (``config_hash``: same training data and config) is never
       registered twice: the decision names it, and one an interrupted run left pending is completed.
    2. Otherwise ``log_model()`` logs the model (its URI) and the version is registered *pending*, with
       ``tags``, ``identity`` and ``decision`` stored on it.
    3. Check-and-set: of the identical versions now in the store, the oldest counts. A run that lost a
       race to a concurrent identical run deletes its own version and reports the winner's.
    4. ``on_registered(version, decision)`` (the orchestrator's mirror, e.g. ZenML's model view), then
       the decision is applied (tags, the alias when promoted, then ``on_promoted``) and the version
       marked complete."""
    client = client or mlflow.MlflowClient()
    existing = identical_versions(name, identity, client)
    if not existing:
        stored = {**tags, **identity, "registration": PENDING, "registration.decision": decision.model_dump_json()}
        version = register_version(log_model(), name, stored, client)
        existing = identical_versions(name, identity, client)
        if str(existing[0].version) == version:
            _complete(name, client.get_model_version(name, version), client, on_registered, on_promoted)
            return decision.model_copy(update={"version": version}), False
        client.delete_model_version(name, version)  # a concurrent identical run registered first: it completes its own
        counted = existing[0]
        how = f"registered by a concurrent run while this one registered; this run's v{version} was withdrawn"
        recorded = counted.tags.get("promotion.decision") or "being registered by that run"
    else:
        counted, how = existing[0], "same training data and config"
        recorded = counted.tags.get("promotion.decision")
        if _state(counted) == PENDING:  # an interrupted run's: its stored decision is applied now
            recorded = "promoted" if _complete(name, counted, client, on_registered, on_promoted).promoted else "refused"
            how += "; an interrupted run had left its registration incomplete, completed now"
    reason = (f"identical to {name} v{counted.version} ({how}; {'/'.join(f'{k} {v}' for k, v in identity.items())}): not "
              f"registered again; that version was {recorded or 'registered'}. This evaluation: {decision.reason}")
    return decision.model_copy(update={"version": str(counted.version), "promoted": False, "reason": reason}), True


def gate_table(comparison, decision) -> str:
    """Every system on the evaluation queries with the candidate's gain and paired test, then the decision."""
    p_values = {b.system: b.p_value for b in comparison.baselines.values()}
    rows = [f"| {system} | {figures['ndcg_at_10']:.4f} | "
            + (f"{comparison.candidate - figures['ndcg_at_10']:+.4f} | p={p_values[system]:.3g}"
               if system in p_values else " | ") + " |"
            for system, figures in comparison.systems.items()]
    verdict = "PROMOTED" if decision.promoted else "REFUSED"
    calibrated = getattr(comparison, "calibrated", None)
    if calibrated is not None:
        rows.append(f"\nGain over the untrained model, calibrated by {calibrated.golden_queries} golden queries (PPI++): "
                    f"{calibrated.line()}; p={calibrated.p_value:.3g}")
    return "\n".join([f"\nThe gate: {comparison.eval_queries} {comparison.source} evaluation queries "
                      f"({comparison.judgments} judgments); candidate: {comparison.candidate_system}",
                      "| system | nDCG@10 | candidate's gain | paired test |", "|---|---|---|---|", *rows,
                      f"{verdict} v{decision.version}: {decision.reason}"])
