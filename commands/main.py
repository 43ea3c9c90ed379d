"""``synthir``: run a pipeline from its config folder plus a stack overlay, and the model tools.

    synthir run inpars quickstart                      # configs/inpars/quickstart.yaml
    synthir run inpars inpars_v2_vllm --stack k8s_gpu  # + configs/stacks/k8s_gpu.yaml
    synthir run training path/to/my.yaml               # any config file
    synthir run inpars own_documents --collection ~/docs   # a folder of documents, no labels
    synthir check inpars quickstart [--stack k8s_gpu]  # validate only: no run
    synthir configs                                    # the pipelines and their presets
    synthir registry show --name inpars-reranker       # = python -m synthir.registry
    synthir rerank --run bm25.run --queries q.jsonl --corpus c.jsonl --output reranked.run
    synthir eval -m ndcg_cut.10 qrels.txt run.txt      # pyserini's trec_eval, JVM bootstrapped
    synthir serve --port 5001                          # the production reranker over HTTP (mlflow models serve)
    synthir export triples --to out/triples            # a Hugging Face dataset (anchor, positive, negative)
    synthir import gpl-out/ --collection ~/docs        # GPL qgen / InPars / saved dataset -> an artifact

A run's config is the preset with the overlay merged over it (mappings merged key by key, the
overlay's values winning; a mapping naming another ``backend:`` replaces the block); it is validated
against the pipeline's typed parameters before ZenML starts, so a mistake ends the command with one
line naming the key. ``zenml pipeline run pipelines.<module>.<pipeline> -c <file>`` keeps working
for any single file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from synthir.config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = PROJECT_ROOT / "configs"
STACKS = CONFIGS / "stacks"
# the key naming a union block's member (``synthir.config.UnionMember``) where blocks are merged as mappings
UNION_TAG = "backend"
# the config folders (configs/<folder>/), one per pipeline of pipelines.catalog (a test keeps them equal);
# written here so that `synthir --help`, `rerank` and `eval` start without importing ZenML
PIPELINE_FOLDERS = ("inpars", "retraining", "generation", "optimise_prompt", "validation", "training", "evaluation",
                    "cpo")


def pipeline_of(folder: str):
    """The pipeline whose configs live in ``configs/<folder>/``."""
    from pipelines.catalog import PIPELINES

    return PIPELINES[folder]


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``: mappings merged key by key, anything else replaced. A mapping that
    names another member of a union block (another ``backend:``) replaces the block: the other
    member's keys would not fit it (a local generator's ``batch_size`` under a served one)."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        both = isinstance(value, dict) and isinstance(current, dict)
        switches = both and UNION_TAG in value and value[UNION_TAG] != current.get(UNION_TAG)
        merged[key] = merge(current, value) if both and not switches else value
    return merged


def assignments_overlay(assignments: list[str]) -> dict[str, Any]:
    """``["training.max_steps=2", "filters=[]"]`` as a nested overlay for ``merge`` (each value read as YAML)."""
    overlay: dict[str, Any] = {}
    for assignment in assignments:
        key, sep, value = assignment.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--set {assignment!r}: expected KEY=VALUE with a dotted key, e.g. training.max_steps=2")
        *parents, leaf = key.strip().split(".")
        node = overlay
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = yaml.safe_load(value)
    return overlay


def add_recipe_arguments(parser: argparse.ArgumentParser, default: Path, block: str = "inpars") -> None:
    """A benchmark's ``--recipe FILE`` (default ``default``) and repeatable ``--set KEY=VALUE``."""
    parser.add_argument("--recipe", default=str(default), help=f"the recipe: a YAML {block} config in the product's "
                                                               "typed schema")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help=f"override one key of the recipe's {block} config (a YAML value), e.g. "
                             + ("training.max_steps=2" if block == "inpars" else "cpo.max_steps=2"))


def inpars_recipe(path: str | Path, assignments: list[str] = ()) -> Any:
    """A benchmark's recipe file (its ``inpars:`` block, or an inpars pipeline config's
    ``parameters.inpars``) with ``--set`` overrides, as the typed ``InParsConfig``, checked like a
    pipeline config."""
    from synthir.inpars_config import InParsConfig

    data = load_yaml(Path(path))
    block = data["inpars"] if "inpars" in data else (data.get("parameters") or {}).get("inpars")
    if not isinstance(block, dict):
        raise ConfigError(f"{path}: expected an `inpars:` block (a benchmark recipe) or `parameters.inpars:` "
                          "(an inpars pipeline config)")
    return InParsConfig.from_dict(merge(block, assignments_overlay(list(assignments))))


def pipeline_recipe(pipeline: str, path: str | Path, assignments: list[str] = ()) -> dict[str, Any]:
    """A benchmark's recipe that is a config file of ``pipeline`` (its ``parameters:``), with ``--set``
    overrides on those parameters, validated against the pipeline as a run would be: every parameter's
    typed value, the pipeline's default where the recipe has none."""
    import inspect

    from synthir.preflight import pipeline_parameters, validate_pipeline_parameters

    runnable = pipeline_of(pipeline)
    parameters = merge(load_yaml(Path(path)).get("parameters") or {}, assignments_overlay(list(assignments)))
    defaults = {name: parameter.default for name, parameter in pipeline_parameters(runnable).items()
                if parameter.default is not inspect.Parameter.empty}
    return {**defaults, **validate_pipeline_parameters(runnable, parameters)}


def config_path(pipeline: str, preset: str) -> Path:
    """``preset``: a name in ``configs/<pipeline>/`` or a path to a YAML file."""
    if pipeline not in PIPELINE_FOLDERS:
        raise ConfigError(f"pipeline {pipeline!r}: choose one of {sorted(PIPELINE_FOLDERS)}")
    path = Path(preset)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        return path
    path = CONFIGS / pipeline / f"{preset}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (CONFIGS / pipeline).glob("*.yaml"))
        raise ConfigError(f"{pipeline} has no preset {preset!r}; choose one of {known} or give a .yaml path")
    return path


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: invalid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping (parameters:, settings:, steps:, ...)")
    return data


def compose(pipeline: str, preset: str, stack: str | None, collection: str | None = None) -> dict[str, Any]:
    """The preset merged with the stack overlay (and ``collection`` over the preset's), its
    parameters validated."""
    from synthir.preflight import validate_pipeline_parameters

    config = load_yaml(config_path(pipeline, preset))
    if stack:
        overlay_path = STACKS / f"{stack}.yaml"
        if not overlay_path.is_file():
            known = sorted(p.stem for p in STACKS.glob("*.yaml"))
            raise ConfigError(f"stack overlay {stack!r}: choose one of {known}")
        overlay = load_yaml(overlay_path)
        if "parameters" in overlay:
            raise ConfigError(f"{overlay_path}: a stack overlay holds settings, steps and resources, not parameters")
        config = merge(config, overlay)
    if collection is not None:
        config = merge(config, {"parameters": {"collection": collection}})
    validate_pipeline_parameters(pipeline_of(pipeline), config.get("parameters"))
    spec = (config.get("parameters") or {}).get("collection")
    if spec is not None:  # a missing folder is named here, not by a step after the run has started
        from synthir.data.collections import collection_kind
        from synthir.data.errors import DataFormatError

        try:
            collection_kind(spec)
        except DataFormatError as err:
            raise ConfigError(f"collection: {err}") from None
    return config


class RunFailed(Exception):
    """A pipeline run failed; the message is its root cause in one line."""


def run(pipeline: str, preset: str, stack: str | None, collection: str | None = None) -> None:
    config = compose(pipeline, preset, stack, collection)
    runnable = pipeline_of(pipeline)
    from synthir.tracking import require_writable_store, use_stack_tracking_uri

    try:
        require_writable_store(use_stack_tracking_uri())
    except RuntimeError as err:
        raise RunFailed(str(err)) from None
    with tempfile.TemporaryDirectory() as tmp:
        merged = Path(tmp) / f"{pipeline}-{Path(preset).stem}.yaml"
        merged.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        try:
            runnable.with_options(config_path=str(merged))()
        except ConfigError:
            raise
        except Exception as err:  # ZenML has printed the traceback; end with the cause
            raise RunFailed(root_cause(runnable.name) or f"{type(err).__name__}: {err}") from None
    summary = gate_summary(runnable.name)
    if summary:
        print(summary)


def gate_summary(pipeline_name: str) -> str | None:
    """The last run's reranker gate, for the end of the output: every system on the evaluation
    queries (the untrained model among them) and the decision with its reason."""
    from zenml.client import Client

    from synthir.lifecycle.gate import gate_table

    try:
        steps = Client().get_pipeline(pipeline_name).last_run.steps
        comparison = steps["evaluate_rerankers"].outputs["comparison"][0].load()
        decision = steps["register_reranker"].outputs["promotion"][0].load()
    except (KeyError, IndexError):  # no gate in this pipeline, or it did not get that far
        return None
    return gate_table(comparison, decision)


def root_cause(pipeline_name: str) -> str | None:
    """``step <name>: <the exception's own line>`` for the failed steps of the pipeline's last run."""
    from zenml.client import Client

    try:
        last = Client().get_pipeline(pipeline_name).last_run
    except Exception:  # no run was created (the failure came before)
        return None
    causes = []
    for step_name, step in last.steps.items():
        info = getattr(step, "exception_info", None)
        if str(step.status).lower().endswith("failed") and info is not None:
            lines = [line for line in info.traceback.splitlines() if line.strip()]
            causes.append(f"step {step_name}: {lines[-1].strip() if lines else 'failed'}")
    return "; ".join(causes) or None


def list_configs() -> str:
    from pipelines.catalog import PIPELINES, source

    lines = []
    for folder, pipeline in PIPELINES.items():
        presets = sorted(p.stem for p in (CONFIGS / folder).glob("*.yaml"))
        lines.append(f"{folder:16s} {source(pipeline)}: {', '.join(presets)}")
    lines.append(f"{'stacks':16s} overlays: {', '.join(sorted(p.stem for p in STACKS.glob('*.yaml')))}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("registry", "rerank", "eval", "serve"):  # the module command lines, as they are
        return _delegate(argv[0], argv[1:])
    if argv and argv[0] in ("export", "import"):
        from commands.exchange import main as exchange

        return exchange(argv)
    parser = argparse.ArgumentParser(prog="synthir", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("run", "check"):
        sub = commands.add_parser(command, help=f"{command} a pipeline config (preset name or .yaml path)")
        sub.add_argument("pipeline", choices=sorted(PIPELINE_FOLDERS))
        sub.add_argument("preset", help="a file name in configs/<pipeline>/ (without .yaml) or a path")
        sub.add_argument("--stack", help="a stack overlay in configs/stacks/ (e.g. k8s_gpu)")
        sub.add_argument("--collection", help="the collection, over the preset's: a folder of documents, a corpus "
                                              "file, a BEIR folder or an ir_datasets id")
    commands.add_parser("configs", help="list the pipelines, their presets and the stack overlays")
    for name in ("registry", "rerank", "eval", "serve"):
        commands.add_parser(name, help=f"the {name} command line (see `synthir {name} --help`)")
    commands.add_parser("export", help="queries or triples to a Hugging Face dataset, a qgen folder or a file")
    commands.add_parser("import", help="published synthetic queries (InPars, qgen, a saved dataset) into an artifact")
    args = parser.parse_args(argv)
    try:
        if args.command == "configs":
            print(list_configs())
        elif args.command == "check":
            compose(args.pipeline, args.preset, args.stack, args.collection)
            print(f"{args.pipeline} {args.preset}: valid")
        else:
            run(args.pipeline, args.preset, args.stack, args.collection)
    except ConfigError as err:
        print(f"synthir: {err}", file=sys.stderr)
        return 2
    except RunFailed as err:
        print(f"synthir: run failed: {err}", file=sys.stderr)
        return 1
    return 0


def _delegate(command: str, argv: list[str]) -> int:
    """The library's own command lines, imported only for their command (``rerank`` and ``eval`` start fast)."""
    if command == "registry":
        from synthir.registry import main
    elif command == "rerank":
        from synthir.rerank_run import main
    elif command == "eval":
        from synthir.trec_eval import main
    else:
        from synthir.serving import main
    return main(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
