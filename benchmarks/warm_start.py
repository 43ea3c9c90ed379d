"""Incremental retraining against a full retrain, on a collection that grows from its first 70% to all of it.

    python benchmarks/warm_start.py [--collection ../shared/data/cisi] [--first 0.7]
        [--recipe benchmarks/recipes/warm_start.yaml] [--set training.replay_ratio=1.0 ...]

The recipe is an ``inpars:`` block in the product's typed schema; ``--set`` overrides one key.

1. Documents are held out for synthetic judgments (``evaluation.synthetic``'s defaults: 200, Gemma-3-270M
   writes a query for each); training never sees them. The rest is the training corpus.
2. Stage A (production): SmolLM2-135M writes a query for every training document of the first 70%
   (through a query store), checks and the scores filter, BM25 negatives, all-MiniLM-L6-v2 trained.
3. Stage B, all documents, two ways from the same filtered queries and triples:
   - **incremental** (``init_from: production``): the store reuses stage A's queries and generates
     only for the added 30%; stage A's model is fine-tuned on the triples about the added documents
     plus ``replay_ratio`` x as many replayed ones (``synthir.warm_start``);
   - **full** (``init_from: base``): every document's queries and the base model trained on all triples.
     Its generation time is stage A's plus stage B's (the same documents, generated once each here).
   Every stage is the flow's (``synthir.flow``: checks, filters, triples, teacher, training) and the
   incremental triples are ``synthir.warm_start``'s (what ``plan_warm_start`` does with the registry).
4. The product's comparison (``compare_rerankers``) on the whole corpus, BM25 top 100 re-scored and ranked
   as documents, under human judgments and under the synthetic ones, alone and fused with BM25 (weight
   0.7, the pipeline default); and each path's wall time (generation, checks and filter, triples,
   teacher and training) as a ratio of the full run's.
Target: the incremental run costs <= 40% of the full run, with quality within 0.01 nDCG@10.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from commands.main import add_recipe_arguments, inpars_recipe
from synthir.data import load_collection
from synthir.flow import generation, validation
from synthir.flow import training as training_stages
from synthir.generation.query_store import QueryStore
from synthir.judgments.synthetic import hold_out, synthetic_judgments
from synthir.lifecycle.gate import compare_rerankers
from synthir.models import resolve_model
from synthir.retrieval.reranker import Reranker
from synthir.warm_start import incremental_triples

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
RECIPE = Path(__file__).resolve().parent / "recipes" / "warm_start.yaml"
HEADLINE = "nDCG@10"


class Stopwatch(dict):
    """Seconds per named phase."""

    def time(self, name: str, function, *args, **kwargs):
        started = time.perf_counter()
        result = function(*args, **kwargs)
        self[name] = self.get(name, 0.0) + time.perf_counter() - started
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--first", type=float, default=0.7, help="share of the documents (in corpus order) in stage A")
    add_recipe_arguments(parser, RECIPE)
    parser.add_argument("--documents", type=int, help="at most this many training documents (a smoke run)")
    args = parser.parse_args(argv)
    config = inpars_recipe(args.recipe, args.assignments)
    # fresh checkpoints and store, so every figure is real work; removed however the run ends
    with tempfile.TemporaryDirectory(prefix="warm-start-") as scratch:
        measure(args, config, Path(scratch))


def measure(args: argparse.Namespace, config, work: Path) -> None:
    """Stage A, then the incremental run and the full retrain on stage B, in ``work``; prints the tables."""
    started = time.perf_counter()
    collection = load_collection(args.collection)
    corpus = collection.corpus
    training_all, held = hold_out(corpus, config.evaluation.synthetic)
    judgments = synthetic_judgments(held, config.evaluation.synthetic, checkpoint_root=work / "eval-generation")
    if args.documents is not None:
        training_all = training_all.subset(list(training_all.documents)[: args.documents])
    ids = list(training_all.documents)
    training_first = training_all.subset(ids[: round(args.first * len(ids))], name="first")

    store = QueryStore(str(work / "query-store"))
    training = config.training

    def prepare(stage, clock: Stopwatch):
        """The flow's stages: generation through the store, checks, the filters, the triples."""
        generated = clock.time("generation", generation.generate_synthetic_queries, stage, config.prompt,
                               config.num_examples, config.examples_from, config.generator, config.max_generations,
                               config.seed, config.decoding, work / "generation", store=store).queries
        checked = clock.time("checks+filter", validation.check_synthetic_queries, generated, stage, config.checks)
        filtered = clock.time("checks+filter", validation.filter_synthetic_queries, checked.checked, stage,
                              checked.report, config.filters).filtered
        triples = clock.time("triples", training_stages.build_training_triples, filtered, stage,
                             config.negatives_per_query, config.negative_depth, config.seed,
                             **training.triples_options()).value
        return filtered, triples

    def train(triples, filtered, stage, clock: Stopwatch, name: str, init_model=None):
        """The flow's teacher and training stages (``init_model``: where a warm start begins)."""
        if training.uses_teacher:
            triples = clock.time("training", training_stages.add_teacher_margins, triples, stage, training,
                                 depth=config.negative_depth).value
        return clock.time("training", training_stages.train_reranker_model, triples, filtered, training,
                          work / name, init_model).value.model_dir

    stage_a = Stopwatch()
    filtered_a, triples_a = prepare(training_first, stage_a)
    production = train(triples_a, filtered_a, training_first, stage_a, "stage-a")
    incremental = Stopwatch()
    filtered_b, triples_b = prepare(training_all, incremental)
    full = Stopwatch({"generation": stage_a["generation"] + incremental["generation"],
                      "checks+filter": incremental["checks+filter"], "triples": incremental["triples"]})
    added = set(training_all.documents) - set(training_first.documents)
    # the product's plan (plan_warm_start) without the registry: production's documents are stage A's
    warm_triples, new, replayed = incremental_triples(triples_b, added, training.replay_ratio, training.seed)
    warm = train(warm_triples, filtered_b, training_all, incremental, "incremental", init_model=str(production))
    retrained = train(triples_b, filtered_b, training_all, full, "full")

    # the product's comparison: BM25's top rerank_depth re-scored, alone and fused, ranked as documents
    untrained = Reranker(resolve_model(training.base_model))
    scorers = {"untrained": None, "production (first 70%)": Reranker(production), "incremental": Reranker(warm),
               "full retrain": Reranker(retrained)}
    sources = {"judged": (collection.judged_queries(), collection.qrels), "synthetic": (judgments.queries, judgments.qrels)}
    scores: dict[str, dict[str, float]] = {}
    for source, (queries, qrels) in sources.items():
        for n, (name, scorer) in enumerate((name, scorer) for name, scorer in scorers.items() if scorer is not None):
            comparison = compare_rerankers(corpus, queries, qrels, scorer, zero_shot=untrained if n == 0 else None,
                                           depth=config.rerank_depth, seed=config.seed,
                                           fusion_weight=config.fusion_weight, source=source)[0]
            rows = {name: "trained", f"{name}, fused": "fused"}
            if n == 0:  # BM25 and the untrained model once per source
                rows = {"bm25": "bm25", "untrained": "zero-shot", "untrained, fused": "zero-shot-fused", **rows}
            for label, system in rows.items():
                scores.setdefault(label, {})[source] = comparison.systems[system]["ndcg_at_10"]

    print(f"{collection.name}: {len(corpus)} documents, {len(held)} held out ({len(judgments.queries)} synthetic "
          f"queries by {judgments.generator}); stage A: {len(training_first)} training documents, stage B: "
          f"{len(training_all)} ({len(added)} added)")
    print(f"triples: stage A {len(triples_a)}; stage B {len(triples_b)} from {len(filtered_b)} filtered queries; "
          f"incremental trains on {len(warm_triples)} ({new} about added documents + {replayed} replayed)")
    print(f"total benchmark time {time.perf_counter() - started:.0f} s\n")
    print("| system | judged nDCG@10 | synthetic nDCG@10 |\n|---|---|---|")
    for name, row in scores.items():
        print(f"| {name} | {row['judged']:.4f} | {row['synthetic']:.4f} |")
    print()
    for source in sources:
        for suffix in ("", ", fused"):
            gap = scores[f"incremental{suffix}"][source] - scores[f"full retrain{suffix}"][source]
            verdict = "within 0.01" if abs(gap) <= 0.01 else "better by more than 0.01" if gap > 0 else "WORSE by more than 0.01"
            print(f"quality, {source}{suffix or ', alone'}: incremental - full = {gap:+.4f} ({verdict})")
    phases = list(full)
    print("\n| phase | full retrain (s) | incremental (s) | ratio |\n|---|---|---|---|")
    for phase in phases:
        print(f"| {phase} | {full[phase]:.1f} | {incremental.get(phase, 0.0):.1f} | "
              f"{incremental.get(phase, 0.0) / max(full[phase], 1e-9):.2f} |")
    total_full, total_incremental = sum(full.values()), sum(incremental.values())
    print(f"| total | {total_full:.1f} | {total_incremental:.1f} | {total_incremental / total_full:.2f} |")
    print(f"\nincremental / full wall time: {total_incremental / total_full:.2f} (target <= 0.40)")


if __name__ == "__main__":
    main()
