"""CPO on CISI with the offline models: preference-pair throughput, CPO training speed on CPU, and the
student's QueryEval figures before and after tuning on held-out documents.

    python benchmarks/cpo_generator.py [--references 40] [--held-out 40] [--epochs 1] [--loss-type sigmoid]

Student SmolLM2-135M-Instruct, teacher Gemma-3-270M (base), references: CISI's judged (query,
document) pairs; the held-out documents are outside the preference data. Printed: pairs/s (teacher +
student generation + QueryEval scoring), CPO steps/s and pairs/s, and for base and tuned student:
query_eval, copy_rate, self_retrieval@10, similarity, retrieval, docs/s. Logged to MLflow
(``--tracking-uri``, experiment ``synthir-benchmarks``). It runs the CPO flow's own stages
(``synthir.flow.cpo``: references, preference pairs, training, the gate's held-out comparison).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import mlflow

from synthir.cpo import CPOTrainingConfig, PreferenceConfig
from synthir.flow import cpo, data
from synthir.preparation import DocumentsConfig
from synthir.runtime import default_cache_dir

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
STUDENT = "package:smollm2-135m-instruct"
TEACHER = "package:gemma3-270m"
REGISTRY_NAME = "benchmark-generator"  # never registered to: the benchmark stops before the gate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--references", type=int, default=40)
    parser.add_argument("--held-out", type=int, default=40)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-doc-tokens", type=int, default=192, help="documents are cut to this in prompts")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--loss-type", default="sigmoid", choices=["sigmoid", "hinge", "ipo", "simpo"])
    parser.add_argument("--max-steps", type=int, default=-1, help="CPO steps, over --epochs (a smoke run)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tracking-uri", default=f"sqlite:///{default_cache_dir() / 'benchmarks-mlflow.db'}")
    parser.add_argument("--output", default="", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if not Path(args.collection).exists():
        sys.exit(f"collection not found: {args.collection} (expects the CISI BEIR folder from ../shared/data/cisi)")
    mlflow.set_tracking_uri(args.tracking_uri)  # the stages log to the active run, in this store
    store = mlflow.MlflowClient(args.tracking_uri)
    found = store.get_experiment_by_name("synthir-benchmarks")
    experiment_id = found.experiment_id if found else store.create_experiment("synthir-benchmarks")
    work = Path(tempfile.mkdtemp(prefix="synthir-bench-cpo-"))
    # the CPO flow's stages (synthir.flow.cpo, what cpo_pipeline runs), up to the gate's comparison
    with mlflow.start_run(run_name="cpo_generator", experiment_id=experiment_id):
        loaded = data.load_collection(args.collection, documents=DocumentsConfig.off())  # judged documents by id
        corpus = loaded.corpus
        references = cpo.qrels_reference_queries(corpus, loaded.queries, loaded.qrels).value
        pairs = cpo.build_preference_pairs(
            corpus, references, {"model": TEACHER, "batch_size": 8}, {"model": STUDENT, "batch_size": 8},
            preferences=PreferenceConfig(max_references=args.references, max_doc_tokens=args.max_doc_tokens,
                                         seed=args.seed),
            checkpoint_root=work / "generation")
        config = CPOTrainingConfig(base_model=STUDENT, loss_type=args.loss_type, epochs=args.epochs,
                                   batch_size=args.batch_size, learning_rate=args.learning_rate, save="merged",
                                   seed=args.seed, save_steps=10_000, max_steps=args.max_steps)
        trained = cpo.train_cpo_generator(pairs, config, checkpoint_root=work / "cpo")
        evaluated = cpo.evaluate_generators(trained, pairs, corpus, args.held_out,
                                            decoding={"max_new_tokens": 48, "max_doc_tokens": args.max_doc_tokens},
                                            registry_name=REGISTRY_NAME, seed=args.seed)
    comparison = evaluated.comparison
    results = {"base": comparison.base, "cpo": comparison.candidate}
    training = trained.training
    figures = {
        "preferences": {k: pairs.figures[k] for k in ("references", "pairs", "dropped_ties", "dropped_same_text",
                                                      "seconds", "pairs_per_s", "mean_score_reference",
                                                      "mean_score_teacher", "mean_score_student", "chosen_reference",
                                                      "chosen_teacher", "chosen_student")},
        "training": {k: training[k] for k in ("steps", "seconds", "steps_per_s", "pairs_per_s", "final_loss",
                                              "adapter_norm")},
        "held_out": results,
    }
    print(f"\nPreference pairs: {len(pairs)} of {args.references} references kept in {pairs.figures['seconds']:.0f} s "
          f"({pairs.figures['pairs_per_s']:.2f} pairs/s); chosen: reference {pairs.figures['chosen_reference']:.0f}, "
          f"teacher {pairs.figures['chosen_teacher']:.0f}, student {pairs.figures['chosen_student']:.0f}")
    print(f"CPO ({args.loss_type}, LoRA): {training['steps']:.0f} steps in {training['seconds']:.0f} s = "
          f"{training['steps_per_s']:.3f} steps/s, {training['pairs_per_s']:.2f} pairs/s; final loss "
          f"{training['final_loss']:.3f}")
    print(f"\nHeld-out CISI documents: {comparison.held_out_documents}")
    print("| generator | query_eval | copy_rate | self_retrieval@10 | similarity | retrieval | docs/s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['query_eval']:.4f} | {r['copy_rate']:.3f} | {r['self_retrieval']:.3f} | {r['similarity']:.4f} "
              f"| {r['retrieval']:.4f} | {r['docs_per_s']:.2f} |")
    gain = results["cpo"]["query_eval"] - results["base"]["query_eval"]
    print(f"\nQueryEval change after CPO: {gain:+.4f}; copy rate change: "
          f"{results['cpo']['copy_rate'] - results['base']['copy_rate']:+.3f}")
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
