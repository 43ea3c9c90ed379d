"""CPO on CISI with the offline models: preference-pair throughput, CPO training speed on CPU, and the
student's QueryEval figures before and after tuning on held-out documents.

    python benchmarks/cpo_generator.py [--recipe benchmarks/recipes/cpo_generator.yaml]
        [--set cpo.loss_type=simpo --set preferences.max_references=64 ...]

The recipe is a config of the CPO pipeline (``cpo_pipeline``'s typed parameters, as in
``configs/cpo/``; ``--set`` overrides one): student SmolLM2-135M-Instruct, teacher Gemma-3-270M
(base), 40 references from CISI's judged (query, document) pairs, CPO (sigmoid, 1 epoch, lr 3e-4);
the held-out documents are outside the preference data. Printed: pairs/s (teacher +
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

from commands.main import add_recipe_arguments, pipeline_recipe
from synthir.flow import cpo, data
from synthir.preparation import DocumentsConfig
from synthir.runtime import default_cache_dir
from synthir.tracking import run_of_its_own

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
RECIPE = Path(__file__).resolve().parent / "recipes" / "cpo_generator.yaml"
REGISTRY_NAME = "benchmark-generator"  # never registered to: the benchmark stops before the gate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--tracking-uri", default=f"sqlite:///{default_cache_dir() / 'benchmarks-mlflow.db'}")
    parser.add_argument("--output", default="", help="also write the figures to this JSON file")
    add_recipe_arguments(parser, RECIPE, block="cpo_pipeline")
    args = parser.parse_args(argv)
    recipe = pipeline_recipe("cpo", args.recipe, args.assignments)
    if recipe["references"] != "qrels":
        sys.exit(f"{args.recipe}: references must be qrels here (the benchmark's references are the collection's "
                 "judged pairs)")
    if not Path(args.collection).exists():
        sys.exit(f"collection not found: {args.collection} (expects the CISI BEIR folder from ../shared/data/cisi)")
    mlflow.set_tracking_uri(args.tracking_uri)  # the stages log to the active run, in this store
    with tempfile.TemporaryDirectory(prefix="synthir-bench-cpo-") as scratch:  # removed however the run ends
        figures = measure(args, recipe, Path(scratch))
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2))


def measure(args: argparse.Namespace, recipe: dict, work: Path) -> dict:
    """The CPO flow's stages in ``work``, up to the gate's comparison; prints the tables, returns the figures."""
    # the CPO flow's stages (synthir.flow.cpo, what cpo_pipeline runs), up to the gate's comparison
    with run_of_its_own("cpo_generator", experiment="synthir-benchmarks"):
        loaded = data.load_collection(args.collection, documents=DocumentsConfig.off())  # judged documents by id
        corpus = loaded.corpus
        references = cpo.qrels_reference_queries(corpus, loaded.queries, loaded.qrels).value
        pairs = cpo.build_preference_pairs(
            corpus, references, recipe["teacher"], recipe["student"], recipe["prompt"], recipe["num_examples"],
            cpo.preference_config_for(recipe["preferences"], recipe["seed"]), recipe["query_eval"],
            checkpoint_root=work / "generation")
        config = cpo.cpo_config_for(recipe["student"], recipe["cpo"])
        trained = cpo.train_cpo_generator(pairs, config, checkpoint_root=work / "cpo")
        evaluated = cpo.evaluate_generators(trained, pairs, corpus, recipe["held_out"], recipe["prompt"],
                                            recipe["num_examples"], recipe["evaluation_generator"],
                                            recipe["decoding"], recipe["query_eval"], registry_name=REGISTRY_NAME,
                                            seed=recipe["seed"])
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
    print(f"\nPreference pairs: {len(pairs)} of {pairs.figures['references']:.0f} references kept in {pairs.figures['seconds']:.0f} s "
          f"({pairs.figures['pairs_per_s']:.2f} pairs/s); chosen: reference {pairs.figures['chosen_reference']:.0f}, "
          f"teacher {pairs.figures['chosen_teacher']:.0f}, student {pairs.figures['chosen_student']:.0f}")
    print(f"CPO ({config.loss_type}, LoRA): {training['steps']:.0f} steps in {training['seconds']:.0f} s = "
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
    return figures


if __name__ == "__main__":
    main()
