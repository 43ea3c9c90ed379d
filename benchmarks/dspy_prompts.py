"""Self-retrieval of generated queries on CISI with SmolLM2-135M: static template vs DSPy programs.

    python benchmarks/dspy_prompts.py [--documents 40] [--train 8] [--dev 12] [--optimiser bootstrap]

Variants, all on the same held-out documents (disjoint from the optimiser's train and dev documents):
  static-inpars      the 2-shot InPars template (the generation pipeline's default)
  dspy-predict-0     DSPy Predict, zero-shot
  dspy-cot-0         DSPy ChainOfThought, zero-shot
  dspy-cot-seeded    ChainOfThought with the 2 InPars examples and hand-written reasoning as demos
  dspy-cot-compiled  the program optimise_program ships (compiled against the self-retrieval metric)
Figures per variant: self_retrieval_at_10 (share of queries whose source document is in BM25's top 10),
metric (1/rank within 10 minus 0.5 x trigram copy share), copy_rate (validation's copy verdict),
fallback_rate (DSPy outputs replaced by the static template), docs_per_s. DSPy variants fall back
to the static template, so their figures include the fallback queries; ``dspy_only_*`` count those
as misses. Logged to MLflow (``--tracking-uri``, experiment ``synthir-benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from synthir.data import load_collection
from synthir.generation import load_prompt
from synthir.generation.dspy_optimise import (
    PromptOptimisationConfig,
    SelfRetrievalMetric,
    optimise_program,
    split_documents,
)
from synthir.generation.dspy_programs import (
    make_dspy_lm,
    predict_queries,
    static_fallback,
    zero_shot_or_seeded,
)
from synthir.runtime import default_cache_dir

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--documents", type=int, default=20, help="held-out documents every variant writes for")
    parser.add_argument("--train", type=int, default=8)
    parser.add_argument("--dev", type=int, default=8)
    parser.add_argument("--optimiser", default="bootstrap", choices=["bootstrap", "random_search", "mipro", "none"])
    parser.add_argument("--max-doc-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tracking-uri", default=f"sqlite:///{default_cache_dir() / 'benchmarks-mlflow.db'}")
    parser.add_argument("--output", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()

    corpus = load_collection(args.collection).corpus
    lm, backend = make_dspy_lm({"backend": "local", "model": "package:smollm2-135m-instruct", "batch_size": 8})
    template = load_prompt("inpars", num_examples=2)
    fallback = static_fallback(template, lm, backend)
    metric = SelfRetrievalMetric(corpus)
    train, dev = split_documents(corpus, args.train, args.dev, args.seed)
    used = {d.doc_id for d in train + dev}
    rest = [d for d in corpus if d.doc_id not in used and d.contents.strip()]
    held_out = random.Random(args.seed + 1).sample(rest, min(args.documents, len(rest)))
    texts = [backend.truncate(d.contents, args.max_doc_tokens) for d in held_out]
    print(f"{len(held_out)} held-out CISI documents; optimiser on {len(train)} train / {len(dev)} dev documents")

    started = time.perf_counter()
    config = PromptOptimisationConfig(program="cot", optimiser=args.optimiser, train_size=args.train,
                                      dev_size=args.dev, max_doc_tokens=args.max_doc_tokens, seed=args.seed,
                                      score_zero_shot=False)  # measured below on the held-out documents
    optimised = optimise_program(corpus, lm, config, seed_template=template,
                                 truncate=lambda t: backend.truncate(t, args.max_doc_tokens))
    optimise_seconds = time.perf_counter() - started
    print(f"optimised in {optimise_seconds:.0f} s: {optimised.program.prompt_id}, {len(optimised.program.demos)} demo(s), "
          f"selected {'compiled' if optimised.figures['selected_compiled'] else 'seeded'}")

    programs = {
        "dspy-predict-0": zero_shot_or_seeded("predict", template, 0),
        "dspy-cot-0": zero_shot_or_seeded("cot", template, 0),
        "dspy-cot-seeded": zero_shot_or_seeded("cot", template, 2),
        "dspy-cot-compiled": optimised.program,
    }
    results: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    queries = fallback(texts)
    seconds = time.perf_counter() - started
    results["static-inpars"] = {**metric.figures(queries, held_out), "fallback_rate": 0.0,
                                "docs_per_s": len(texts) / seconds}
    for name, compiled in programs.items():
        same = next((other for other, p in programs.items() if other in results and p.prompt_id == compiled.prompt_id), None)
        if same:  # the optimiser shipped a program already measured (e.g. the seeded one): same outputs
            results[name] = dict(results[same])
            print(f"  {name}: the same program as {same}")
            continue
        started = time.perf_counter()
        outputs, stats = predict_queries(compiled.to_program(), lm, texts, fallback=fallback, seed=args.seed)
        seconds = time.perf_counter() - started
        own = [o.query if o.source != "fallback" else "" for o in outputs]
        own_figures = metric.figures(own, held_out)
        results[name] = {**metric.figures([o.query for o in outputs], held_out),
                         "fallback_rate": stats.figures()["dspy_fallback_rate"], "docs_per_s": len(texts) / seconds,
                         "dspy_only_self_retrieval_at_10": own_figures["self_retrieval_at_10"],
                         "dspy_only_metric": own_figures["metric"]}
        print(f"  {name}: e.g. {outputs[0].query!r} ({outputs[0].source})")

    columns = ["self_retrieval_at_10", "metric", "copy_rate", "fallback_rate", "dspy_only_self_retrieval_at_10", "docs_per_s"]
    print(f"\n{'variant':<20}" + "".join(f"{c:>32}" for c in columns))
    for name, figures in results.items():
        print(f"{name:<20}" + "".join(f"{figures.get(c, float('nan')):>32.3f}" for c in columns))
    print("\noptimiser dev figures: " + ", ".join(f"{k}={v:.3f}" for k, v in optimised.figures.items() if k.startswith("dev_")))

    import mlflow

    from synthir.tracking import run_of_its_own

    mlflow.set_tracking_uri(args.tracking_uri)
    with run_of_its_own("dspy_prompts", experiment="synthir-benchmarks"):
        mlflow.log_params({"collection": args.collection, "documents": len(held_out), "train": args.train,
                           "dev": args.dev, "optimiser": args.optimiser, "generator": backend.name})
        for name, figures in results.items():
            mlflow.log_metrics({f"{name}.{k}": v for k, v in figures.items()})
        mlflow.log_metrics({f"optimise.{k}": v for k, v in optimised.figures.items()})
        mlflow.log_dict(optimised.program.state, "query_program.json")
    print(f"logged to MLflow at {args.tracking_uri} (experiment synthir-benchmarks)")
    if args.output:
        Path(args.output).write_text(json.dumps({"results": results, "optimise": optimised.figures}, indent=2))


if __name__ == "__main__":
    main()
