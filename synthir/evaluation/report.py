"""Human-readable outputs of an evaluation: a markdown/HTML metric table and a per-query plot."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from synthir.evaluation.metrics import EvaluationResult


def metrics_markdown(results: list[EvaluationResult], against: list[EvaluationResult] = (),
                     test: str = "randomisation") -> str:
    """One row per system, one column per measure; with ``against`` (BM25, the untrained model), a
    column per baseline: each system's gain on the first measure and its one-sided paired p-value."""
    if not results:
        return "_no results_"
    measures = list(results[0].aggregate)
    headline = measures[0]
    lines = [
        "| system | queries | " + " | ".join(measures) + "".join(f" | vs {b.system} (p)" for b in against) + " |",
        "|---|---:|" + "---:|" * (len(measures) + len(against)),
    ]
    for result in results:
        values = " | ".join(f"{result.aggregate.get(m, float('nan')):.4f}" for m in measures)
        gains = "".join(f" | {significance_cell(result, baseline, headline, test)}" for baseline in against)
        lines.append(f"| {result.system} | {result.num_queries} | {values}{gains} |")
    if against:
        lines.append(f"\n_vs X (p): gain in {headline} over X on the same queries, and the one-sided paired "
                     f"{test} p-value that the system is better._")
    return "\n".join(lines)


def significance_cell(result: EvaluationResult, baseline: EvaluationResult, measure: str, test: str) -> str:
    """``+0.0123 (p=0.041)``; a dash on the baseline's own row."""
    from synthir.evaluation.significance import paired_p_value

    if result.system == baseline.system:
        return "—"
    gain = result.aggregate[measure] - baseline.aggregate[measure]
    return f"{gain:+.4f} (p={paired_p_value(result.per_query[measure], baseline.per_query[measure], test):.3g})"


def win_loss(candidate: pd.Series, baseline: pd.Series, tolerance: float = 1e-9) -> tuple[pd.Series, int, int, int]:
    """Per-query gains of ``candidate`` over ``baseline`` (shared queries, largest first) and the counts
    of wins, ties and losses."""
    shared = candidate.index.intersection(baseline.index)
    gains = (candidate.loc[shared] - baseline.loc[shared]).sort_values(ascending=False)
    wins, losses = int((gains > tolerance).sum()), int((gains < -tolerance).sum())
    return gains, wins, len(gains) - wins - losses, losses


def plot_win_loss(candidate: EvaluationResult, baselines: list[EvaluationResult], path: str | Path,
                  measure: str | None = None) -> Path:
    """Per query, the candidate's gain over each baseline (green: wins, red: losses), one panel each; PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measure = measure or candidate.measures[0]
    fig, axes = plt.subplots(1, max(1, len(baselines)), figsize=(5.5 * max(1, len(baselines)), 3.6), squeeze=False)
    for axis, baseline in zip(axes[0], baselines):
        gains, wins, ties, losses = win_loss(candidate.per_query[measure], baseline.per_query[measure])
        axis.bar(range(len(gains)), gains.to_numpy(), width=1.0,
                 color=["tab:green" if g > 0 else "tab:red" if g < 0 else "tab:gray" for g in gains])
        axis.axhline(0, color="black", linewidth=0.8)
        axis.set_title(f"{candidate.system} vs {baseline.system}: {wins} wins, {ties} ties, {losses} losses", fontsize=10)
        axis.set_xlabel("query (largest gain first)")
        axis.set_ylabel(f"gain in {measure}")
    return save_figure(fig, path)


def metrics_html(results: list[EvaluationResult], per_query_rows: int = 20) -> str:
    """Aggregate table plus the hardest queries of the first system, for the ZenML dashboard."""
    if not results:
        return "<p>no results</p>"
    measures = list(results[0].aggregate)
    head = "".join(f"<th>{html.escape(m)}</th>" for m in measures)
    body = "".join(
        f"<tr><td>{html.escape(r.system)}</td><td>{r.num_queries}</td>"
        + "".join(f"<td>{r.aggregate.get(m, float('nan')):.4f}</td>" for m in measures)
        + "</tr>"
        for r in results
    )
    first = results[0]
    main = first.measures[0]
    worst = first.per_query.sort_values(main).head(per_query_rows)
    worst_rows = "".join(
        f"<tr><td>{html.escape(str(qid))}</td>" + "".join(f"<td>{row[m]:.4f}</td>" for m in first.measures) + "</tr>"
        for qid, row in worst.iterrows()
    )
    worst_head = "".join(f"<th>{html.escape(m)}</th>" for m in first.measures)
    style = ("table{border-collapse:collapse;font-family:sans-serif;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}")
    return (
        f"<html><head><style>{style}</style></head><body>"
        f"<h3>Effectiveness</h3><table><tr><th>system</th><th>queries</th>{head}</tr>{body}</table>"
        f"<h3>Hardest queries for {html.escape(first.system)} (by {html.escape(main)})</h3>"
        f"<table><tr><th>query</th>{worst_head}</tr>{worst_rows}</table></body></html>"
    )


def save_figure(fig, path: str | Path) -> Path:
    """Lay out, write as PNG (folders made), close."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_per_query(results: list[EvaluationResult], path: str | Path, measure: str | None = None) -> Path:
    """Per-query figures sorted by the first system, one line per system; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measure = measure or results[0].measures[0]
    order = results[0].per_query[measure].sort_values(ascending=False).index
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 1]})
    for result in results:
        values = result.per_query[measure].reindex(order).fillna(0.0).to_numpy()
        left.plot(range(len(values)), values, marker=".", linewidth=1, label=f"{result.system} ({result.aggregate[measure]:.3f})")
    left.set_xlabel("query (sorted by the first system)")
    left.set_ylabel(measure)
    left.set_ylim(0, 1.02)
    left.legend(loc="upper right")
    left.set_title(f"Per-query {measure}")
    names = [r.system for r in results]
    right.bar(names, [r.aggregate[measure] for r in results], color="tab:blue")
    right.set_ylim(0, 1)
    right.set_title(f"mean {measure}")
    right.tick_params(axis="x", rotation=30)
    return save_figure(fig, path)


def log_comparison(comparison, results: list[EvaluationResult], candidate: EvaluationResult, depth: int,
                   table: str) -> None:
    """A reranker comparison to MLflow (every system's figures, the candidate's under the headline
    names every pipeline shares, the gate's ``table`` from ``comparison_markdown``, per-query and
    win/loss plots) and the gate's figures to the step's metadata."""
    import tempfile

    from synthir.tracking import log_artifact, log_metrics, log_params, record_figures

    for result in results:
        log_metrics(result.metrics(), prefix=f"eval.{result.system}.")
    log_metrics(candidate.metrics())
    log_params({"depth": depth, "fusion_weight": comparison.fusion_weight, "test_queries": comparison.eval_queries,
                "dev_queries": comparison.dev_queries, "excluded_queries": ",".join(comparison.excluded_queries)},
               prefix="eval.")
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(plot_per_query(results, Path(tmp) / "rerankers.per_query.png"), "evaluation")
        report = Path(tmp) / "comparison.md"
        report.write_text(table, encoding="utf-8")
        log_artifact(report, "evaluation")
        log_artifact(comparison_win_loss(comparison, Path(tmp) / "rerankers.win_loss.png"), "evaluation")
    record_figures({"candidate": comparison.candidate, "bm25": comparison.bm25, "eval_queries": comparison.eval_queries},
                   prefix="gate.", candidate_system=comparison.candidate_system,
                   production_version=comparison.production_version or "")


def comparison_results(comparison) -> tuple[list[EvaluationResult], EvaluationResult, list[EvaluationResult]]:
    """(every system, the candidate, the baselines BM25 and untrained) as headline-only results, from
    a ``RerankerComparison``'s per-query figures."""
    from synthir.evaluation.metrics import HEADLINE

    results = {system: EvaluationResult(system=system, aggregate={HEADLINE: float(pd.Series(values).mean())},
                                        per_query=pd.DataFrame({HEADLINE: pd.Series(values, dtype=float)}),
                                        measures=(HEADLINE,))
               for system, values in comparison.per_query.items()}
    baselines = [results[comparison.baselines[name].system] for name in ("bm25", "untrained")
                 if name in comparison.baselines and comparison.baselines[name].system in results]
    return list(results.values()), results[comparison.candidate_system], baselines


def comparison_markdown(comparison) -> str:
    """The gate's table: every system with its gain over BM25 and the untrained model and the paired
    p-values, then the source of truth and the counts behind it."""
    results, _, baselines = comparison_results(comparison)
    calibrated = getattr(comparison, "calibrated", None)
    return (f"{metrics_markdown(results, baselines, comparison.significance_test)}\n\n"
            f"Candidate: {comparison.candidate_system}; source: {comparison.source}, {comparison.eval_queries} queries, "
            f"{comparison.judgments} judgments; fusion weight {comparison.fusion_weight}."
            + (f"\n\nGain over the untrained model, calibrated by golden queries (PPI++): {calibrated.line()}; "
               f"p={calibrated.p_value:.3g}." if calibrated is not None else ""))


def comparison_win_loss(comparison, path: str | Path) -> Path:
    """The candidate's per-query wins and losses against BM25 and the untrained model (PNG)."""
    _, candidate, baselines = comparison_results(comparison)
    return plot_win_loss(candidate, baselines, path)
