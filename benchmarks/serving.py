"""The cost of the serving path: ``mlflow models serve`` over HTTP against in-process ``predict``.

    python benchmarks/serving.py [--requests 50] [--model package:all-minilm-l6-v2]

A reranker (all-MiniLM-L6-v2 with synthir's marker, i.e. what the pipeline registers) is logged and
promoted in a throw-away MLflow store and served on a loopback port (``--env-manager local``, one
worker). Requests of 1 and 32 (query, document) pairs, documents drawn from the demo corpus, are sent
one after another; printed: requests/s, pairs/s and latency percentiles, each against in-process
``mlflow.pyfunc`` scoring of the same batches (the ratio is what HTTP, JSON and the server cost).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd

from synthir import registry
from synthir.data import load_collection
from synthir.models import resolve_model, write_reranker_marker
from synthir.serving import ModelServer
from synthir.tracking import ensure_experiment

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50, help="requests per batch size")
    parser.add_argument("--model", default="package:all-minilm-l6-v2")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="serving-bench-") as scratch:  # removed however the run ends
        measure(args, Path(scratch))


def measure(args: argparse.Namespace, work: Path) -> None:
    """Registers the model in a store in ``work``, serves it, times both paths; prints the table."""
    uri = f"sqlite:///{work / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=ensure_experiment("serving", uri))  # artifacts beside the store
    folder = work / "model"
    shutil.copytree(resolve_model(args.model), folder)
    write_reranker_marker(folder, "bi-encoder", 256)
    with mlflow.start_run():
        model_uri = registry.log_reranker(folder)
    registry.promote(registry.DEFAULT_NAME, registry.register_version(model_uri, registry.DEFAULT_NAME, {}))
    production = f"models:/{registry.DEFAULT_NAME}@production"

    documents = [d.contents for d in load_collection(ROOT / "data" / "demo").corpus]
    batches = {size: [pd.DataFrame({"query": ["how is renewable energy stored"] * size,
                                    "document": [documents[(i * size + j) % len(documents)] for j in range(size)]})
                      for i in range(args.requests)] for size in (1, 32)}
    in_process = mlflow.pyfunc.load_model(production)
    started = time.perf_counter()
    server = ModelServer(production)
    print(f"server up in {time.perf_counter() - started:.1f} s (model loaded, /ping answered)")
    rows = []
    try:
        for size, frames in batches.items():
            for label, call in (("in-process", lambda f: in_process.predict(f)),
                                ("HTTP", lambda f: server.invoke({"dataframe_split": f.to_dict(orient="split")}))):
                call(frames[0])  # warm-up
                latencies = []
                for frame in frames:
                    tick = time.perf_counter()
                    call(frame)
                    latencies.append(time.perf_counter() - tick)
                total = sum(latencies)
                rows.append((size, label, len(frames) / total, len(frames) * size / total,
                             1000 * statistics.median(latencies), 1000 * percentile(latencies, 0.95)))
    finally:
        server.close()
    print(f"\n{args.model} on {os.cpu_count()} cores, {args.requests} sequential requests per batch size\n")
    print("| batch | path | requests/s | pairs/s | p50 ms | p95 ms | HTTP / in-process time |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size, label, rps, pps, p50, p95 in rows:
        base = next(r for r in rows if r[0] == size and r[1] == "in-process")
        ratio = base[2] / rps
        print(f"| {size} | {label} | {rps:.1f} | {pps:.0f} | {p50:.1f} | {p95:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
