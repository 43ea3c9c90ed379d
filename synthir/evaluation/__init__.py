"""Evaluation: ir_measures wrappers, reports and plots."""

from synthir.evaluation.metrics import DEFAULT_MEASURES, EvaluationResult, evaluate, metric_key

__all__ = ["DEFAULT_MEASURES", "EvaluationResult", "evaluate", "metric_key"]
