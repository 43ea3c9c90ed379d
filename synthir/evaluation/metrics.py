"""Effectiveness measures through ir_measures, with per-query figures.

Judged queries missing from the run count as zero (pytrec_eval would silently skip them, which
flatters systems that fail on hard queries).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ir_measures
import pandas as pd

from synthir.data.records import Qrels, Run

DEFAULT_MEASURES = ("nDCG@10", "RR@10", "R@100", "R@1000", "AP")
HEADLINE = "nDCG@10"  # the gate's measure


def metric_key(measure: str) -> str:
    """An MLflow-safe metric name: ``nDCG@10`` -> ``ndcg_at_10``, ``AP`` -> ``map``."""
    name = str(measure)
    if name == "AP":
        return "map"
    return name.lower().replace("@", "_at_").replace("(", "_").replace(")", "").replace("=", "_")


@dataclass
class EvaluationResult:
    """Aggregate figures (mean over judged queries) and the per-query table."""

    system: str
    aggregate: dict[str, float]
    per_query: pd.DataFrame  # index: query_id; one column per measure
    measures: tuple[str, ...] = DEFAULT_MEASURES
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def num_queries(self) -> int:
        return len(self.per_query)

    def metrics(self) -> dict[str, float]:
        """MLflow-ready names and values."""
        return {metric_key(m): value for m, value in self.aggregate.items()}

    def to_frame(self) -> pd.DataFrame:
        return self.per_query.reset_index()


def evaluate(
    run: Run,
    qrels: Qrels,
    measures: tuple[str, ...] | list[str] = DEFAULT_MEASURES,
    system: str | None = None,
    exclude_query_ids: set[str] | list[str] | None = None,
) -> EvaluationResult:
    """Per-query and mean figures over the judged queries, minus ``exclude_query_ids`` (the queries a
    promptagator prompt showed the generator as examples: evaluating on them would leak labels)."""
    if exclude_query_ids:
        excluded = set(exclude_query_ids)
        qrels = Qrels({q: docs for q, docs in qrels.judgments.items() if q not in excluded}, name=qrels.name)
    parsed = [ir_measures.parse_measure(m) for m in measures]
    qrels_rows = [
        ir_measures.Qrel(qid, did, rel) for qid, docs in qrels.judgments.items() for did, rel in docs.items()
    ]
    run_rows = [
        ir_measures.ScoredDoc(qid, did, score)
        for qid, docs in run.scores.items()
        if qid in qrels.judgments
        for did, score in docs.items()
    ]
    names = [str(m) for m in parsed]
    per_query = pd.DataFrame(0.0, index=pd.Index(qrels.query_ids, name="query_id"), columns=names)
    for metric in ir_measures.iter_calc(parsed, qrels_rows, run_rows):
        per_query.at[metric.query_id, str(metric.measure)] = float(metric.value)
    aggregate = {name: float(per_query[name].mean()) for name in names}
    return EvaluationResult(
        system=system or run.name, aggregate=aggregate, per_query=per_query, measures=tuple(names)
    )
