"""Does the synthetic data count? Training recipes against the untrained model on CISI (an ablation).

    python benchmarks/reranker_quality.py [--recipes all-mnrl-margin-mse,all-mnrl-margin-mse-mined,...] [--held-out 200]
        [--interpolate 0.5,0.75] [--work DIR] [--collection DIR]

1. A seeded 200 documents are held out of everything training sees; Gemma-3-270M writes a query for
   each, the checks keep the well-formed ones, and each query's source document is its relevant one:
   the label-free **dev** set (``synthetic`` judgments of the gate). It chooses the fusion weight
   (on the untrained model, then the same weight for every system) and nothing else; the 76 judged
   CISI queries are the **test** set and choose nothing.
2. SmolLM2-135M writes queries for the other documents (2-shot InPars prompt): one greedy query per
   document, for the ``multi`` recipes 3 sampled ones (temperature 0.7); for the ``gemma`` recipes
   Gemma-3-270M writes them instead, and for the ``cpo`` ones SmolLM2 after CPO on label-free preferences
   (``tune_generator``; its time counts as generation). Each kind (``QUERY_KINDS``) writes for as many
   documents as its recipes ask.
   Generation is resumable: ``--checkpoint-root`` keeps the shards and a query store, so a second run
   skips it, and one that asks for more documents generates only the new ones.
3. Each recipe trains all-MiniLM-L6-v2 (1 epoch, batch 32, lr 2e-5, max length 256) on its queries
   after the checks and the scores filter (top 80% by log-probability), BM25 negatives from the
   training documents (positives excluded).
   Each recipe is an ``inpars:`` config in the product's typed schema (``Recipe.config``), run through
   the flow's stage functions (``synthir.flow``: checks, filters, triples, teacher, training).
4. The product's comparison (``compare_rerankers``): BM25 top 100 re-scored by the untrained model
   and by each trained one, alone and fused with BM25; nDCG@10 on dev and test, the gain over the
   untrained model on the same footing and its paired randomisation p-value on test. One row per
   recipe, and with ``--interpolate`` one more per WiSE-FT share: the trained weights interpolated
   towards the untrained ones, which keeps what the base model knows where fine-tuning on few
   synthetic queries would overwrite it.
Target (issue 20): trained alone >= untrained alone + 0.02, and trained fused >= untrained fused + 0.02,
on test. Reference figures: BM25 0.358, untrained all-MiniLM-L6-v2 re-scoring 0.433.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from synthir.data import Corpus, load_collection
from synthir.flow import generation, validation
from synthir.flow import training as training_stages
from synthir.generation import QueryGenerationConfig, generate_queries, load_prompt, make_backend
from synthir.generation.backends import LocalGenerator
from synthir.generation.query_store import QueryStore
from synthir.inpars_config import InParsConfig
from synthir.judgments.config import SyntheticJudgmentsConfig
from synthir.judgments.synthetic import hold_out, synthetic_judgments
from synthir.lifecycle.gate import compare_rerankers
from synthir.models import resolve_model
from synthir.quality import ChecksConfig, check_queries
from synthir.retrieval import BM25Index
from synthir.retrieval.rerank import rerank, tune_fusion_weight
from synthir.retrieval.reranker import Reranker
from synthir.runtime import default_cache_dir

DEFAULT_COLLECTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "cisi"
HEADLINE = "nDCG@10"


# Every recipe trains with these, then its own ``training`` over them (RerankerTrainingConfig fields).
BASE_TRAINING = {"model_type": "bi-encoder", "epochs": 1, "batch_size": 32, "learning_rate": 2e-5, "max_length": 256,
                 "save_steps": 10_000}


@dataclass
class Recipe:
    description: str
    documents: int | None = None  # training documents that get queries; None: all of them
    queries: str = "greedy"  # a key of QUERY_KINDS: who writes the training queries, and how
    training: dict = field(default_factory=dict)  # RerankerTrainingConfig fields over BASE_TRAINING
    filters: list = field(default_factory=lambda: [{"name": "scores", "keep": 0.8}])
    expansion: dict = field(default_factory=dict)  # inpars.expansion (ExpansionConfig): the first stage's documents


    def config(self) -> InParsConfig:
        """The recipe in the product's typed schema (``inpars:``), checked like a pipeline config."""
        return InParsConfig.from_dict({"max_generations": self.documents, "filters": self.filters, "seed": 42,
                                       "negatives_per_query": 1, "negative_depth": 100, "expansion": self.expansion,
                                       "training": {**BASE_TRAINING, **self.training}})


SMOLLM2, GEMMA = "package:smollm2-135m-instruct", "package:gemma3-270m"
MPNET = "package:all-mpnet-base-v2"
CPO_TUNED = "cpo-tuned SmolLM2-135M"  # built by tune_generator (InPars+), in --work
QUERY_KINDS = {  # name: (training generator, decoding over QueryGenerationConfig's defaults)
    "greedy": (SMOLLM2, {}),  # one query per document
    "multi": (SMOLLM2, {"queries_per_doc": 3, "do_sample": True, "temperature": 0.7}),  # 3 sampled per document
    # the generator as a lever; the dev queries are Gemma's too, so read this row's test columns, not its dev ones
    "gemma": (GEMMA, {}),
    "cpo": (CPO_TUNED, {}),  # its preferences read the "multi" queries of the same documents
}

RECIPES = {
    "sample-600": Recipe("600 documents, 1 query each, MNRL + BM25 negatives (the quickstart's recipe)", documents=600),
    "all": Recipe("every training document, 1 query each, MNRL"),
    "all-margin-mse": Recipe("every training document, MarginMSE from the base model fused with BM25",
                             training={"loss": "margin_mse"}),
    "all-mnrl-margin-mse": Recipe("every training document, MNRL plus 10 x MarginMSE from the fused teacher",
                                  training={"loss": "mnrl_margin_mse"}),
    "all-mnrl-margin-mse-unfiltered": Recipe("as all-mnrl-margin-mse, every query the checks keep (no scores filter)",
                                             training={"loss": "mnrl_margin_mse"}, filters=[]),
    "all-mnrl-margin-mse-2ep": Recipe("as all-mnrl-margin-mse, 2 epochs", training={"loss": "mnrl_margin_mse", "epochs": 2}),
    "all-gist": Recipe("every training document, GISTEmbed guided by the base model", training={"loss": "gist"}),
    "multi": Recipe("every training document, 3 sampled queries each, MNRL", queries="multi"),
    "multi-margin-mse": Recipe("every training document, 3 sampled queries each, MarginMSE", queries="multi",
                               training={"loss": "margin_mse"}),
    "all-margin-mse-3ep": Recipe("as all-margin-mse, 3 epochs", training={"loss": "margin_mse", "epochs": 3}),
    "sample-300-mnrl-margin-mse": Recipe("300 documents, 1 query each, MNRL + MarginMSE (the query-count curve)",
                                         documents=300, training={"loss": "mnrl_margin_mse"}),
    "sample-600-mnrl-margin-mse": Recipe("600 documents, 1 query each, MNRL + MarginMSE (the query-count curve)",
                                         documents=600, training={"loss": "mnrl_margin_mse"}),
    "all-mnrl-margin-mse-dev": Recipe("as all-mnrl-margin-mse, up to 2 epochs: 10% of the documents' queries are a dev "
                                      "split, evaluated each epoch; ends on the best epoch",
                                      training={"loss": "mnrl_margin_mse", "epochs": 2, "dev_fraction": 0.1,
                                                "early_stopping_patience": 1}),
    "all-mnrl-margin-mse-mined": Recipe("as all-mnrl-margin-mse, negatives mined by the untrained model "
                                        "(mine_hard_negatives, its top 100, 5% relative margin)",
                                        training={"loss": "mnrl_margin_mse", "negative_miner": "base_model"}),
    "all-mnrl-margin-mse-mined-2ep": Recipe("as all-mnrl-margin-mse-mined, 2 epochs",
                                            training={"loss": "mnrl_margin_mse", "negative_miner": "base_model",
                                                      "epochs": 2}),
    "all-mnrl-margin-mse-mined-dev": Recipe("as all-mnrl-margin-mse-mined, up to 2 epochs chosen on a 10% dev split",
                                            training={"loss": "mnrl_margin_mse", "negative_miner": "base_model",
                                                      "epochs": 2, "dev_fraction": 0.1, "early_stopping_patience": 1}),
    "gemma-mnrl-margin-mse": Recipe("as all-mnrl-margin-mse, queries written by Gemma-3-270M (base) instead of SmolLM2",
                                    queries="gemma", training={"loss": "mnrl_margin_mse"}),
    "multi-300-mnrl-margin-mse": Recipe("300 documents, 3 sampled queries each, MNRL + MarginMSE (diversity against "
                                        "coverage: 3x sample-300's queries, 70% of all-mnrl-margin-mse's)", documents=300,
                                        queries="multi", training={"loss": "mnrl_margin_mse"}),
    "cpo-300-mnrl-margin-mse": Recipe("as sample-300-mnrl-margin-mse, queries written by SmolLM2 after CPO on label-free "
                                      "preferences over the same 300 documents (tune_generator)", documents=300,
                                      queries="cpo", training={"loss": "mnrl_margin_mse"}),
    "all-mnrl-margin-mse-ql": Recipe("as all-mnrl-margin-mse, SmolLM2's query likelihood fused into the teacher at "
                                     "half over each query's top 10 and triple documents (UPR; "
                                     "teacher_likelihood_model)",
                                     training={"loss": "mnrl_margin_mse", "teacher_likelihood_model": SMOLLM2}),
    "all-mnrl-margin-mse-ql-2ep": Recipe("as all-mnrl-margin-mse-ql, 2 epochs",
                                         training={"loss": "mnrl_margin_mse", "teacher_likelihood_model": SMOLLM2,
                                                   "epochs": 2}),
    "all-mnrl-margin-mse-mined-ql": Recipe("as all-mnrl-margin-mse-mined, SmolLM2's query likelihood fused into the "
                                           "teacher as in all-mnrl-margin-mse-ql",
                                           training={"loss": "mnrl_margin_mse", "negative_miner": "base_model",
                                                     "teacher_likelihood_model": SMOLLM2}),
    "all-mnrl-margin-mse-ensemble": Recipe("as all-mnrl-margin-mse, the teacher an ensemble: all-MiniLM-L6-v2 and "
                                           "all-mpnet-base-v2 averaged (min-max per query), then fused with BM25 "
                                           "(training.teacher_encoders)",
                                           training={"loss": "mnrl_margin_mse", "teacher_encoders": [MPNET]}),
    "all-mnrl-margin-mse-ensemble-2ep": Recipe("as all-mnrl-margin-mse-ensemble, 2 epochs",
                                               training={"loss": "mnrl_margin_mse", "teacher_encoders": [MPNET],
                                                         "epochs": 2}),
    "all-mnrl-margin-mse-expanded": Recipe("as all-mnrl-margin-mse, every document expanded for BM25 with its kept "
                                           "SmolLM2 query (Doc2Query--: 1 greedy query per document, the 30% least "
                                           "similar to their document by MiniLM dropped; inpars.expansion)",
                                           training={"loss": "mnrl_margin_mse"},
                                           expansion={"enabled": True, "queries_per_document": 1, "keep": 0.7}),
    "all-mnrl-margin-mse-expanded-3": Recipe("as all-mnrl-margin-mse-expanded, 3 sampled queries per document "
                                             "(temperature 1.0), the 30% least similar dropped",
                                             training={"loss": "mnrl_margin_mse"},
                                             expansion={"enabled": True, "queries_per_document": 3, "keep": 0.7}),
    "multi-mnrl-margin-mse": Recipe("every training document, 3 sampled queries each, MNRL + MarginMSE", queries="multi",
                                    training={"loss": "mnrl_margin_mse"}),
}
DEFAULT_RECIPES = "sample-300-mnrl-margin-mse,sample-600-mnrl-margin-mse,all-mnrl-margin-mse,all-mnrl-margin-mse-mined"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", default=str(DEFAULT_COLLECTION))
    parser.add_argument("--recipes", default=DEFAULT_RECIPES, help=f"comma-separated, of: {', '.join(RECIPES)}")
    parser.add_argument("--held-out", type=int, default=200, help="documents held out for the label-free dev set")
    parser.add_argument("--checkpoint-root", default=str(default_cache_dir() / "generation"))
    parser.add_argument("--work", default=str(default_cache_dir() / "benchmarks" / "reranker_quality"),
                        help="trained models are kept here and reused by a second run")
    parser.add_argument("--interpolate", default="",
                        help="comma-separated shares a in (0, 1): each recipe also gets a row per WiSE-FT merge, the "
                             "weights a * trained + (1 - a) * untrained (Wortsman et al. 2022)")
    parser.add_argument("--documents", type=int, help="at most this many training documents per recipe (a smoke run)")
    parser.add_argument("--max-steps", type=int, help="training steps per recipe, over the recipes' epochs (a smoke run)")
    args = parser.parse_args(argv)
    shares = [float(a) for a in args.interpolate.split(",") if a]
    if any(not 0 < a < 1 for a in shares):
        parser.error(f"--interpolate: each share must be in (0, 1), got {shares}")
    names = [n for n in args.recipes.split(",") if n]
    unknown = [n for n in names if n not in RECIPES]
    if unknown:
        parser.error(f"--recipes: unknown {unknown}; choose from {list(RECIPES)}")
    recipes = {name: _smoke(RECIPES[name], args.documents, args.max_steps) for name in names}

    started = time.perf_counter()
    collection = load_collection(args.collection)
    corpus = collection.corpus
    dev_config = SyntheticJudgmentsConfig(held_out_documents=args.held_out, max_held_out_fraction=0.2,
                                          generator=LocalGenerator(model=GEMMA, batch_size=8))
    training_corpus, held = hold_out(corpus, dev_config)
    dev = synthetic_judgments(held, dev_config, checkpoint_root=args.checkpoint_root)

    # each kind generates for the most documents one of its recipes asks for (None: all); the query store
    # keeps them by document content, so a later run that asks for more generates only the rest
    needs: dict[str, int | None] = {}
    for recipe in recipes.values():
        needs[recipe.queries] = _most_documents(needs.get(recipe.queries, 0), recipe.documents)
    if "cpo" in needs:  # the CPO generator's references are the sampled queries of the documents it writes for
        needs["multi"] = _most_documents(needs.get("multi", 0), needs["cpo"])
    generated, seconds = {}, {}
    template = load_prompt("inpars", num_examples=2)
    store = QueryStore(str(Path(args.checkpoint_root) / "store"))
    for kind, documents in sorted(needs.items(), key=lambda item: item[0] == "cpo"):  # one generator in memory at a time
        model, decoding = QUERY_KINDS[kind]
        t0 = time.perf_counter()
        if model == CPO_TUNED:
            model = tune_generator(training_corpus, generated["multi"], documents, template, Path(args.work) / "cpo",
                                   args.checkpoint_root)
        backend = make_backend(LocalGenerator(model=model, batch_size=8))
        generated[kind] = generate_queries(training_corpus, backend, template,
                                           QueryGenerationConfig(max_generations=documents, max_new_tokens=48, **decoding),
                                           checkpoint_root=args.checkpoint_root, store=store).queries
        seconds[kind] = time.perf_counter() - t0
        del backend

    test_queries = collection.judged_queries()
    sets = {"dev": (dev.queries, dev.qrels, "synthetic"), "test": (test_queries, collection.qrels, "judged")}
    untrained = Reranker(resolve_model("package:all-minilm-l6-v2"), "bi-encoder")
    dev_bm25 = BM25Index.build(corpus).search(dev.queries, k=1000, show_progress=False)
    weight, _ = tune_fusion_weight(rerank(dev_bm25, dev.queries, corpus, untrained, depth=100), dev_bm25, dev.qrels)

    expanded: dict[str, Corpus] = {}  # ExpansionConfig as JSON -> the corpus with its expansions

    def first_stage(config: InParsConfig) -> Corpus:
        """The corpus BM25 indexes for ``config``: with the product's expansions (``expand_documents``,
        SmolLM2 as the training generator; kept in the query store) when ``inpars.expansion`` is on."""
        if not config.expansion.enabled:
            return corpus
        key = config.expansion.model_dump_json()
        if key not in expanded:
            expanded[key] = generation.expand_documents(
                corpus, expansion=config.expansion, prompt="inpars", num_examples=2,
                generator=LocalGenerator(model=SMOLLM2, batch_size=8), decoding={"max_new_tokens": 48}, seed=42,
                store=store).corpus
        return expanded[key]

    def score(model_dir, corpus: Corpus = corpus):
        """The product's comparison (``compare_rerankers``) of a trained model with the untrained one on
        dev and test, alone and fused at the dev-chosen weight, over ``corpus``'s BM25 top 100."""
        scorer = Reranker(model_dir)
        return {split: {footing: compare_rerankers(corpus, queries, qrels, scorer, untrained, depth=100, seed=42,
                                                   fusion_weight=weight if footing == "fused" else None, source=source)[0]
                        for footing in ("alone", "fused")}
                for split, (queries, qrels, source) in sets.items()}

    rows = []
    for name in names:
        recipe = recipes[name]
        config = recipe.config()
        evaluation_corpus = first_stage(config)
        training_documents = training_corpus.with_expansions(evaluation_corpus.expansions)
        queries = _of_documents(generated[recipe.queries], training_documents, recipe.documents)
        checked = validation.check_synthetic_queries(queries, training_documents, config.checks)
        filtered = validation.filter_synthetic_queries(checked.checked, training_documents, checked.report,
                                                       config.filters).filtered
        t0 = time.perf_counter()
        triples = training_stages.build_training_triples(filtered, training_documents, config.negatives_per_query,
                                                         config.negative_depth, config.seed,
                                                         **config.training.triples_options()).value
        model, triples = training_stages.train(triples, filtered, training_documents, config.training,
                                               "reranker-quality", config.negative_depth,
                                               checkpoint_root=Path(args.work) / name)
        train_seconds = time.perf_counter() - t0
        rows.append((name, recipe, len(filtered), len(triples), train_seconds, score(model.model_dir, evaluation_corpus),
                     model.training))
        for share in shares:
            merged = interpolate(model.model_dir, resolve_model("package:all-minilm-l6-v2"), share,
                                 Path(args.work) / f"{name}-wise-{share}")
            rows.append((f"{name}, WiSE-FT {share}", recipe, len(filtered), len(triples), train_seconds,
                         score(merged, evaluation_corpus), {}))

    elapsed = time.perf_counter() - started
    print(f"{collection.name}: {len(corpus)} documents, {len(held)} held out -> {len(dev.queries)} dev queries "
          f"(Gemma-3-270M); {len(test_queries)} judged test queries")
    print("generation (resumed from checkpoints when present): "
          + ", ".join(f"{k} ({QUERY_KINDS[k][0]}) {len(generated[k])} queries in {seconds[k]:.0f} s" for k in generated))
    print(f"fusion weight {weight:.1f}, chosen on dev for the untrained model; the same for every system")
    print(f"total {elapsed:.0f} s\n")
    print("Gains are over the untrained model on the same first stage (an expanded recipe: its expanded BM25).")
    print("| recipe | queries | triples | train s | test bm25 | dev alone | dev fused | test alone | gain | p | test fused | "
          "gain | p |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    untrained_rows = {}  # one untrained row per first stage (plain, each expansion)
    for name, recipe, *_, figures, _ in rows:
        label = "untrained" + (f", BM25 expanded as {name}" if recipe.expansion.get("enabled") else "")
        untrained_rows.setdefault(json.dumps(recipe.expansion, sort_keys=True), (label, figures))
    for label, figures in untrained_rows.values():
        untrained_figure = {(split, footing): figures[split][footing].baselines["untrained"].figure
                            for split in sets for footing in ("alone", "fused")}
        print(f"| {label} | | | | {figures['test']['alone'].bm25:.4f} | {untrained_figure['dev', 'alone']:.4f} | "
              f"{untrained_figure['dev', 'fused']:.4f} | {untrained_figure['test', 'alone']:.4f} | | | "
              f"{untrained_figure['test', 'fused']:.4f} | | |")
    for name, recipe, queries, triples, train_seconds, figures, _ in rows:
        cells = []
        for footing in ("alone", "fused"):
            comparison = figures["test"][footing]
            untrained_baseline = comparison.baselines["untrained"]
            cells.append(f"{comparison.candidate:.4f} | {comparison.candidate - untrained_baseline.figure:+.4f} | "
                         f"{untrained_baseline.p_value:.3g}")
        print(f"| {name} | {queries} | {triples} | {train_seconds:.0f} | {figures['test']['alone'].bm25:.4f} | "
              f"{figures['dev']['alone'].candidate:.4f} | "
              f"{figures['dev']['fused'].candidate:.4f} | " + " | ".join(cells) + " |")
    print()
    for name in names:
        print(f"- {name}: {RECIPES[name].description}")
    if shares:
        print("- WiSE-FT a: the recipe's model with its weights interpolated towards the untrained model's "
              "(a * trained + (1 - a) * untrained), no further training")
    for name, *_, figures in rows:
        if "dev_best_step" in figures:  # model selection on the training generator's dev split (training.dev_fraction)
            print(f"- {name} dev split nDCG@10: start {figures['dev_start_ndcg_at_10']:.4f}, best "
                  f"{figures['dev_best_ndcg_at_10']:.4f}, ended on step {figures['dev_best_step']:.0f}")


def interpolate(trained: Path, base: Path, share: float, out: Path) -> Path:
    """WiSE-FT (Wortsman et al. 2022): the weights ``share * trained + (1 - share) * base``, saved to ``out`` with
    the trained folder's reranker marker (written last: a folder with it is complete, and reused)."""
    from sentence_transformers import SentenceTransformer

    from synthir.models import RERANKER_MARKER

    if not (out / RERANKER_MARKER).exists():
        model = SentenceTransformer(str(trained), device="cpu")
        untrained = SentenceTransformer(str(base), device="cpu").state_dict()
        model.load_state_dict({key: share * value + (1 - share) * untrained[key] if value.is_floating_point() else value
                               for key, value in model.state_dict().items()})
        model.save(str(out))
        shutil.copy(Path(trained) / RERANKER_MARKER, out / RERANKER_MARKER)
    return out


def tune_generator(corpus, sampled, documents, template, work: Path, checkpoint_root) -> str:
    """SmolLM2-135M tuned with CPO + LoRA (the project's InPars+ recipe with configs/cpo/default.yaml's settings,
    but 1 epoch, not 2), with no labels: for 64 of the documents, the first sampled SmolLM2 query is the
    reference, Gemma-3-270M the teacher, SmolLM2 (greedy) the student; QueryEval scores the three and the
    ALMA rule picks chosen and rejected.
    Returns the merged model's folder (kept in ``work`` and reused by a second run)."""
    from synthir.cpo import PreferenceConfig, QueryEvalConfig, QueryEvalScorer, build_preference_pairs
    from synthir.cpo.config import CPOTrainingConfig
    from synthir.cpo.training import train_generator

    if (work / "model" / "config.json").exists():
        return str(work / "model")
    ours = _of_documents(sampled, corpus, documents)
    references = dataclasses.replace(ours, queries=[q for q in ours if q.extra.get("index", 0) == 0])
    references, _, _ = check_queries(references, ChecksConfig())
    pairs = build_preference_pairs(corpus, references, lambda: make_backend(LocalGenerator(model=GEMMA, batch_size=8)),
                                   lambda: make_backend(LocalGenerator(model=SMOLLM2, batch_size=8)), template,
                                   QueryEvalScorer(corpus, QueryEvalConfig()),
                                   PreferenceConfig(max_references=64, max_new_tokens=48),
                                   checkpoint_root=Path(checkpoint_root) / "preferences")
    # 1 epoch over 64 references: a CPO step (4 pairs, LoRA, fp32) takes about 37 s on 2 cores, so the
    # 2 epochs over every document's reference (146 steps) would take 90 minutes
    config = CPOTrainingConfig(learning_rate=1e-4, epochs=1, batch_size=4, save="merged")
    result = train_generator(pairs, config, work)
    print(f"CPO: {len(references)} references -> {len(pairs)} preference pairs ({pairs.figures}); {result.steps} steps, "
          f"final loss {result.losses[-1]:.3f}, adapter norm {result.adapter_norm:.4f}")
    return str(result.model_dir)


def _smoke(recipe: Recipe, documents: int | None, max_steps: int | None) -> Recipe:
    """The recipe capped at ``documents`` training documents and ``max_steps`` steps (None: as it is)."""
    if documents is not None:
        recipe = dataclasses.replace(recipe, documents=documents if recipe.documents is None else min(recipe.documents, documents))
    if max_steps is not None:
        recipe = dataclasses.replace(recipe, training={**recipe.training, "max_steps": max_steps})
    return recipe


def _most_documents(a: int | None, b: int | None) -> int | None:
    """The larger of two document counts, where None (every document) is the largest."""
    return None if None in (a, b) else max(a, b)


def _of_documents(queries, corpus, count: int | None):
    """``queries`` restricted to the first ``count`` documents of the seeded sample, as ``max_generations``
    takes them (None: every document)."""
    from synthir.generation.generate import sample_documents

    if count is None:
        return queries
    chosen = {d.doc_id for d in sample_documents(corpus, count, seed=42).documents}
    return dataclasses.replace(queries, queries=[q for q in queries if q.doc_id in chosen])


if __name__ == "__main__":
    main()
