"""The reranker comparison behind the promotion gate: BM25, the untrained base model, the trained
model (alone and fused with BM25; the base model fused at the same weight) and the current production
version, all on the same evaluation queries (judged, golden or synthetic), with the candidate's paired
significance over each baseline, as one typed artifact.

Scorers are anything with ``score(queries, documents, doc_ids)`` (and optionally ``precompute``):
``synthir.retrieval.reranker.Reranker`` in a run, a stub in the tests.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Optional, Union

from pydantic import BaseModel, Field

from synthir.data import Corpus, Qrels, Queries, Run
from synthir.evaluation.metrics import EvaluationResult, evaluate
from synthir.evaluation.significance import paired_p_value

logger = logging.getLogger(__name__)
HEADLINE = "nDCG@10"


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
