"""MLflow model registry for rerankers and query generators: logging, versions with lineage, the
promotion gate, by-hand promotion and rollback. MLflow 3 promotes by **alias** (``production``), not stages.

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
from typing import Any, Callable, Optional

import mlflow
import mlflow.pyfunc
from pydantic import BaseModel, Field

from synthir.model_flavors import RerankerFlavor, RerankerPyfunc  # noqa: F401  (RerankerPyfunc: older pickles name it here)

# An orchestrator's mirror of the production alias (ZenML's model view: synthir.zenml_models.mirror_production),
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


def log_reranker(model_dir: str | Path, card: dict[str, Any] | None = None) -> str:
    """Log a trained reranker into the active MLflow run, the scoring pyfunc beside its native flavor
    (``synthir.model_flavors``), with ``card`` (lineage and figures) as its model card; returns its model URI."""
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
PENDING, COMPLETE = "pending", "complete"


def _state(version) -> str | None:
    """``pending``, ``complete``, or None for a version whose decision was never recorded anywhere
    (registered by hand, or cut short before this transaction existed): never counted as identical."""
    state = version.tags.get("registration")
    if state in (PENDING, COMPLETE):
        return state
    return COMPLETE if version.tags.get("promotion.decision") else None


def identical_versions(name: str, identity: dict[str, str | None], client: mlflow.MlflowClient | None = None) -> list:
    """The versions of ``name`` carrying every ``identity`` tag whose registration is complete or
    pending with its decision stored, oldest first (the oldest is the one that counts)."""
    return [v for v in _versions_tagged(name, identity, client) if _state(v)]


def _complete(name: str, version, client: mlflow.MlflowClient, on_registered=None,
              on_promoted: PromotionHook | None = None) -> PromotionDecision:
    """Apply a pending version's stored decision (idempotent: two runs finishing it write the same tags
    and move the alias to the same version) and mark it complete."""
    decision = PromotionDecision.model_validate_json(version.tags["registration.decision"])
    if on_registered is not None:
        on_registered(str(version.version), decision)
    apply_decision(name, str(version.version), decision, client, on_promoted)
    client.set_model_version_tag(name, str(version.version), "registration", COMPLETE)
    return decision


def register_gated(name: str, identity: dict[str, str | None], decision: PromotionDecision, log_model,
                   tags: dict[str, Any], on_registered=None, client: mlflow.MlflowClient | None = None,
                   on_promoted: PromotionHook | None = None) -> tuple[PromotionDecision, bool]:
    """The one registration transaction for rerankers and generators. Returns the decision about the
    version that counts and whether it is a duplicate (nothing new registered).

    1. A version with the same ``identity`` (``config_hash``: same training data and config) is never
       registered twice: the decision names it, and one an interrupted run left pending is completed.
    2. Otherwise ``log_model()`` logs the model (its URI) and the version is registered *pending*, with
       ``tags``, ``identity`` and ``decision`` stored on it.
    3. Check-and-set: of the identical versions now in the store, the oldest counts. A run that lost a
       race to a concurrent identical run deletes its own version and reports the winner's.
    4. ``on_registered(version, decision)`` (the orchestrator's mirror, e.g. ZenML's model view), then
       the decision is applied (tags, the alias when promoted, then ``on_promoted``) and the version
       marked complete."""
    client = client or mlflow.MlflowClient()
    existing = identical_versions(name, identity, client)
    if not existing:
        stored = {**tags, **identity, "registration": PENDING, "registration.decision": decision.model_dump_json()}
        version = register_version(log_model(), name, stored, client)
        existing = identical_versions(name, identity, client)
        if str(existing[0].version) == version:
            _complete(name, client.get_model_version(name, version), client, on_registered, on_promoted)
            return decision.model_copy(update={"version": version}), False
        client.delete_model_version(name, version)  # a concurrent identical run registered first: it completes its own
        counted = existing[0]
        how = f"registered by a concurrent run while this one registered; this run's v{version} was withdrawn"
        recorded = counted.tags.get("promotion.decision") or "being registered by that run"
    else:
        counted, how = existing[0], "same training data and config"
        recorded = counted.tags.get("promotion.decision")
        if _state(counted) == PENDING:  # an interrupted run's: its stored decision is applied now
            recorded = "promoted" if _complete(name, counted, client, on_registered, on_promoted).promoted else "refused"
            how += "; an interrupted run had left its registration incomplete, completed now"
    reason = (f"identical to {name} v{counted.version} ({how}; {'/'.join(f'{k} {v}' for k, v in identity.items())}): not "
              f"registered again; that version was {recorded or 'registered'}. This evaluation: {decision.reason}")
    return decision.model_copy(update={"version": str(counted.version), "promoted": False, "reason": reason}), True


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
    matching = _versions_tagged(name, tags, client)
    return matching[-1] if matching else None


def _versions_tagged(name: str, tags: dict[str, str | None], client: mlflow.MlflowClient | None = None) -> list:
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


class PromotionDecision(BaseModel):
    """A gate's verdict on a candidate, with the figures it compared: the promotion artifact."""

    promoted: bool
    reason: str
    metric: str
    candidate: float
    production: Optional[float] = None
    baseline: float
    margin: float
    previous_production: Optional[str] = None
    baseline_name: str = "BM25"
    guards: dict[str, float] = Field(default_factory=dict, description="extra figures the decision checked (copy rates)")
    version: Optional[str] = Field(None, description="the registered version the decision is about")
    source: Optional[str] = Field(None, description="rerankers: the evaluation's source of truth (judged | golden | synthetic)")
    eval_queries: Optional[int] = Field(None, description="rerankers: evaluation queries behind the figures")
    judgments: Optional[int] = Field(None, description="rerankers: relevance judgments behind the figures")
    baselines: dict[str, float] = Field(default_factory=dict, description="rerankers: each baseline's figure")
    p_values: dict[str, float] = Field(default_factory=dict, description="rerankers: one-sided paired p-value per baseline")
    alpha: Optional[float] = Field(None, description="rerankers: the significance level every p-value must be below")
    weakened: list[str] = Field(default_factory=list, description="rerankers: how the gate was weakened on purpose "
                                                                  "(evaluation.allow_weak_gate); empty: the full gate")
    verdicts: dict[str, bool] = Field(default_factory=dict, description="rerankers: whether the candidate beat each "
                                                                        "baseline by the margin and significantly")


def require_margin(margin: float) -> None:
    if margin < 0:
        raise ValueError(f"promotion_margin {margin} is negative: a model worse than a baseline or production could be "
                         "promoted; use 0 or more")


def decide(metric: str, candidate: float, baseline: float, production: float | None, margin: float,
           previous_production: str | None = None, baseline_name: str = "BM25") -> PromotionDecision:
    """Promote only when the candidate beats the baseline (BM25 for rerankers, the untuned generator
    for generators) and the current production model by ``margin`` (never negative)."""
    require_margin(margin)
    if candidate < baseline + margin:
        reason = f"{metric} {candidate:.4f} does not beat {baseline_name} {baseline:.4f} by {margin}"
        promoted = False
    elif production is not None and candidate < production + margin:
        reason = f"{metric} {candidate:.4f} does not beat production {production:.4f} by {margin}"
        promoted = False
    else:
        reason = f"{metric} {candidate:.4f} beats {baseline_name} {baseline:.4f}" + (
            f" and production {production:.4f}" if production is not None else " (no production version yet)") + f" by >= {margin}"
        promoted = True
    return PromotionDecision(promoted=promoted, reason=reason, metric=metric, candidate=candidate, production=production,
                             baseline=baseline, margin=margin, previous_production=previous_production,
                             baseline_name=baseline_name)


BASELINE_NAMES = {"bm25": "BM25", "untrained": "the untrained base model", "production": "production"}


def decide_reranker(comparison, margin: float, alpha: float = 0.05, min_queries: int = 30,
                    previous_production: str | None = None, allow_weak_gate: bool = False) -> PromotionDecision:
    """Promote a reranker only when, on at least ``min_queries`` evaluation queries, it beats every
    baseline of the comparison (BM25, the untrained base model on the same footing, production) by
    ``margin`` **and** with a one-sided paired p-value below ``alpha``. ``comparison`` is a
    ``synthir.evaluation.comparison.RerankerComparison``. A negative margin is refused; ``alpha`` above
    0.1 or ``min_queries`` below 20 need ``allow_weak_gate``, and the decision then says so."""
    from synthir.judgments.config import gate_weakenings

    require_margin(margin)
    weakened = gate_weakenings(alpha, min_queries)
    if weakened and not allow_weak_gate:
        raise ValueError(f"the gate is weakened ({'; '.join(weakened)}) without evaluation.allow_weak_gate: true")
    failures, passes, verdicts = [], [], {}
    if comparison.eval_queries < min_queries:
        failures.append(f"only {comparison.eval_queries} evaluation queries (min_queries {min_queries})")
    for name, baseline in comparison.baselines.items():
        label = BASELINE_NAMES.get(name, name)
        gain = comparison.candidate - baseline.figure - baseline.shift  # less a known bias for the candidate
        bias = f", {baseline.shift:g} of it taken off as {comparison.source} judgments' bias" if baseline.shift else ""
        line = f"{label} {baseline.figure:.4f} ({comparison.candidate - baseline.figure:+.4f}{bias}, p={baseline.p_value:.3g})"
        verdicts[name] = False
        if gain < margin:
            failures.append(f"does not beat {line} by {margin}")
        elif alpha < 1 and baseline.p_value >= alpha:  # alpha 1: no significance required
            failures.append(f"beats {line} but not significantly (alpha {alpha})")
        else:
            passes.append(line)
            verdicts[name] = True
    metric = f"{comparison.metric} {comparison.candidate:.4f} on {comparison.eval_queries} {comparison.source} queries"
    if failures:
        reason = f"{metric}: " + "; ".join(failures)
    else:
        reason = f"{metric} beats " + ", ".join(passes) + (" (no production version yet)" if comparison.production is None
                                                           else "") + f" by >= {margin} at alpha {alpha}"
    if weakened:
        reason += f" [GATE WEAKENED on purpose (evaluation.allow_weak_gate): {'; '.join(weakened)}]"
    strongest = max((n for n in comparison.baselines if n != "production"), key=lambda n: comparison.baselines[n].figure)
    return PromotionDecision(
        promoted=not failures, reason=reason, metric=comparison.metric, candidate=comparison.candidate,
        production=comparison.production, baseline=comparison.baselines[strongest].figure, margin=margin,
        previous_production=previous_production, baseline_name=BASELINE_NAMES[strongest], source=comparison.source,
        eval_queries=comparison.eval_queries, judgments=comparison.judgments,
        baselines={n: b.figure for n, b in comparison.baselines.items()},
        p_values={n: b.p_value for n, b in comparison.baselines.items()}, alpha=alpha,
        guards={f"{n}_bias": b.shift for n, b in comparison.baselines.items() if b.shift}, weakened=weakened,
        verdicts=verdicts)


def decide_generator(candidate: dict[str, float], base: dict[str, float], production: dict[str, float] | None,
                     margin: float, max_copy_rate_increase: float, metric: str = "query_eval",
                     previous_production: str | None = None) -> PromotionDecision:
    """The reranker's gate on ``metric`` (vs the untuned base generator and production), behind a copy
    guard: refused when the candidate's copy rate exceeds the lowest of the base's and production's
    by more than ``max_copy_rate_increase`` (CPO raised InPars+'s scores partly by copying documents)."""
    reference = min([base["copy_rate"]] + ([production["copy_rate"]] if production else []))
    guards = {"copy_rate": candidate["copy_rate"], "copy_rate_reference": reference,
              "max_copy_rate_increase": max_copy_rate_increase}
    decision = decide(metric, candidate[metric], base[metric], production[metric] if production else None, margin,
                      previous_production, baseline_name="base generator")
    decision.guards = guards
    if candidate["copy_rate"] > reference + max_copy_rate_increase:
        decision.promoted = False
        decision.reason = (f"copy rate {candidate['copy_rate']:.3f} rose beyond {reference:.3f} + {max_copy_rate_increase} "
                           f"(the lower of the base generator's and production's); {metric}: {decision.reason}")
    return decision


def apply_decision(name: str, version: str, decision: PromotionDecision, client: mlflow.MlflowClient | None = None,
                   on_promoted: PromotionHook | None = None) -> None:
    """Record the decision and its figures on the version; move the alias when promoted."""
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
    the orchestrator's mirror (ZenML's model stage, ``synthir.zenml_models.mirror_production``)."""
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
    from synthir.tracking import find_tracking_uri
    from synthir.zenml_models import mirror_production  # the command line mirrors into ZenML's model view

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
