"""Checks, policies and filters put together; the report they produce."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from synthir.data.records import Corpus
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery
from synthir.quality.checks import ChecksConfig, measure_queries, run_checks
from synthir.quality.filters import apply_filters

COPY_CHECKS = ("copy_exact", "copy_ngram", "copy_lcs")


class ValidationFailed(RuntimeError):
    pass


class FilteredQueries(SyntheticQueries):
    """Queries that passed the checks and the filters: what reranker training consumes."""


class QuarantinedQueries(SyntheticQueries):
    """Rows the checks set aside; each has ``extra['quarantine_reasons']``. Kept, counted, viewable."""


@dataclass
class ValidationReport:
    total: int
    after_checks: int
    kept: int
    checks: dict[str, dict[str, Any]]
    filters: list[dict[str, Any]] = field(default_factory=list)
    failure_reasons: list[str] = field(default_factory=list)
    gx_result: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.failure_reasons)

    @property
    def kept_fraction(self) -> float:
        return self.kept / self.total if self.total else 0.0

    @property
    def copy_rate(self) -> float:
        """Share of queries flagged by any copy check (exact substring, n-gram share or LCS)."""
        flagged = set()
        for name in COPY_CHECKS:
            flagged.update(self.checks.get(name, {}).get("failed_rows", []))
        return len(flagged) / self.total if self.total else 0.0

    def metrics(self) -> dict[str, float]:
        figures = {"queries_in": float(self.total), "queries_after_checks": float(self.after_checks),
                   "queries_kept": float(self.kept), "kept_fraction": self.kept_fraction, "copy_rate": self.copy_rate}
        for name, outcome in self.checks.items():
            figures[f"pass_rate.{name}"] = 1.0 - outcome["share"]
        for position, step in enumerate(self.filters):
            figures[f"filter.{position}_{step['name']}.kept"] = float(step["after"])
        return figures

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "after_checks": self.after_checks, "kept": self.kept, "checks": self.checks,
                "filters": self.filters, "failure_reasons": self.failure_reasons, "gx_result": self.gx_result}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        return cls(**data)

    def to_html(self) -> str:
        check_rows = "".join(
            f"<tr class='{'bad' if o['fails_run'] else ('warn' if o['failed'] else 'ok')}'><td>{html.escape(name)}</td>"
            f"<td>{html.escape(o['policy'])}</td><td>{o['failed']}</td><td>{100 * o['share']:.1f}%</td>"
            f"<td>{'fails run' if o['fails_run'] else ''}</td><td>{html.escape(' | '.join(o['sample']))}</td></tr>"
            for name, o in self.checks.items()
        )
        filter_rows = "".join(
            f"<tr><td>{i + 1}. {html.escape(f['name'])}</td><td>{html.escape(str(f['params']))}</td>"
            f"<td>{f['before']}</td><td>{f['after']}</td></tr>" for i, f in enumerate(self.filters)
        ) or "<tr><td colspan=4>no filters</td></tr>"
        verdict = ("<p class='bad'>FAILED: " + html.escape("; ".join(self.failure_reasons)) + "</p>") if self.failed \
            else "<p class='ok'>passed</p>"
        style = ("table{border-collapse:collapse;font-family:sans-serif;font-size:13px}td,th{border:1px solid #ccc;"
                 "padding:3px 6px;text-align:left;vertical-align:top}.bad{background:#fdd}.warn{background:#ffd}.ok{background:#efe}")
        return (
            f"<html><head><style>{style}</style></head><body><h3>Validation report (Great Expectations checks + filters)</h3>"
            f"{verdict}<p>{self.total} queries in, {self.after_checks} after checks, {self.kept} kept "
            f"({100 * self.kept_fraction:.1f}%); copy rate {100 * self.copy_rate:.1f}%.</p>"
            "<table><tr><th>check</th><th>policy</th><th>failing rows</th><th>share</th><th></th><th>examples</th></tr>"
            f"{check_rows}</table>"
            f"<h4>Filters (in order)</h4><table><tr><th>filter</th><th>params</th><th>in</th><th>out</th></tr>{filter_rows}</table>"
            "</body></html>"
        )


def check_queries(queries: SyntheticQueries, config: ChecksConfig) -> tuple[SyntheticQueries, QuarantinedQueries, ValidationReport]:
    """Run the checks; split rows into kept and quarantined by each check's policy."""
    rows = queries.queries
    table = measure_queries(rows, config)
    outcomes, gx_result = run_checks(table, config)
    reasons: dict[int, list[str]] = {}
    failure_reasons = []
    for name, outcome in outcomes.items():
        if outcome.policy == "quarantine":
            for index in outcome.failed_rows:
                reasons.setdefault(index, []).append(name)
        if outcome.fails_run:
            failure_reasons.append(f"{name}: {100 * outcome.share:.1f}% of queries fail it (policy {outcome.policy})")
    kept = [row for i, row in enumerate(rows) if i not in reasons]
    quarantined = [_with_reasons(rows[i], reasons[i], table.iloc[i]) for i in sorted(reasons)]
    meta = {k: v for k, v in queries.meta().items()}
    report = ValidationReport(
        total=len(rows), after_checks=len(kept), kept=len(kept),
        checks={name: {"policy": o.policy, "failed": len(o.failed_rows), "failed_rows": o.failed_rows,
                       "share": o.share, "fails_run": o.fails_run, "gx_success": o.gx_success, "sample": o.sample}
                for name, o in outcomes.items()},
        failure_reasons=failure_reasons, gx_result=gx_result,
    )
    return SyntheticQueries(kept, **meta), QuarantinedQueries(quarantined, **meta), report


def _with_reasons(row: SyntheticQuery, reasons: list[str], measures) -> SyntheticQuery:
    extra = {**row.extra, "quarantine_reasons": reasons,
             "copy_ngram": round(float(measures["copy_ngram"]), 4), "copy_lcs": round(float(measures["copy_lcs"]), 4)}
    return SyntheticQuery(**{**row.__dict__, "extra": extra})


def filter_queries(queries: SyntheticQueries, filters: list[dict[str, Any]], corpus: Corpus,
                   report: ValidationReport) -> tuple[FilteredQueries, ValidationReport]:
    rows, steps = apply_filters(queries.queries, filters, corpus)
    final = ValidationReport(**{**report.to_dict(), "kept": len(rows),
                                "filters": [{"name": s.name, "params": s.params, "before": s.before, "after": s.after} for s in steps]})
    meta = queries.meta()
    meta["stats"] = {**meta.get("stats", {}), "kept_after_validation": float(len(rows))}
    meta["filters"] = [*meta.get("filters", []),
                       *(f"{s.name}({', '.join(f'{k}={v}' for k, v in s.params.items())})" for s in steps)]
    return FilteredQueries(rows, **meta), final
