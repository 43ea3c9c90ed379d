"""The InPars flow at 10k, 100k and 1M passages on one machine: wall time per stage, throughput and
peak memory, with a loopback stand-in for a served generator (``tests/fixtures/stand_in_generator.py``:
instant queries made of the document's words), so everything but the models' own inference is measured.

    python benchmarks/scale.py [--passages 10000 100000 1000000] [--work DIR]
        [--recipe benchmarks/recipes/scale.yaml] [--set max_generations=500 ...]

Each size runs in a fresh process (its own peak resident memory), through the product's flow
(``synthir.flow.inpars.run_inpars``): loading a parquet corpus, boilerplate, duplicates (1% exact
copies are planted) and passages (a tenth of the documents are long), the held-out split, generation
(the recipe's ``max_generations`` documents), checks and filters, triples (a BM25 index of the training
passages), the teacher and training (``training.max_steps``; the teacher's pool bounded to BM25's top 20 per
query by ``training.teacher_depth``), and the label-free evaluation
(``evaluation.synthetic.held_out_documents``, a BM25 index of every passage). The recipe
(``recipes/scale.yaml``) is an ``inpars:`` block in the product's typed schema; ``--set`` overrides one key.
Printed: seconds per stage and passages per second, and the peak resident memory, with its growth per
million passages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from commands.main import add_recipe_arguments, inpars_recipe

ROOT = Path(__file__).resolve().parents[1]
RECIPE = Path(__file__).resolve().parent / "recipes" / "scale.yaml"


def write_corpus(path: Path, passages: int, seed: int = 0) -> int:
    """A parquet corpus of about ``passages`` passages: Zipf-distributed words, nine short documents
    (60-150 words) for each long one (600-1,500 words, split into several passages), 1% exact copies.
    Returns the number of documents."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"w{i:x}" for i in range(50_000)])
    documents = int(passages / 1.35)  # a long document makes about 4.5 passages
    ids, texts = [], []
    batch = 100_000
    writer = None
    for start in range(0, documents, batch):
        count = min(batch, documents - start)
        long = rng.random(count) < 0.1
        lengths = np.where(long, rng.integers(600, 1500, count), rng.integers(60, 150, count))
        words = vocabulary[np.minimum(rng.zipf(1.3, int(lengths.sum())) - 1, len(vocabulary) - 1)]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        ids = [f"doc{start + i}" for i in range(count)]
        texts = [" ".join(words[offsets[i]:offsets[i + 1]]) for i in range(count)]
        for i in range(0, count, 100):  # 1% exact copies of the document before
            if i:
                texts[i] = texts[i - 1]
        table = pa.table({"doc_id": ids, "title": [""] * count, "text": texts})
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    return documents


def one_size(passages: int, recipe: str, assignments: list[str], work: Path) -> dict:
    """The flow on a corpus of about ``passages`` passages, in this process; its figures."""
    import mlflow

    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.stand_in_generator import StandInGenerator

    from synthir.flow.inpars import peak_rss_gb, run_inpars
    from synthir.tracking import run_of_its_own

    corpus = work / f"corpus-{passages}.parquet"
    started = time.perf_counter()
    documents = write_corpus(corpus, passages)
    written = time.perf_counter() - started
    mlflow.set_tracking_uri(f"sqlite:///{work / f'mlflow-{passages}.db'}")
    os.environ["SYNTHIR_CACHE_DIR"] = str(work / f"cache-{passages}")  # every BM25 index built cold, once
    with StandInGenerator() as url:
        config = inpars_recipe(recipe, [*assignments, f"generator.base_url={url}",
                                        f"evaluation.synthetic.generator.base_url={url}"])
        started = time.perf_counter()
        with run_of_its_own(f"scale {passages}", experiment="synthir-benchmarks"):  # artifacts beside its store
            result = run_inpars(str(corpus), config)
        total = time.perf_counter() - started
    return {"passages": len(result.corpus), "documents": documents, "seconds": result.seconds, "total": total,
            "corpus_written_s": written, "data": result.data["documents"],
            "peak_rss_gb": peak_rss_gb(),
            "stage_peak_rss_gb": result.peak_rss_gb,
            "eval_queries": result.comparison.eval_queries, "triples": len(result.triples)}


def peak_stage(row: dict) -> str:
    """The stage at whose end the process's peak resident memory was first reached."""
    peaks = row["stage_peak_rss_gb"]
    return next((stage for stage, peak in peaks.items() if peak >= max(peaks.values()) - 1e-3), "")


def planned_peak(rows: list[dict], passages: int = 10_000_000) -> tuple[str, float, float]:
    """The peak resident memory to plan for at ``passages``: the peak up to the end of each stage,
    extrapolated linearly from the first size to the last, and the largest of them (a stage whose peak
    is small but grows fast, such as loading, sets the plan at a larger size). Returns that stage, its
    growth in GB per million passages, and the planned GB."""
    first, last = rows[0], rows[-1]
    span = (last["passages"] - first["passages"]) / 1e6
    plans = []
    for stage, peak in last["stage_peak_rss_gb"].items():
        start = first["stage_peak_rss_gb"].get(stage, peak)
        growth = (peak - start) / span
        plans.append((start + growth * (passages - first["passages"]) / 1e6, stage, growth))
    planned, stage, growth = max(plans)
    return stage, growth, planned


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--work", help="folder for the corpora and MLflow stores (default: a temp folder)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child: one size, JSON out
    add_recipe_arguments(parser, RECIPE)
    args = parser.parse_args(argv)
    inpars_recipe(args.recipe, args.assignments)  # a mistake in the recipe ends here, not in a child
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.one:
            figures = one_size(args.passages[0], args.recipe, args.assignments, work)
            print("SCALE " + json.dumps(figures))
            return
        rows = []
        for size in args.passages:
            child = subprocess.run([sys.executable, __file__, "--one", "--passages", str(size), "--work", str(work),
                                    "--recipe", args.recipe, *(f"--set={a}" for a in args.assignments)],
                                   capture_output=True, text=True,
                                   env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")})
            line = next((x for x in child.stdout.splitlines() if x.startswith("SCALE ")), None)
            if line is None:
                print(child.stdout[-3000:], child.stderr[-5000:], sep="\n")
                raise SystemExit(f"the run at {size} passages failed (exit {child.returncode})")
            rows.append(json.loads(line.removeprefix("SCALE ")))
            print(f"{size:,} passages: done in {rows[-1]['total']:.0f} s", flush=True)
    stages = list(rows[0]["seconds"])
    print("\n| stage | " + " | ".join(f"{r['passages']:,} passages: s (passages/s)" for r in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for stage in [*stages, "total"]:
        cells = []
        for r in rows:
            seconds = r["total"] if stage == "total" else r["seconds"].get(stage, 0.0)
            cells.append(f"{seconds:.1f} ({r['passages'] / max(seconds, 1e-9):,.0f})")
        print(f"| {stage} | " + " | ".join(cells) + " |")
    print("| peak resident memory, GB | " + " | ".join(f"{r['peak_rss_gb']:.2f}" for r in rows) + " |")
    print("| ... reached in stage | " + " | ".join(peak_stage(r) for r in rows) + " |")
    print("| peak resident memory at the end of each stage, GB | " + " | ".join(
        ", ".join(f"{stage} {peak:.2f}" for stage, peak in r["stage_peak_rss_gb"].items()) for r in rows) + " |")
    for key in ("documents_read", "exact_duplicates", "near_duplicates", "split_documents"):
        print(f"| {key} | " + " | ".join(f"{r['data'].get(key, 0):,}" for r in rows) + " |")
    print("| triples / evaluation queries | " + " | ".join(f"{r['triples']} / {r['eval_queries']}" for r in rows) + " |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        growth = (last["peak_rss_gb"] - first["peak_rss_gb"]) / ((last["passages"] - first["passages"]) / 1e6)
        if growth > 0.05:
            stage, stage_growth, planned = planned_peak(rows)
            print(f"\nPeak memory grows {growth:.2f} GB per million passages ({first['peak_rss_gb']:.2f} GB at "
                  f"{first['passages']:,}); planned for 10M passages: {planned:.1f} GB, set by the peak up to the end "
                  f"of {stage} ({stage_growth:.2f} GB per million).")
        else:  # the peak is the models' and the JVM's fixed cost at these sizes, not the data's
            print(f"\nPeak memory does not grow measurably between {first['passages']:,} and {last['passages']:,} "
                  f"passages ({first['peak_rss_gb']:.2f} and {last['peak_rss_gb']:.2f} GB): the peak is fixed cost "
                  "(models, JVM) at these sizes; measure a larger size for the growth per million.")


if __name__ == "__main__":
    main()
