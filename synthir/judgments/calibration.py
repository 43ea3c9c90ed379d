"""A gate calibrated by a few judged queries: prediction-powered inference on the candidate's gain.

A team often has a handful of judged queries (a *golden* set, 10 to 50). Alone they give a valid but
wide interval on "the candidate beats the untrained model"; the synthetic evaluation gives a narrow
one that can be biased (its queries and judgments are the generator's). PPI++ (Angelopoulos, Duchi
and Zrnic, 2023; ``ppi_py``, the authors' package) combines them:

- ``Y``: the candidate's gain over the baseline on each golden query, under its human judgments;
- ``f``: the same gain under a judgment any query can get without a person: the **generator's
  judgment**, the document the query generator most likely wrote the query from (query likelihood,
  UPR, over the systems' pooled top documents). It is the synthetic judgments' own rule ("a query is
  about the document it was written from") applied as a judge, so it reads a golden query and a
  synthetic one alike;
- the estimate ``λ · mean f(unlabelled) + mean (Y - λ f)(golden)``, with ``λ`` tuned for the smallest
  variance: ``λ = 0`` is the golden set alone, so the interval is never much wider than it, and
  narrower the better ``f`` tracks ``Y``.

It is valid when the unlabelled queries are drawn like the golden ones. Synthetic queries are not,
quite: ``benchmarks/calibrated_gate.py`` measures how often the interval covers the figure of every
judged CISI query, from random golden subsets.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from synthir.data.records import Corpus, Qrels, Run

logger = logging.getLogger(__name__)


class CalibratedGain(BaseModel):
    """The candidate's gain over a baseline on real queries, by PPI++ from golden and label-free queries."""

    estimate: float = Field(description="the prediction-powered estimate of the mean gain")
    low: float = Field(description="the two-sided (1 - alpha) interval's lower end")
    high: float = Field(description="the two-sided (1 - alpha) interval's upper end")
    lower_bound: float = Field(description="the one-sided (1 - alpha) lower bound: the gate's figure")
    p_value: float = Field(description="one-sided p-value that the gain exceeds `shift`")
    shift: float = Field(0.0, description="the gain the test requires (the gate's margin)")
    alpha: float = Field(description="the error level")
    golden_queries: int = Field(description="judged queries (n)")
    unlabelled_queries: int = Field(description="label-free queries (N) the proxy is averaged over")
    golden_mean: float = Field(description="the gain on the golden queries alone (the classical estimate)")
    golden_low: float = Field(description="the golden-only (classical) two-sided interval's lower end")
    golden_high: float = Field(description="the golden-only (classical) two-sided interval's upper end")
    golden_lower_bound: float = Field(description="the golden-only (classical) one-sided (1 - alpha) lower bound")
    proxy_mean: float = Field(description="the proxy gain averaged over the label-free queries")
    proxy_correlation: float = Field(description="Pearson correlation of the proxy with the human gain on the golden "
                                                 "queries (what makes the interval narrower)")

    def line(self) -> str:
        return (f"{self.estimate:+.4f} [{self.low:+.4f}, {self.high:+.4f}] at {1 - self.alpha:.0%} from "
                f"{self.golden_queries} golden and {self.unlabelled_queries} label-free queries (golden alone "
                f"[{self.golden_low:+.4f}, {self.golden_high:+.4f}])")


def ppi_gain(golden_gain, golden_proxy, unlabelled_proxy, alpha: float = 0.05, shift: float = 0.0) -> CalibratedGain:
    """PPI++ on a mean: ``golden_gain`` (Y) and ``golden_proxy`` (f) on the same golden queries, in the
    same order, and ``unlabelled_proxy`` (f) on the label-free ones."""
    from ppi_py import classical_mean_ci, ppi_mean_ci, ppi_mean_pointestimate
    from scipy import stats

    y, f_golden, f_unlabelled = (np.asarray(a, dtype=float).reshape(-1) for a in (golden_gain, golden_proxy,
                                                                                 unlabelled_proxy))
    if len(y) != len(f_golden):
        raise ValueError(f"golden_gain and golden_proxy must be paired: {len(y)} against {len(f_golden)} queries")
    if len(y) < 2 or len(f_unlabelled) < 2:
        raise ValueError(f"PPI needs at least 2 golden and 2 label-free queries, got {len(y)} and {len(f_unlabelled)}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}")
    # PPI++ tunes lambda as cov(Y, f) / var(f): a proxy with no spread (the judge saw no difference
    # between the two models anywhere) makes that 0/0, and it carries no information: lambda 0, the
    # golden queries alone
    tuned = {"lam": 0.0} if np.ptp(np.concatenate([f_golden, f_unlabelled])) == 0 else {}
    estimate = float(np.ravel(ppi_mean_pointestimate(y, f_golden, f_unlabelled, **tuned))[0])
    # ppi_mean_ci drops `alternative` when it tunes lambda (ppi_py 0.2.3): the two-sided interval is asked
    # for and the one-sided bound read off the two-sided interval at 2 alpha (the same z bound)
    low, high = (float(np.ravel(v)[0]) for v in ppi_mean_ci(y, f_golden, f_unlabelled, alpha=alpha, **tuned))
    bound, upper = (float(np.ravel(v)[0]) for v in ppi_mean_ci(y, f_golden, f_unlabelled, alpha=2 * alpha, **tuned))
    se = (upper - bound) / (2 * stats.norm.ppf(1 - alpha))
    p_value = float(stats.norm.sf((estimate - shift) / se)) if se > 0 else float(estimate <= shift)
    golden_low, golden_high = (float(np.ravel(v)[0]) for v in classical_mean_ci(y, alpha=alpha))
    golden_bound = float(np.ravel(classical_mean_ci(y, alpha=2 * alpha)[0])[0])  # one-sided, as the PPI bound
    correlation = float(np.corrcoef(y, f_golden)[0, 1]) if np.std(y) > 0 and np.std(f_golden) > 0 else 0.0
    return CalibratedGain(estimate=estimate, low=low, high=high, lower_bound=bound, p_value=p_value, shift=shift,
                          alpha=alpha, golden_queries=len(y), unlabelled_queries=len(f_unlabelled),
                          golden_mean=float(y.mean()), golden_low=golden_low, golden_high=golden_high,
                          golden_lower_bound=golden_bound,
                          proxy_mean=float(f_unlabelled.mean()), proxy_correlation=correlation)


class GeneratorJudge:
    """The generator's judgment as a judge for ``compare_rerankers(judge=...)``: for each query, of the
    systems' pooled top ``depth`` documents, the one the causal LM ``model`` most likely writes the query
    from (query likelihood) is relevant. Synthetic queries are judged by the same rule they were
    written under, golden queries as if they had been."""

    def __init__(self, model: str = "package:smollm2-135m-instruct", depth: int = 5, max_doc_tokens: int = 200):
        if depth < 1:
            raise ValueError(f"GeneratorJudge: depth must be >= 1, got {depth}")
        self.model, self.depth, self.max_doc_tokens = model, depth, max_doc_tokens
        self._likelihood: Any = None

    def __call__(self, runs: dict[str, Run], queries: dict[str, str], corpus: Corpus) -> Qrels:
        from synthir.training.query_likelihood import QueryLikelihood

        pools: dict[str, list[str]] = {}
        for qid in queries:
            pool = [d for run in runs.values() for d, _ in run.ranked(qid)[: self.depth]]
            if pool:
                pools[qid] = list(dict.fromkeys(pool))
        if self._likelihood is None:
            self._likelihood = QueryLikelihood(self.model, max_doc_tokens=self.max_doc_tokens)
        logger.info("Generator judge: query likelihood under %s over %d pairs of %d queries", self.model,
                    sum(map(len, pools.values())), len(pools))
        likelihood = self._likelihood.run(pools, queries, corpus, name="generator-judgment")
        return Qrels({qid: {likelihood.ranked(qid)[0][0]: 1} for qid in pools}, name="generator-judgments",
                     source="generator")
