"""MLflow model registry for rerankers: logging, versions with lineage, the promotion gate, by-hand
promotion and rollback. MLflow 3 promotes by **alias** (``production``), not stages.

    python -m synthir.registry show     --name inpars-reranker
    python -m synthir.registry promote  --name inpars-reranker --version 3 [--reason "..."]
    python -m synthir.registry rollback --name inpars-reranker

The tracking URI comes from ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` (the local stack's is
``sqlite:///<project>/mlruns/mlflow.db``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.pyfunc

PRODUCTION = "production"
DEFAULT_NAME = "inpars-reranker"


class RerankerPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes a frame with ``query`` and ``document`` columns and returns relevance scores."""

    def load_context(self, context):
        from synthir.training.rerankers import Reranker

        self.reranker = Reranker(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        return self.reranker.score(list(model_input["query"]), list(model_input["document"]))


def log_reranker(model_dir: str | Path) -> str:
    """Log a trained reranker into the active MLflow run; returns its model URI."""
    import sentence_transformers
    import transformers

    info = mlflow.pyfunc.log_model(
        name="reranker", python_model=RerankerPyfunc(), artifacts={"model": str(model_dir)},
        pip_requirements=[f"sentence-transformers=={sentence_transformers.__version__}",
                          f"transformers=={transformers.__version__}", "synthir"],
    )
    return info.model_uri


def register_version(model_uri: str, name: str, tags: dict[str, Any], client: mlflow.MlflowClient | None = None) -> str:
    client = client or mlflow.MlflowClient()
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        client.create_registered_model(name, description="Rerankers trained on synthetic queries (synthir)")
    version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
    return str(version.version)


def production_version(name: str, client: mlflow.MlflowClient | None = None):
    client = client or mlflow.MlflowClient()
    try:
        return client.get_model_version_by_alias(name, PRODUCTION)
    except mlflow.exceptions.MlflowException:
        return None


@dataclass
class PromotionDecision:
    promoted: bool
    reason: str
    metric: str
    candidate: float
    production: float | None
    bm25: float
    margin: float
    previous_production: str | None


def decide(metric: str, candidate: float, bm25: float, production: float | None, margin: float,
           previous_production: str | None = None) -> PromotionDecision:
    """Promote only when the candidate beats BM25 and the current production model by ``margin``."""
    if candidate < bm25 + margin:
        reason = f"{metric} {candidate:.4f} does not beat BM25 {bm25:.4f} by {margin}"
        promoted = False
    elif production is not None and candidate < production + margin:
        reason = f"{metric} {candidate:.4f} does not beat production {production:.4f} by {margin}"
        promoted = False
    else:
        reason = f"{metric} {candidate:.4f} beats BM25 {bm25:.4f}" + (
            f" and production {production:.4f}" if production is not None else " (no production version yet)") + f" by >= {margin}"
        promoted = True
    return PromotionDecision(promoted, reason, metric, candidate, production, bm25, margin, previous_production)


def apply_decision(name: str, version: str, decision: PromotionDecision, client: mlflow.MlflowClient | None = None) -> None:
    """Record the decision and its figures on the version; move the alias when promoted."""
    client = client or mlflow.MlflowClient()
    tags = {"promotion.decision": "promoted" if decision.promoted else "refused", "promotion.reason": decision.reason,
            "promotion.metric": decision.metric, "promotion.candidate": f"{decision.candidate:.6f}",
            "promotion.bm25": f"{decision.bm25:.6f}", "promotion.margin": str(decision.margin),
            "promotion.production": "" if decision.production is None else f"{decision.production:.6f}",
            "promotion.time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    if decision.promoted:
        promote(name, version, reason=decision.reason, client=client)


def promote(name: str, version: str, reason: str = "by hand", client: mlflow.MlflowClient | None = None) -> str | None:
    """Point ``production`` at ``version``; remembers the previous one for rollback."""
    client = client or mlflow.MlflowClient()
    client.get_model_version(name, version)  # fails clearly on an unknown version
    previous = production_version(name, client)
    previous_version = str(previous.version) if previous else None
    if previous_version == str(version):
        return previous_version
    client.set_model_version_tag(name, version, "previous_production", previous_version or "")
    client.set_model_version_tag(name, version, "promoted_reason", reason)
    client.set_registered_model_alias(name, PRODUCTION, version)
    return previous_version


def rollback(name: str, client: mlflow.MlflowClient | None = None) -> str:
    """Point ``production`` back at the version it replaced."""
    client = client or mlflow.MlflowClient()
    current = production_version(name, client)
    if current is None:
        raise RuntimeError(f"{name} has no {PRODUCTION} alias to roll back")
    previous = current.tags.get("previous_production")
    if not previous:
        raise RuntimeError(f"{name} v{current.version} was the first production version; nothing to roll back to")
    client.set_registered_model_alias(name, PRODUCTION, previous)
    client.set_model_version_tag(name, current.version, "rolled_back", time.strftime("%Y-%m-%dT%H:%M:%S"))
    return previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["show", "promote", "rollback"])
    parser.add_argument("--name", default=DEFAULT_NAME)
    parser.add_argument("--version")
    parser.add_argument("--reason", default="by hand")
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"))
    args = parser.parse_args()
    if args.tracking_uri:
        mlflow.set_tracking_uri(args.tracking_uri)
    client = mlflow.MlflowClient()
    if args.action == "promote":
        if not args.version:
            parser.error("promote needs --version")
        previous = promote(args.name, args.version, reason=args.reason, client=client)
        print(f"{args.name}@{PRODUCTION} -> v{args.version} (was {previous or 'unset'})")
    elif args.action == "rollback":
        print(f"{args.name}@{PRODUCTION} -> v{rollback(args.name, client)}")
    current = production_version(args.name, client)
    rows = [{"version": str(v.version), "production": current is not None and str(v.version) == str(current.version),
             **{k: v.tags.get(k, "") for k in ("promotion.decision", "promotion.candidate", "corpus_fingerprint", "prompt_id")}}
            for v in client.search_model_versions(f"name='{args.name}'")]
    print(json.dumps(sorted(rows, key=lambda r: int(r["version"])), indent=2))


if __name__ == "__main__":
    main()
