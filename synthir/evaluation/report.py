"""Human-readable outputs of an evaluation: a markdown/HTML metric table and a per-query plot."""

from __future__ import annotations

import html
from pathlib import Path

from synthir.evaluation.metrics import EvaluationResult


def metrics_markdown(results: list[EvaluationResult]) -> str:
    """One row per system, one column per measure."""
    if not results:
        return "_no results_"
    measures = list(results[0].aggregate)
    lines = [
        "| system | queries | " + " | ".join(measures) + " |",
        "|---|---:|" + "---:|" * len(measures),
    ]
    for result in results:
        values = " | ".join(f"{result.aggregate.get(m, float('nan')):.4f}" for m in measures)
        lines.append(f"| {result.system} | {result.num_queries} | {values} |")
    return "\n".join(lines)


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
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def log_comparison(comparison, results: list[EvaluationResult], candidate: EvaluationResult, depth: int) -> None:
    """A reranker comparison to MLflow (every system's figures, the candidate's under the headline
    names every pipeline shares, the per-query plot) and the gate's figures to the step's metadata."""
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
    record_figures({"candidate": comparison.candidate, "bm25": comparison.bm25, "eval_queries": comparison.eval_queries},
                   prefix="gate.", candidate_system=comparison.candidate_system,
                   production_version=comparison.production_version or "")
