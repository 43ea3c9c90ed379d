"""Thin ZenML steps: parse config, call ``synthir``, log to MLflow, return typed artifacts."""

import materializers  # noqa: F401  (registers the materializers for synthir's types)
