"""CPO on CISI with the offline models: preference-pair throughput, CPO training speed on CPU, and the
student's QueryEval figures before and after tuning on held-out documents.

    python benchmarks/cpo_generator.py [--references 40] [--held-out 40] [--epochs 1] [--loss-type sigmoid]

Student SmolLM2-135M-Instruct, teacher Gemma-3-270M (base), references: CISI's judged (query,
document) pairs; the held-out documents are outside the preference data. Printed: pairs/s (teacher +
student generation + QueryEval scoring), CPO steps/s and pairs/s, and for base and tuned student:
query_eval, copy_rate, self_retrieval@10, similarity, retrieval, docs/s. Logged to MLflow
(``--tracking-uri``, experiment ``synthir-benchmarks``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from synthir.cpo import (
    CPOTrainingConfig,
    PreferenceConfig,
    QueryEvalScorer,
    build_preference_pairs,
    evaluate_generator,
    held_out_documents,
    references_from_qrels,
    train_generator,
)
from synthir.data import load_collection
from synthir.generation import QueryGenerationConfig, load_prompt, make_backend
from synthir.runtime import default_cache_dir

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
STUDENT = "package:smollm2-135m-instruct"
TEACHER = "package:gemma3-270m"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--references", type=int, default=40)
    parser.add_argument("--held-out", type=int, default=40)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-doc-tokens", type=int, default=192, help="documents are cut to this in prompts")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--loss-type", default="sigmoid", choices=["sigmoid", "hinge", "ipo", "simpo"])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tracking-uri", default=f"sqlite:///{default_cache_dir() / 'benchmarks-mlflow.db'}")
    parser.add_argument("--output", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not Path(args.collection).exists():
        sys.exit(f"collection not found: {args.collection} (expects the CISI BEIR folder from ../shared/data/cisi)")

    collection = load_collection(args.collection)
    corpus = collection.corpus
    template = load_prompt("inpars", num_examples=2)
    scorer = QueryEvalScorer(corpus)
    references = references_from_qrels(collection.queries, collection.qrels, corpus)
    work = Path(tempfile.mkdtemp(prefix="synthir-bench-cpo-"))

    pairs = build_preference_pairs(
        corpus, references, lambda: make_backend({"model": TEACHER, "batch_size": 8}),
        lambda: make_backend({"model": STUDENT, "batch_size": 8}), template, scorer,
        PreferenceConfig(max_references=args.references, max_doc_tokens=args.max_doc_tokens, seed=args.seed),
        checkpoint_root=work / "generation")
    config = CPOTrainingConfig(base_model=STUDENT, loss_type=args.loss_type, epochs=args.epochs, batch_size=args.batch_size,
                               learning_rate=args.learning_rate, save="merged", seed=args.seed, save_steps=10_000)
    started = time.perf_counter()
    trained = train_generator(pairs, config, work / "cpo")
    train_seconds = time.perf_counter() - started

    held = held_out_documents(corpus, pairs.doc_ids, args.held_out, args.seed)
    generation = QueryGenerationConfig(max_generations=None, max_new_tokens=48, max_doc_tokens=args.max_doc_tokens,
                                       seed=args.seed)
    results = {name: evaluate_generator(name, {"model": model, "batch_size": 8}, held, template, scorer, generation).figures
               for name, model in (("base", STUDENT), ("cpo", str(trained.model_dir)))}

    figures = {
        "preferences": {k: pairs.figures[k] for k in ("references", "pairs", "dropped_ties", "dropped_same_text",
                                                      "seconds", "pairs_per_s", "mean_score_reference",
                                                      "mean_score_teacher", "mean_score_student", "chosen_reference",
                                                      "chosen_teacher", "chosen_student")},
        "training": {"steps": trained.steps, "seconds": train_seconds, "steps_per_s": trained.steps / train_seconds,
                     "pairs_per_s": len(pairs) * args.epochs / train_seconds, "final_loss": trained.losses[-1],
                     "adapter_norm": trained.adapter_norm},
        "held_out": results,
    }
    print(f"\nPreference pairs: {len(pairs)} of {args.references} references kept in {pairs.figures['seconds']:.0f} s "
          f"({pairs.figures['pairs_per_s']:.2f} pairs/s); chosen: reference {pairs.figures['chosen_reference']:.0f}, "
          f"teacher {pairs.figures['chosen_teacher']:.0f}, student {pairs.figures['chosen_student']:.0f}")
    print(f"CPO ({args.loss_type}, LoRA): {trained.steps} steps in {train_seconds:.0f} s = {figures['training']['steps_per_s']:.3f} "
          f"steps/s, {figures['training']['pairs_per_s']:.2f} pairs/s; final loss {trained.losses[-1]:.3f}")
    print(f"\nHeld-out CISI documents: {len(held)}")
    print("| generator | query_eval | copy_rate | self_retrieval@10 | similarity | retrieval | docs/s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['query_eval']:.4f} | {r['copy_rate']:.3f} | {r['self_retrieval']:.3f} | {r['similarity']:.4f} "
              f"| {r['retrieval']:.4f} | {r['docs_per_s']:.2f} |")
    gain = results["cpo"]["query_eval"] - results["base"]["query_eval"]
    print(f"\nQueryEval change after CPO: {gain:+.4f}; copy rate change: "
          f"{results['cpo']['copy_rate'] - results['base']['copy_rate']:+.3f}")

    import mlflow

    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment("synthir-benchmarks")
    with mlflow.start_run(run_name="cpo_generator"):
        mlflow.log_params({"collection": args.collection, **{k: v for k, v in asdict(config).items()},
                           "references": args.references, "held_out": len(held)})
        mlflow.log_metrics({f"preferences.{k}": v for k, v in figures["preferences"].items()})
        mlflow.log_metrics({f"training.{k}": v for k, v in figures["training"].items()})
        for name, r in results.items():
            mlflow.log_metrics({f"{name}.{k}": v for k, v in r.items()})
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
