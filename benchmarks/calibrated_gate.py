"""Can a few judged queries calibrate the label-free gate? PPI++ on the trained model's gain over the
untrained one, from random golden subsets of CISI's judged queries, against the gain on all of them.

    python benchmarks/calibrated_gate.py [--model DIR] [--sizes 10,20,30,50] [--trials 1000]
        [--recipe benchmarks/recipes/calibrated_gate.yaml] [--set evaluation.calibration.judge_depth=10 ...]

The recipe is an ``inpars:`` block in the product's typed schema: the comparison (depth, fusion weight,
the untrained model), the interval's level (``evaluation.alpha``), the synthetic judgments and the
judge (``evaluation.calibration``); ``--set`` overrides one key. The flags are the measurement's own:
which trained model, the golden sizes and how many random subsets.

1. The trained model: ``--model``, by default the one ``reranker_quality.py --recipes all-mnrl-margin-mse``
   trains (run that first). The untrained model is the recipe's base model (all-MiniLM-L6-v2); both re-score
   BM25's top 100, alone and fused with BM25 at 0.7, through the product's comparison (``compare_rerankers``).
2. Per query, the gain (trained minus untrained, nDCG@10, on the same footing) under three judgments:
   the **human** ones of the 76 judged queries (the truth: their mean is the figure to cover); the
   **generator's** judgment (``GeneratorJudge``: the document SmolLM2 most likely writes the query from,
   of the systems' pooled top 5) of the same 76 queries and of the label-free **synthetic** queries
   (Gemma-3-270M's, on 200 held-out documents, as ``reranker_quality.py`` writes them); and the
   synthetic judgments themselves (each synthetic query's source document).
3. For each golden size n, ``--trials`` random golden subsets: the classical interval from the n alone,
   PPI++ with the synthetic queries as the label-free set (``ppi_gain``, what the gate can do), and PPI++
   with the other 76 - n judged queries' proxies as the label-free set (a query log without judgments,
   the setting PPI's guarantee is for). For each: how often the interval covers the gain on all 76, its
   mean width, and how often its lower bound is above 0 (the gate would call the gain).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from commands.main import add_recipe_arguments, inpars_recipe
from synthir.data import load_collection
from synthir.judgments.calibration import GeneratorJudge, ppi_gain
from synthir.judgments.synthetic import hold_out, synthetic_judgments
from synthir.lifecycle.gate import compare_rerankers
from synthir.models import resolve_model
from synthir.retrieval.reranker import Reranker
from synthir.runtime import default_cache_dir

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
RECIPE = Path(__file__).resolve().parent / "recipes" / "calibrated_gate.yaml"
QUALITY_WORK = default_cache_dir() / "benchmarks" / "reranker_quality" / "all-mnrl-margin-mse"
FOOTINGS = {"alone": ("trained", "zero-shot"), "fused": ("fused", "zero-shot-fused")}


def gains(comparison, footing: str) -> dict[str, float]:
    """query id -> the candidate's gain over the untrained model on ``footing``, from a comparison."""
    candidate, untrained = FOOTINGS[footing]
    rows = comparison.per_query
    return {q: rows[candidate][q] - rows[untrained][q] for q in rows[candidate] if q in rows[untrained]}


def trained_model(path: str | None) -> Path:
    if path:
        return Path(path)
    found = sorted(QUALITY_WORK.rglob("synthir_reranker.json"))
    if not found:
        raise SystemExit(f"no trained model under {QUALITY_WORK}: run `python benchmarks/reranker_quality.py --recipes "
                         "all-mnrl-margin-mse` first, or pass --model DIR")
    return found[-1].parent


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--model", help="a trained reranker folder (default: reranker_quality.py's all-mnrl-margin-mse)")
    parser.add_argument("--sizes", default="10,20,30,50", help="golden set sizes")
    parser.add_argument("--trials", type=int, default=1000, help="random golden subsets per size")
    parser.add_argument("--checkpoint-root", default=str(default_cache_dir() / "generation"))
    add_recipe_arguments(parser, RECIPE)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    recipe = inpars_recipe(args.recipe, args.assignments)
    dev_config, calibration, alpha = recipe.evaluation.synthetic, recipe.evaluation.calibration, recipe.evaluation.alpha

    started = time.perf_counter()
    collection = load_collection(args.collection)
    corpus = collection.corpus
    _, held = hold_out(corpus, dev_config)
    synthetic = synthetic_judgments(held, dev_config, checkpoint_root=args.checkpoint_root)
    judged = collection.judged_queries()
    model_dir = trained_model(args.model)
    trained, untrained = Reranker(model_dir), Reranker(resolve_model(recipe.training.base_model), "bi-encoder")
    judge = GeneratorJudge(calibration.judge_model, depth=calibration.judge_depth)

    def compare(queries, qrels, **options):
        return compare_rerankers(corpus, queries, qrels, trained, untrained, depth=recipe.rerank_depth,
                                 fusion_weight=recipe.fusion_weight, seed=recipe.seed,
                                 **options)[0]

    human = compare(judged, collection.qrels)
    golden_proxy = compare(judged, collection.qrels, judge=judge)
    synthetic_proxy = compare(synthetic.queries, synthetic.qrels, judge=judge)
    synthetic_source = compare(synthetic.queries, synthetic.qrels, source="synthetic")
    rng = np.random.default_rng(0)
    print(f"{collection.name}: {len(judged)} judged queries, {len(synthetic.queries)} synthetic queries on "
          f"{len(held)} held-out documents; trained model {model_dir}; judge {calibration.judge_model} over each "
          f"system's top {calibration.judge_depth}; alpha {alpha}; {args.trials} golden subsets per size; "
          f"{time.perf_counter() - started:.0f} s to score\n")
    for footing in FOOTINGS:
        y_all, f_all = gains(human, footing), gains(golden_proxy, footing)
        ids = sorted(set(y_all) & set(f_all))
        y, f = np.array([y_all[q] for q in ids]), np.array([f_all[q] for q in ids])
        f_synthetic = np.array(list(gains(synthetic_proxy, footing).values()))
        truth = float(y.mean())
        print(f"## {footing}: gain on all {len(ids)} judged queries {truth:+.4f}; synthetic judgments "
              f"{np.mean(list(gains(synthetic_source, footing).values())):+.4f}; generator's judgment "
              f"{f.mean():+.4f} on the judged queries, {f_synthetic.mean():+.4f} on the synthetic ones; "
              f"correlation with the human gain per query {np.corrcoef(y, f)[0, 1]:.3f}\n")
        print("| golden n | interval | covers | mean width | lower bound > 0 |")
        print("|---|---|---|---|---|")
        for n in sizes:
            if n >= len(ids) - 1:
                continue
            stats = {"golden alone": [], "PPI++, synthetic queries": [], "PPI++, the other judged queries": []}
            for _ in range(args.trials):
                pick = rng.permutation(len(ids))
                golden, rest = pick[:n], pick[n:]
                for name, unlabelled in (("PPI++, synthetic queries", f_synthetic),
                                         ("PPI++, the other judged queries", f[rest])):
                    c = ppi_gain(y[golden], f[golden], unlabelled, alpha=alpha)
                    stats[name].append((c.low <= truth <= c.high, c.high - c.low, c.lower_bound > 0))
                stats["golden alone"].append((c.golden_low <= truth <= c.golden_high, c.golden_high - c.golden_low,
                                              c.golden_lower_bound > 0))
            for name, rows in stats.items():
                covers, width, called = (np.mean([r[i] for r in rows]) for i in range(3))
                print(f"| {n} | {name} | {covers:.3f} | {width:.4f} | {called:.3f} |")
        print()
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
