"""Can the label-free gate be trusted? Systems scored under human judgments and under held-out
synthetic judgments on a labelled collection (CISI), and how well the two orderings agree.

    python benchmarks/label_free_gate.py [--held-out 200] [--train-docs N] [--loss mnrl] [--eval-generator package:gemma3-270m]
        [--llm-judge package:smollm2-135m-instruct --judge-depth 5] [--untrained-bias 0.01] [--skip-broken]
        [--work DIR]   (DIR keeps the trained models)

1. ``hold_out`` sets a seeded share of the documents aside; the evaluation generator (Gemma-3-270M by
   default, a different model from the training one) writes a query for each, the checks keep the
   well-formed ones, and each query's source document is its relevant document (``synthetic``).
2. SmolLM2-135M writes training queries for the *other* documents (``--train-docs``: a sample); checks, the scores
   filter, BM25 negatives from those documents only, all-MiniLM-L6-v2 fine-tuned on them. A broken
   model is trained the same way on shuffled query-document pairs.
3. Seven systems (BM25; untrained, trained and broken MiniLM, each alone and fused with BM25 at one
   weight) re-score BM25's top 100 over the whole corpus, read off the product's comparisons of the
   two candidates (``compare_rerankers``, the gate's), under each source: ``judged`` (the 76 human
   queries), ``synthetic`` (checks only), and ``synthetic+bm25-filter`` (only the queries whose
   source document BM25 ranks in its top 20: the round-trip filter that favours BM25), and with
   ``--llm-judge`` ``llm_judge`` (the judge grades the pooled top ``--judge-depth`` of every system
   for the human queries, UMBRELA prompt; grades cached in the cache folder).
4. Kendall's tau of each source's ordering against the human one, and, for each trained candidate,
   whether the product's gate (``compare_rerankers`` and ``gate.decide_reranker``, as the
   pipeline runs them: beats BM25, beats the untrained model on the same footing, margin, paired
   test and ``--min-queries``; under synthetic judgments ``--untrained-bias`` comes off the gain
   over the untrained model first) calls each baseline under each source as under human judgments;
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

from synthir.data import Qrels, load_collection
from synthir.flow import training as training_stages
from synthir.flow import validation
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, make_backend
from synthir.generation.backends import LocalGenerator
from synthir.judgments.config import SyntheticJudgmentsConfig
from synthir.judgments.synthetic import hold_out, synthetic_judgments
from synthir.lifecycle import gate
from synthir.lifecycle.gate import compare_rerankers
from synthir.models import resolve_model
from synthir.quality import ChecksConfig
from synthir.retrieval import BM25Index
from synthir.retrieval.reranker import Reranker
from synthir.runtime import default_cache_dir
from synthir.training import RerankerTrainingConfig
from synthir.training.triples import Triples

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
CANDIDATES = ("trained", "trained-fused", "broken", "broken-fused")


def shuffled(triples: Triples, seed: int) -> Triples:
    """Queries paired with another query's documents: training on noise."""
    frame = triples.frame.copy()
    order = np.random.default_rng(seed).permutation(len(frame))
    frame[["query_id", "query"]] = frame[["query_id", "query"]].to_numpy()[order]
    return Triples(frame, corpus_fingerprint=triples.corpus_fingerprint)


def compare(corpus, queries, qrels, model, untrained, footing: str, args, source: str, judge=None):
    """The product's comparison of one candidate under one source (``compare_rerankers``: the candidate
    alone or fused at ``--fusion-weight``, against BM25 and the untrained model on the same footing, the
    synthetic bias taken off under synthetic judgments; ``judge`` grades its pooled runs)."""
    return compare_rerankers(corpus, queries, qrels, model, untrained, None, depth=100,
                             fusion_weight=args.fusion_weight if footing == "fused" else None, source=source,
                             judge=judge, untrained_bias=args.untrained_bias if source.startswith("synthetic") else 0.0)[0]


def gate_calls(comparison, args) -> dict[str, bool]:
    """The product's gate (``gate.decide_reranker``) on one comparison: its verdicts and the decision."""
    decision = gate.decide_reranker(comparison, args.margin, args.alpha, args.min_queries,
                                    allow_weak_gate=args.min_queries < 20)
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
    parser.add_argument("--held-out", type=int, default=200, help="documents held out for synthetic judgments")
    parser.add_argument("--eval-generator", default="package:gemma3-270m")
    parser.add_argument("--eval-prompt", default="inpars", help="the evaluation generator's prompt (inpars, inpars-gbq, a file)")
    parser.add_argument("--train-docs", type=int, default=None, help="training documents that get a query (default: all)")
    parser.add_argument("--loss", default=RerankerTrainingConfig.model_fields["loss"].default,
                        help="the bi-encoder loss (training.loss; default: the config's default)")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--fusion-weight", type=float, default=0.7)
    parser.add_argument("--margin", type=float, default=0.005)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--min-queries", type=int, default=30)
    parser.add_argument("--untrained-bias", type=float, default=SyntheticJudgmentsConfig.model_fields["untrained_bias"].default,
                        help="taken off the gain over the untrained model under synthetic judgments "
                             "(evaluation.synthetic.untrained_bias; default: the config's)")
    parser.add_argument("--checkpoint-root", default=str(default_cache_dir() / "generation"))
    parser.add_argument("--llm-judge", help="a judge model (package:..., hf:..., a folder): adds the llm_judge source")
    parser.add_argument("--judge-depth", type=int, default=5)
    parser.add_argument("--work", help="folder for the trained models; reused when they are there")
    parser.add_argument("--skip-broken", action="store_true",
                        help="leave out the broken control (saves its training; tau is then over 5 systems)")
    parser.add_argument("--max-steps", type=int, default=-1, help="training steps, over --epochs (a smoke run)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    collection = load_collection(args.collection)
    corpus = collection.corpus
    config = SyntheticJudgmentsConfig(held_out_documents=args.held_out, max_held_out_fraction=0.2,
                                      generator=LocalGenerator(model=args.eval_generator, batch_size=8),
                                      prompt=args.eval_prompt)
    training_corpus, held = hold_out(corpus, config)
    judgments = synthetic_judgments(held, config, checkpoint_root=args.checkpoint_root)
    eval_seconds = time.perf_counter() - started

    backend = make_backend(LocalGenerator(model="package:smollm2-135m-instruct", batch_size=8))
    generated = generate_queries(training_corpus, backend, load_prompt("inpars", num_examples=2),
                                 QueryGenerationConfig(max_generations=args.train_docs, max_new_tokens=48),
                                 checkpoint_root=args.checkpoint_root).queries
    del backend
    checked = validation.check_synthetic_queries(generated, training_corpus, ChecksConfig())
    filtered = validation.filter_synthetic_queries(checked.checked, training_corpus, checked.report,
                                                   [{"name": "scores", "keep": 0.8}]).filtered
    triples = training_stages.build_training_triples(filtered, training_corpus, negatives_per_query=1, depth=100,
                                                     seed=42).value
    training = RerankerTrainingConfig(model_type="bi-encoder", epochs=args.epochs, learning_rate=2e-5, batch_size=args.batch_size,
                                      max_length=256, save_steps=10_000, loss=args.loss, max_steps=args.max_steps)
    scorers = {"untrained": Reranker(resolve_model("package:all-minilm-l6-v2"), "bi-encoder")}
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="label-free-gate-"))
    train_started = time.perf_counter()
    # the flow's training (teacher included where the loss distils); the broken control on shuffled pairs
    model, triples = training_stages.train(triples, filtered, training_corpus, training, "label-free-gate",
                                           checkpoint_root=work / "trained")
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
                                                     args, source, judge if source == "llm_judge" else None)
                                    for footing in ("alone", "fused")}
                            for model in candidates}
                   for source, (queries, qrels) in sources.items()}
    per_source = {source: system_figures({model: by_footing["fused"] for model, by_footing in models.items()})
                  for source, models in comparisons.items()}

    print(f"{collection.name}: {len(corpus)} documents; {len(held)} held out; training generator SmolLM2-135M on "
          f"{args.train_docs or 'all'} of the rest -> {len(filtered)} filtered queries, {len(triples)} triples; "
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
    print_tables(sources, per_source, comparisons, candidates, args)

def print_tables(sources: dict, per_source: dict, comparisons: dict, candidates: list[str], args) -> None:
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
    print(f"\nThe product's gate (compare_rerankers + gate.decide_reranker: margin {args.margin}, paired "
          f"randomisation p < {args.alpha}, at least {args.min_queries} queries; under synthetic judgments "
          f"{args.untrained_bias} is taken off the gain over the untrained model): judged -> each source")
    print("| candidate | call | judged | " + " | ".join(list(sources)[1:]) + " |")
    print("|---" * (len(sources) + 2) + "|")
    wrong_promotions = {s: 0 for s in list(sources)[1:]}
    for candidate in CANDIDATES:
        model, footing = candidate.removesuffix("-fused"), "fused" if candidate.endswith("-fused") else "alone"
        if model not in candidates:
            continue
        calls = {s: gate_calls(comparisons[s][model][footing], args) for s in sources}
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
