"""MLflow model registry for rerankers and query generators: logging, versions with lineage, aliases,
by-hand promotion and rollback (the gate's decisions and its registration transaction are
``synthir.lifecycle.gate``). MLflow 3 promotes by **alias** (``production``), not stages.

    python -m synthir.registry show     --name inpars-reranker    (or --name inpars-generator)
    python -m synthir.registry promote  --name inpars-reranker --version 3 [--reason "..."]
    python -m synthir.registry rollback --name inpars-reranker

The store is ``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else the active ZenML stack's tracker,
else the project's local store (``mlruns/mlflow.db``); with none of them the command says so and
exits 1 instead of answering from an empty new store. Errors (an unknown version or model) are one
line, without a traceback. ``synthir registry ...`` is the same command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import mlflow
import mlflow.pyfunc

from synthir.model_flavors import RerankerFlavor, RerankerPyfunc  # noqa: F401  (RerankerPyfunc: older pickles name it here)

# An orchestrator's mirror of the production alias (ZenML's model view: synthir.orchestration.zenml_models.mirror_production),
# called as on_promoted(name, version) after the alias moved; the library itself knows no orchestrator.
PromotionHook = Callable[[str, str], Any]

PRODUCTION = "production"
DEFAULT_NAME = "inpars-reranker"
GENERATOR_NAME = "inpars-generator"
DESCRIPTIONS = {DEFAULT_NAME: "Rerankers trained on synthetic queries (synthir)",
                GENERATOR_NAME: "Query generators preference-tuned with CPO (synthir)"}


class GeneratorPyfunc(mlflow.pyfunc.PythonModel):
    """``predict`` takes a frame with a ``document`` column and returns one generated query per row,
    prompted as the generator was tuned: its marker's template, number of examples and document length."""

    def load_context(self, context):
        from synthir.generation.backends.local import TransformersGenerator
        from synthir.generation.prompts import load_prompt
        from synthir.models import generator_folder, generator_prompt_source, read_generator_marker

        folder = generator_folder(Path(context.artifacts["model"]))
        marker = read_generator_marker(folder)
        prompt = generator_prompt_source(folder) or (marker.get("prompt_id") or "inpars@v1").split("@")[0]
        self.template = load_prompt(str(prompt), num_examples=int(marker.get("num_examples", 2)))
        self.max_doc_tokens = int(marker.get("max_doc_tokens", 256))
        self.generator = TransformersGenerator(str(folder))

    def predict(self, context, model_input, params=None):
        from synthir.generation.backends.base import DecodingParams

        params = DecodingParams(max_new_tokens=int((params or {}).get("max_new_tokens", 48)), stop=self.template.stop)
        targets = [self.template.target(self.generator.truncate(text, self.max_doc_tokens)) for text in model_input["document"]]
        outputs = self.generator.generate(self.template.prefix(), targets, params)
        return [self.template.parse(out[0].text)[0] for out in outputs]


def log_generator(model_dir: str | Path) -> str:
    """Log a tuned generator (merged weights or adapter) into the active MLflow run; returns its model URI."""
    import peft
    import transformers
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    signature = ModelSignature(inputs=Schema([ColSpec("string", "document")]), outputs=Schema([ColSpec("string")]),
                               params=ParamSchema([ParamSpec("max_new_tokens", "long", 48)]))
    info = mlflow.pyfunc.log_model(
        name="generator", python_model=GeneratorPyfunc(), artifacts={"model": str(model_dir)}, signature=signature,
        pip_requirements=[f"transformers=={transformers.__version__}", f"peft=={peft.__version__}", "synthir"],
    )
    return info.model_uri


def log_reranker(model_dir: str | Path, card: dict[str, Any] | None = None, passages: Any = "defaults") -> str:
    """Log a trained reranker into the active MLflow run, the scoring pyfunc beside its native flavor
    (``synthir.model_flavors``), with ``card`` (lineage and figures) as its model card; returns its model URI.
    ``passages``: how its training corpus cut documents (``Corpus.passage_config``; None: not at all),
    which the served model repeats; ``"defaults"``: the default ``PassageConfig``."""
    import sentence_transformers
    import transformers
    from mlflow.models import Model

    from synthir.models import read_reranker_marker

    marker = read_reranker_marker(Path(model_dir))
    info = Model.log(
        artifact_path=None, name="reranker", flavor=RerankerFlavor, model_dir=str(model_dir),
        card={k: str(v) for k, v in (card or {}).items()},
        reranker_type=marker.model_type if marker else "bi-encoder",  # not model_type: Model.log takes that name
        pip_requirements=[f"sentence-transformers=={sentence_transformers.__version__}",
                          f"transformers=={transformers.__version__}", "synthir"],
        model_config=None if passages == "defaults" else {"passages": passages},
    )
    return info.model_uri


def register_version(model_uri: str, name: str, tags: dict[str, Any], client: mlflow.MlflowClient | None = None) -> str:
    client = client or mlflow.MlflowClient()
    try:
        client.get_registered_model(name)
    except mlflow.exceptions.MlflowException:
        try:
            client.create_registered_model(name, description=DESCRIPTIONS.get(name, "synthir model"))
        except mlflow.exceptions.MlflowException:  # a concurrent run created it meanwhile
            client.get_registered_model(name)
    version = mlflow.register_model(model_uri, name, tags={k: str(v) for k, v in tags.items()})
    return str(version.version)


# A version's registration state (tag ``registration``): ``pending`` from the moment it exists, with the
# gate's decision stored beside it (``registration.decision``), until that decision is applied; then
# ``complete``. A run killed in between leaves everything the next run needs to finish the job.


def fusion_weight_of(version) -> float | None:
    """The BM25 fusion weight a reranker version was evaluated (and gated) with; None: reranker scores alone."""
    tag = version.tags.get("fusion_weight")
    return None if tag in (None, "", "None") else float(tag)


def production_version(name: str, client: mlflow.MlflowClient | None = None):
    client = client or mlflow.MlflowClient()
    try:
        return client.get_model_version_by_alias(name, PRODUCTION)
    except mlflow.exceptions.MlflowException:
        return None


# Versions cross this module's boundary as strings only: MLflow hands them back as int (aliases) or str
# (registered versions) depending on the call, and an int never equals a str in a comparison.
def production_version_id(name: str, client: mlflow.MlflowClient | None = None) -> str | None:
    """The version ``production`` points at, as a string; None when the alias is unset."""
    current = production_version(name, client)
    return None if current is None else str(current.version)


def alias_versions(name: str, client: mlflow.MlflowClient | None = None) -> dict[str, str]:
    """Every alias of ``name`` and the version it points at, as strings."""
    client = client or mlflow.MlflowClient()
    return {alias: str(version) for alias, version in client.get_registered_model(name).aliases.items()}


def find_version(name: str, tags: dict[str, str | None], client: mlflow.MlflowClient | None = None):
    """The newest version of ``name`` carrying every tag in ``tags`` with that value; None when none
    does, when a wanted value is empty, or when there is no such model yet."""
    matching = versions_tagged(name, tags, client)
    return matching[-1] if matching else None


def versions_tagged(name: str, tags: dict[str, str | None], client: mlflow.MlflowClient | None = None) -> list:
    """The versions of ``name`` carrying every tag in ``tags`` with that value, oldest first; none when a
    wanted value is empty or there is no such model yet."""
    if not all(tags.values()):
        return []
    client = client or mlflow.MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{name}'")
    except mlflow.exceptions.MlflowException:
        return []
    return sorted((v for v in versions if all(v.tags.get(tag) == value for tag, value in tags.items())),
                  key=lambda v: int(v.version))


def apply_decision(name: str, version: str, decision: Any, client: mlflow.MlflowClient | None = None,
                   on_promoted: PromotionHook | None = None) -> None:
    """Record the decision (a ``synthir.lifecycle.gate.PromotionDecision``) and its figures on the
    version; move the alias when promoted."""
    client = client or mlflow.MlflowClient()
    version = str(version)
    tags = {"promotion.decision": "promoted" if decision.promoted else "refused", "promotion.reason": decision.reason,
            "promotion.metric": decision.metric, "promotion.candidate": f"{decision.candidate:.6f}",
            "promotion.baseline": f"{decision.baseline:.6f}", "promotion.baseline_name": decision.baseline_name,
            "promotion.margin": str(decision.margin),
            "promotion.production": "" if decision.production is None else f"{decision.production:.6f}",
            "promotion.time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            **{f"promotion.{k}": f"{v:.6f}" for k, v in decision.guards.items()},
            **{f"promotion.{k}": f"{v:.6f}" for k, v in decision.baselines.items()},
            **{f"promotion.p_value.{k}": f"{v:.6g}" for k, v in decision.p_values.items()},
            **{f"promotion.{k}": str(getattr(decision, k)) for k in ("source", "eval_queries", "judgments", "alpha")
               if getattr(decision, k) is not None},
            **({"promotion.gate_weakened": "; ".join(decision.weakened)} if decision.weakened else {})}
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    if decision.promoted:
        promote(name, version, reason=decision.reason, client=client, on_promoted=on_promoted)


def promote(name: str, version: str, reason: str = "by hand", client: mlflow.MlflowClient | None = None,
            on_promoted: PromotionHook | None = None) -> str | None:
    """Point ``production`` at ``version``; remembers the previous one for rollback. ``on_promoted``:
    the orchestrator's mirror (ZenML's model stage, ``synthir.orchestration.zenml_models.mirror_production``)."""
    client = client or mlflow.MlflowClient()
    version = str(version)
    client.get_model_version(name, version)  # fails clearly on an unknown version
    previous_version = production_version_id(name, client)
    if previous_version != version:
        client.set_model_version_tag(name, version, "previous_production", previous_version or "")
        client.set_model_version_tag(name, version, "promoted_reason", reason)
        client.set_registered_model_alias(name, PRODUCTION, version)
    if on_promoted is not None:
        on_promoted(name, version)
    return previous_version


def rollback(name: str, client: mlflow.MlflowClient | None = None, on_promoted: PromotionHook | None = None) -> str:
    """Point ``production`` back at the version it replaced (then ``on_promoted``, as ``promote``)."""
    client = client or mlflow.MlflowClient()
    current = production_version(name, client)
    if current is None:
        raise RuntimeError(f"{name} has no {PRODUCTION} alias to roll back")
    previous = current.tags.get("previous_production")
    if not previous:
        raise RuntimeError(f"{name} v{current.version} was the first production version; nothing to roll back to")
    client.set_registered_model_alias(name, PRODUCTION, previous)
    client.set_model_version_tag(name, str(current.version), "rolled_back", time.strftime("%Y-%m-%dT%H:%M:%S"))
    if on_promoted is not None:
        on_promoted(name, str(previous))
    return str(previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["show", "promote", "rollback"])
    parser.add_argument("--name", default=DEFAULT_NAME)
    parser.add_argument("--version")
    parser.add_argument("--reason", default="by hand")
    parser.add_argument("--tracking-uri", help="default: MLFLOW_TRACKING_URI, the active stack's tracker, the project's store")
    args = parser.parse_args(argv)
    if args.action == "promote" and not args.version:
        parser.error("promote needs --version")
    from synthir.orchestration.zenml_models import mirror_production  # the command line mirrors into ZenML's model view
    from synthir.tracking import find_tracking_uri

    try:
        uri = find_tracking_uri(args.tracking_uri)
        client = mlflow.MlflowClient()
        client.get_registered_model(args.name)
        if args.action == "promote":
            previous = promote(args.name, args.version, reason=args.reason, client=client, on_promoted=mirror_production)
            print(f"{args.name}@{PRODUCTION} -> v{args.version} (was {previous or 'unset'})")
        elif args.action == "rollback":
            print(f"{args.name}@{PRODUCTION} -> v{rollback(args.name, client, on_promoted=mirror_production)}")
        current = production_version_id(args.name, client)
        rows = [{"version": str(v.version), "production": str(v.version) == current,
                 **{k: v.tags.get(k, "") for k in ("promotion.decision", "promotion.candidate", "corpus_fingerprint",
                                                   "prompt_id", "copy_rate")}}
                for v in client.search_model_versions(f"name='{args.name}'")]
    except (RuntimeError, mlflow.exceptions.MlflowException) as err:  # the cause, not MLflow's traceback
        message = (getattr(err, "message", None) or str(err)).splitlines()[0]
        if "database is locked" in message:
            message += (f" (another process is writing to the MLflow store {mlflow.get_tracking_uri()}; nothing was "
                        "changed: run the command again when it has finished)")
        print(f"synthir registry: {message}", file=sys.stderr)
        return 1
    print(f"# {args.name} in {uri}")
    print(json.dumps(sorted(rows, key=lambda r: int(r["version"])), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
