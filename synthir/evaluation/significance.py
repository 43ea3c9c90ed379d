"""Paired significance of one system over another on the same queries (scipy).

- ``randomisation``: the paired randomisation (sign-flip permutation) test on the per-query
  differences, ``scipy.stats.permutation_test(permutation_type="samples")``; exact when the number of
  distinct sign patterns is at most ``n_resamples``. IR's usual choice (Smucker et al., CIKM 2007).
- ``t-test``: the paired t-test, ``scipy.stats.ttest_rel``.

Both are one-sided: the p-value of "the candidate is better", so a gate can require ``p < alpha``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TESTS = ("randomisation", "t-test")


def paired_p_value(candidate: pd.Series, baseline: pd.Series, test: str = "randomisation", seed: int = 0,
                   n_resamples: int = 10_000, shift: float = 0.0) -> float:
    """One-sided p-value that ``candidate`` beats ``baseline`` by more than ``shift`` on average (the
    null hypothesis: a mean gain of at most ``shift``), paired on the shared index (queries)."""
    from scipy import stats

    if test not in TESTS:
        raise ValueError(f"significance test must be one of {TESTS}, got {test!r}")
    shared = candidate.index.intersection(baseline.index)
    if len(shared) < 2:
        return 1.0
    a = candidate.loc[shared].to_numpy(dtype=float) - shift
    b = baseline.loc[shared].to_numpy(dtype=float)
    if np.allclose(a, b):
        return 1.0  # no difference on any query: no evidence either way
    if test == "t-test":
        p = stats.ttest_rel(a, b, alternative="greater").pvalue
    else:
        p = stats.permutation_test((a, b), lambda x, y, axis: np.mean(x - y, axis=axis), permutation_type="samples",
                                   alternative="greater", n_resamples=n_resamples, vectorized=True,
                                   rng=np.random.default_rng(seed)).pvalue
    return 1.0 if p is None or math.isnan(p) else float(p)
