"""Re-score a first-stage run with a reranker, optionally fused with the first-stage scores.

Fusion: per query, both score lists are min-max normalised to [0, 1] and interpolated,
``weight * reranker + (1 - weight) * bm25``. The weight is set in config or tuned on a dev split of
the judged queries (``tune_fusion_weight``), never on the queries it is reported on.
"""

from __future__ import annotations

from tqdm.auto import tqdm

from synthir.data.records import Corpus, Qrels, Queries, Run


def rerank(run: Run, queries: Queries, corpus: Corpus, reranker, depth: int = 100, name: str = "reranked",
           show_progress: bool = True) -> Run:
    """Reranker scores for each query's top ``depth`` first-stage documents (deeper hits are dropped)."""
    scores: dict[str, dict[str, float]] = {}
    if hasattr(reranker, "precompute"):
        wanted = list(dict.fromkeys(d for qid, _ in queries for d, _ in run.ranked(qid)[:depth]))
        reranker.precompute(wanted, [corpus[d].contents for d in wanted])
    for qid, text in tqdm(list(queries), desc=f"Rerank ({name})", unit="q", disable=not show_progress):
        doc_ids = [d for d, _ in run.ranked(qid)[:depth]]
        if not doc_ids:
            scores[qid] = {}
            continue
        values = reranker.score([text] * len(doc_ids), [corpus[d].contents for d in doc_ids], doc_ids)
        scores[qid] = dict(zip(doc_ids, values))
    return Run(scores, name=name)


def _minmax(values: dict[str, float]) -> dict[str, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {d: (v - low) / span if span > 0 else 1.0 for d, v in values.items()}


def fuse(model_run: Run, first_stage: Run, weight: float, name: str = "fused") -> Run:
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"fusion weight must be in [0, 1], got {weight}")
    fused: dict[str, dict[str, float]] = {}
    for qid, model_scores in model_run.scores.items():
        a = _minmax(model_scores)
        b = _minmax({d: s for d, s in first_stage.scores.get(qid, {}).items() if d in model_scores})
        fused[qid] = {d: weight * a[d] + (1 - weight) * b.get(d, 0.0) for d in model_scores}
    return Run(fused, name=name)


def average(runs: list[Run], name: str = "average") -> Run:
    """An ensemble of equals: each run min-max per query, averaged over the first run's documents (a
    document another run did not score counts 0 there)."""
    first, *others = runs
    averaged: dict[str, dict[str, float]] = {}
    for qid, scores in first.scores.items():
        normalised = [_minmax(scores)] + [_minmax({d: s for d, s in run.scores.get(qid, {}).items() if d in scores})
                                          for run in others]
        averaged[qid] = {d: sum(n.get(d, 0.0) for n in normalised) / len(normalised) for d in scores}
    return Run(averaged, name=name)


def tune_fusion_weight(model_run: Run, first_stage: Run, dev_qrels: Qrels, measure: str = "nDCG@10",
                       grid: tuple[float, ...] = tuple(i / 10 for i in range(11))) -> tuple[float, dict[float, float]]:
    """The grid weight with the best ``measure`` on the dev judgments (ties: the smaller weight)."""
    from synthir.evaluation import evaluate

    figures = {w: evaluate(fuse(model_run, first_stage, w), dev_qrels, measures=[measure]).aggregate[measure] for w in grid}
    best = max(grid, key=lambda w: (figures[w], -w))
    return best, figures
