"""What each step of the InPars pipeline costs: wall time per step of a run, with the throughput
that scales (documents generated/s, queries checked/s, training pairs/s, queries reranked/s), and the
same throughput extrapolated to a collection of ``--scale`` documents on this hardware.

    python benchmarks/pipeline_step_costs.py                   # runs configs/inpars/quickstart.yaml (cache off) first
    python benchmarks/pipeline_step_costs.py --run <run id>    # reads an existing inpars_pipeline run

Extrapolation is linear in documents (generation, checks, filters) or training pairs; it is a
planning figure for this machine, not a prediction for a GPU cluster.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", default="", help="an inpars_pipeline run id or name (default: run the quickstart now)")
    parser.add_argument("--config", default=str(ROOT / "configs" / "inpars" / "quickstart.yaml"))
    parser.add_argument("--scale", type=int, default=100_000, help="documents to extrapolate to")
    args = parser.parse_args()
    from zenml.client import Client

    if not args.run:  # a fresh run, every step executed (a cached step would show no cost)
        import tempfile

        import yaml

        config = yaml.safe_load(Path(args.config).read_text())
        config["enable_cache"] = False
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
            yaml.safe_dump(config, handle)
        subprocess.run([str(Path(sys.executable).parent / "zenml"), "pipeline", "run", "pipelines.inpars.inpars_pipeline",
                        "-c", handle.name], cwd=ROOT, check=True)
        run = Client().get_pipeline("inpars_pipeline").last_run
    else:
        run = Client().get_pipeline_run(args.run)
    synthetic = run.steps["generate_synthetic_queries"].outputs["synthetic_queries"][0].load()
    documents = len({q.doc_id for q in synthetic})
    total = 0.0
    print(f"Run {run.name} ({run.id}); {documents} documents, {len(synthetic)} queries\n")
    print(f"| step | seconds | share | per second | est. seconds for {args.scale:,} documents |")
    print("|---|---|---|---|---|")
    rows = []
    for name, step in run.steps.items():
        if step.start_time is None or step.end_time is None:
            continue
        seconds = (step.end_time - step.start_time).total_seconds()
        total += seconds
        # steps whose work grows with the documents (triples and training follow the kept queries);
        # the rest (loading, evaluation on the judged queries, registration) do not
        scales = name.startswith(("generate_synthetic_queries", "merge_synthetic_queries")) or name in (
            "check_synthetic_queries", "filter_synthetic_queries", "build_training_triples", "train_reranker_model")
        unit, count = ("docs", documents) if scales else (None, None)
        rows.append((name, seconds, unit, count, step.status))
    for name, seconds, unit, count, status in rows:
        cached = " (cached)" if str(status).lower().endswith("cached") else ""
        rate = f"{count / seconds:.1f} {unit}/s" if unit and seconds > 0 else "-"
        scaled = f"{seconds * args.scale / count:,.0f}" if unit and count else f"{seconds:,.0f} (fixed)"
        print(f"| {name}{cached} | {seconds:.1f} | {seconds / total:.0%} | {rate} | {scaled} |")
    print(f"| total | {total:.1f} | 100% | | |")


if __name__ == "__main__":
    main()
