"""Can the label-free gate be trusted? Systems scored under human judgments and under held-out
synthetic judgments on a labelled collection (CISI), and how well the two orderings agree.

    python benchmarks/label_free_gate.py [--recipe benchmarks/recipes/label_free_gate.yaml] [--set KEY=VALUE ...]
        [--llm-judge package:smollm2-135m-instruct --judge-depth 5] [--skip-broken] [--work DIR]   (DIR keeps the trained models)

The recipe is an ``inpars:`` block in the product's typed schema; ``--set`` overrides one key
(``--set max_generations=600 --set evaluation.synthetic.held_out_documents=200``).

1. ``hold_out`` sets a seeded share of the documents aside; the evaluation generator (Gemma-3-270M by
   default, a different model from the training one) writes a query for each, the checks keep the
   well-formed ones, and each query's source document is its relevant document (``synthetic``).
2. SmolLM2-135M writes training queries for the *other* documents (``max_generations``: a sample); checks, the
   scores filter, BM25 negatives from those documents only, all-MiniLM-L6-v2 fine-tuned on them. A broken
   model is trained the same way on shuffled query-document pairs.
3. Seven systems (BM25; untrained, trained and broken MiniLM, each alone and fused with BM25 at one
   weight, ``fusion_weight``) re-score BM25's top ``rerank_depth`` over the whole corpus, read off the product's comparisons of the
   two candidates (``compare_rerankers``, the gate's), under each source: ``judged`` (the 76 human
   queries), ``synthetic`` (checks only), and ``synthetic+bm25-filter`` (only the queries whose
   source document BM25 ranks in its top 20: the round-trip filter that favours BM25), and with
   ``--llm-judge`` ``llm_judge`` (the judge grades the pooled top ``--judge-depth`` of every system
   for the human queries, UMBRELA prompt; grades cached in the cache folder).
4. Kendall's tau of each source's ordering against the human one, and, for each trained candidate,
   whether the product's gate (``compare_rerankers`` and ``gate.decide_reranker``, as the
   pipeline runs them: beats BM25, beats the untrained model on the same footing, margin, paired
   test and ``evaluation.min_queries``; under synthetic judgments ``evaluation.synthetic.untrained_bias``
   comes off the gain over the untrained model first) calls each baseline under each source as under human judgments;
   and the bias measured in this run (synthetic gain minus judged gain).
Target: tau >= 0.7, and the gate never promotes what human judgments would refuse.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from commands.main import add_recipe_arguments, inpars_recipe
from synthir.data import Qrels, load_collection
from synthir.flow import generation, validation
from synthir.flow import training as training_stages
from synthir.generation import make_backend
from synthir.generation.backends import LocalGenerator
from synthir.inpars_config import InParsConfig
from synthir.judgments.synthetic import hold_out, synthetic_judgments
from synthir.lifecycle import gate
from synthir.lifecycle.gate import compare_rerankers
from synthir.models import resolve_model
from synthir.retrieval import BM25Index
from synthir.retrieval.reranker import Reranker
from synthir.runtime import default_cache_dir
from synthir.training.triples import Triples

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
RECIPE = Path(__file__).resolve().parent / "recipes" / "label_free_gate.yaml"
CANDIDATES = ("trained", "trained-fused", "broken", "broken-fused")


def shuffled(triples: Triples, seed: int) -> Triples:
    """Queries paired with another query's documents: training on noise."""
    frame = triples.frame.copy()
    order = np.random.default_rng(seed).permutation(len(frame))
    frame[["query_id", "query"]] = frame[["query_id", "query"]].to_numpy()[order]
    return Triples(frame, corpus_fingerprint=triples.corpus_fingerprint)


def compare(corpus, queries, qrels, model, untrained, footing: str, config: InParsConfig, source: str, judge=None):
    """The product's comparison of one candidate under one source (``compare_rerankers``: the candidate
    alone or fused at ``fusion_weight``, against BM25 and the untrained model on the same footing, the
    synthetic bias taken off under synthetic judgments; ``judge`` grades its pooled runs)."""
    bias = config.evaluation.synthetic.untrained_bias if source.startswith("synthetic") else 0.0
    return compare_rerankers(corpus, queries, qrels, model, untrained, None, depth=config.rerank_depth,
                             fusion_weight=config.fusion_weight if footing == "fused" else None, source=source,
                             judge=judge, untrained_bias=bias)[0]


def gate_calls(comparison, config: InParsConfig) -> dict[str, bool]:
    """The product's gate (``gate.decide_reranker``) on one comparison: its verdicts and the decision."""
    evaluation = config.evaluation
    decision = gate.decide_reranker(comparison, config.promotion_margin, evaluation.alpha, evaluation.min_queries,
                                    allow_weak_gate=evaluation.allow_weak_gate)
    return {"vs BM25": decision.verdicts["bm25"], "vs untrained": decision.verdicts["untrained"],
            "promote": decision.promoted}


def system_figures(fused: dict[str, object]) -> dict[str, pd.Series]:
    """Every system's per-query nDCG@10 under one source, read off the candidates' fused comparisons
    (each holds BM25, the untrained model alone and fused, and the candidate alone and fused)."""
    first = next(iter(fused.values())).per_query
    figures = {"bm25": first["bm25"], "untrained": first["zero-shot"], "untrained-fused": first["zero-shot-fused"]}
    for model, comparison in fused.items():
        figures.update({model: comparison.per_query["trained"], f"{model}-fused": comparison.per_query["fused"]})
    return {name: pd.Series(values) for name, values in figures.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    add_recipe_arguments(parser, RECIPE)
    parser.add_argument("--checkpoint-root", default=str(default_cache_dir() / "generation"))
    parser.add_argument("--llm-judge", help="a judge model (package:..., hf:..., a folder): adds the llm_judge source")
    parser.add_argument("--judge-depth", type=int, default=5)
    parser.add_argument("--work", help="folder for the trained models; reused when they are there")
    parser.add_argument("--skip-broken", action="store_true",
                        help="leave out the broken control (saves its training; tau is then over 5 systems)")
    args = parser.parse_args(argv)
    config = inpars_recipe(args.recipe, args.assignments)
    with tempfile.TemporaryDirectory(prefix="label-free-gate-") as scratch:  # removed however the run ends
        measure(args, config, Path(args.work or scratch))


def measure(args: argparse.Namespace, config: InParsConfig, work: Path) -> None:
    """The flow up to training (the models in ``work``), every comparison under every source; prints the tables."""
    started = time.perf_counter()
    collection = load_collection(args.collection)
    corpus = collection.corpus
    training_corpus, held = hold_out(corpus, config.evaluation.synthetic)
    judgments = synthetic_judgments(held, config.evaluation.synthetic, checkpoint_root=args.checkpoint_root)
    eval_seconds = time.perf_counter() - started

    generated = generation.generate_synthetic_queries(
        training_corpus, config.prompt, config.num_examples, config.examples_from, config.generator,
        config.max_generations, config.seed, config.decoding, args.checkpoint_root).queries
    checked = validation.check_synthetic_queries(generated, training_corpus, config.checks)
    filtered = validation.filter_synthetic_queries(checked.checked, training_corpus, checked.report,
                                                   config.filters).filtered
    triples = training_stages.build_training_triples(filtered, training_corpus, config.negatives_per_query,
                                                     config.negative_depth, config.seed,
                                                     **config.training.triples_options()).value
    training = config.training
    scorers = {"untrained": Reranker(resolve_model(training.base_model), training.model_type)}
    train_started = time.perf_counter()
    # the flow's training (teacher included where the loss distils); the broken control on shuffled pairs
    model, triples = training_stages.train(triples, filtered, training_corpus, training, "label-free-gate",
                                           depth=config.negative_depth, checkpoint_root=work / "trained")
    scorers["trained"] = Reranker(model.model_dir)
    if not args.skip_broken:
        broken = training_stages.train_reranker_model(shuffled(triples, 7), filtered, training, work / "broken").value
        scorers["broken"] = Reranker(broken.model_dir)
    train_seconds = time.perf_counter() - train_started

    synthetic_bm25 = BM25Index.build(corpus).search(judgments.queries, k=1000, show_progress=False)
    round_trip = [q for q in judgments.queries.queries
                  if next(iter(judgments.qrels.judgments[q])) in dict(synthetic_bm25.ranked(q)[:20])]
    sources = {"judged": (collection.judged_queries(), collection.qrels),
               "synthetic": (judgments.queries, judgments.qrels),
               "synthetic+bm25-filter": (judgments.queries.subset(round_trip),
                                         Qrels({q: judgments.qrels.judgments[q] for q in round_trip}))}
    judge = None
    if args.llm_judge:  # it grades the pooled runs of each comparison (grades cached across them)
        from synthir.judgments.llm_judge import JudgmentCache, LLMJudge

        judge = LLMJudge(make_backend(LocalGenerator(model=args.llm_judge, batch_size=8)),
                         JudgmentCache(default_cache_dir() / "judgments" / "llm_judge.sqlite"), depth=args.judge_depth)
        sources["llm_judge"] = (collection.judged_queries(), collection.qrels)
    candidates = [name for name in ("trained", "broken") if name in scorers]
    comparisons = {source: {model: {footing: compare(corpus, queries, qrels, scorers[model], scorers["untrained"], footing,
                                                     config, source, judge if source == "llm_judge" else None)
                                    for footing in ("alone", "fused")}
                            for model in candidates}
                   for source, (queries, qrels) in sources.items()}
    per_source = {source: system_figures({model: by_footing["fused"] for model, by_footing in models.items()})
                  for source, models in comparisons.items()}

    print(f"{collection.name}: {len(corpus)} documents; {len(held)} held out; training generator {config.generator.model} on "
          f"{config.max_generations or 'all'} of the rest -> {len(filtered)} filtered queries, {len(triples)} triples; "
          f"loss {training.loss}")
    print(f"synthetic judgments: {judgments.figures['generated']:.0f} queries by {judgments.generator}, "
          f"{len(judgments.queries)} kept by the checks (copy rate {judgments.figures['copy_rate']:.3f}), "
          f"{len(round_trip)} also pass a BM25 top-20 round trip; {eval_seconds:.0f} s")
    print(f"training: {len(scorers) - 1} models x {training.epochs:g} epoch, {train_seconds:.0f} s; "
          f"total {time.perf_counter() - started:.0f} s")
    if judge is not None:
        print(f"llm_judge {args.llm_judge}: {judge.figures['judgments']:.0f} pooled judgments (depth {args.judge_depth}), "
              f"{judge.figures['new_judgments']:.0f} new, {judge.figures['unparsed']:.0f} replies without a grade, "
              f"{judge.figures['relevant_share']:.3f} graded >= 2")
    print()
    print_tables(sources, per_source, comparisons, candidates, config)

def print_tables(sources: dict, per_source: dict, comparisons: dict, candidates: list[str], config: InParsConfig) -> None:
    """Every system under every source, Kendall's tau of each source's ordering against the judged one,
    the measured bias, and each gate call under each source against the call under human judgments."""
    from scipy.stats import kendalltau

    systems = list(per_source["judged"])
    header = "| system | " + " | ".join(f"{s} ({len(per_source[s]['bm25'])} q)" for s in sources) + " |"
    print(header)
    print("|---" * (len(sources) + 1) + "|")
    for name in systems:
        print(f"| {name} | " + " | ".join(f"{per_source[s][name].mean():.4f}" for s in sources) + " |")
    human = [per_source["judged"][name].mean() for name in systems]

    def gain(source, system, baseline):
        return per_source[source][system].mean() - per_source[source][baseline].mean()
    print()
    for source in list(sources)[1:]:
        tau = kendalltau(human, [per_source[source][name].mean() for name in systems]).statistic
        print(f"Kendall's tau, {source} vs judged, over {len(systems)} systems: {tau:.3f}  (target >= 0.7)")
    biases = []
    for source in (s for s in sources if s.startswith("synthetic")):
        for footing, suffix in (("alone", ""), ("fused", "-fused")):
            bias = gain(source, "trained" + suffix, "untrained" + suffix) - gain("judged", "trained" + suffix, "untrained" + suffix)
            biases.append(f"{source} {footing} {bias:+.4f}")
    print("\nMeasured bias of synthetic judgments for the trained model over the untrained one (synthetic gain "
          "minus judged gain): " + ", ".join(biases))
    evaluation = config.evaluation
    print(f"\nThe product's gate (compare_rerankers + gate.decide_reranker: margin {config.promotion_margin}, paired "
          f"randomisation p < {evaluation.alpha}, at least {evaluation.min_queries} queries; under synthetic judgments "
          f"{evaluation.synthetic.untrained_bias} is taken off the gain over the untrained model): judged -> each source")
    print("| candidate | call | judged | " + " | ".join(list(sources)[1:]) + " |")
    print("|---" * (len(sources) + 2) + "|")
    wrong_promotions = {s: 0 for s in list(sources)[1:]}
    for candidate in CANDIDATES:
        model, footing = candidate.removesuffix("-fused"), "fused" if candidate.endswith("-fused") else "alone"
        if model not in candidates:
            continue
        calls = {s: gate_calls(comparisons[s][model][footing], config) for s in sources}
        for call in ("vs BM25", "vs untrained", "promote"):
            cells = []
            for source in list(sources)[1:]:
                agree = calls[source][call] == calls["judged"][call]
                cells.append(f"{calls[source][call]} ({'agrees' if agree else 'DISAGREES'})")
            print(f"| {candidate} | {call} | {calls['judged'][call]} | " + " | ".join(cells) + " |")
        for source in wrong_promotions:
            wrong_promotions[source] += int(calls[source]["promote"] and not calls["judged"]["promote"])
    for source, count in wrong_promotions.items():
        print(f"{source}: promotions human judgments would refuse: {count} of {2 * len(candidates)} candidates")

if __name__ == "__main__":
    main()
