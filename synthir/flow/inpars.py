"""``run_inpars``: the whole InPars flow in plain Python, the stages ``inpars_pipeline`` runs as steps."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from synthir.config import config_hash
from synthir.data import Corpus, Qrels, Queries
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import data, evaluation, generation, training, validation
from synthir.inpars_config import InParsConfig
from synthir.judgments.config import EvaluationConfig, llm_judge_queries, resolve_source
from synthir.lifecycle.gate import RerankerComparison
from synthir.quality import FilteredQueries, ValidationReport
from synthir.tracking import log_metrics, run_of_its_own
from synthir.training.artifacts import RerankerModel
from synthir.training.triples import Triples

logger = logging.getLogger(__name__)


@dataclass
class EvaluationSplit:
    """What training sees and what the gate evaluates on, for one source of truth."""

    training_corpus: Corpus
    corpus: Corpus
    queries: Queries
    qrels: Qrels


def evaluation_split(corpus: Corpus, queries: Queries, qrels: Qrels, source: str, config: EvaluationConfig,
                     collection: str, documents=None) -> EvaluationSplit:
    """judged (the collection's own), golden (another labelled collection), synthetic (held-out
    documents, queries by the evaluation generator; training never sees those documents), or
    llm_judge (the user's queries, or the held-out synthetic ones; the judge grades them later)."""
    if source == "golden":
        golden = data.load_collection(config.golden, split=config.golden_split, documents=documents)
        return EvaluationSplit(corpus, golden.corpus, golden.queries, golden.qrels)
    if source == "synthetic" or (source == "llm_judge" and llm_judge_queries(config, collection) == "synthetic"):
        held = evaluation.hold_out_documents(corpus, config.synthetic)
        judged = evaluation.write_synthetic_judgments(held.held_out, config.synthetic)
        return EvaluationSplit(held.training_corpus, corpus, judged.queries, judged.qrels)
    return EvaluationSplit(corpus, corpus, queries, qrels)


def load_for(collection: str, config: InParsConfig) -> data.LoadedCollection:
    """``collection`` loaded as ``config`` says (its documents prepared, the evaluation's queries file)."""
    return data.load_collection(collection, queries_file=config.evaluation.queries_file, documents=config.documents)


def split_for(loaded: data.LoadedCollection, collection: str, config: InParsConfig) -> tuple[str, EvaluationSplit]:
    """The evaluation's source of truth for ``collection`` and its split of the loaded collection."""
    source = resolve_source(config.evaluation, collection)
    return source, evaluation_split(loaded.corpus, loaded.queries, loaded.qrels, source, config.evaluation, collection,
                                    config.documents)


def pipeline_config_hash(config: InParsConfig) -> str:
    """The InPars config's hash: with the corpus fingerprint, what the retraining memory of refusals keys on."""
    return config_hash(config.model_dump(mode="json"))


@dataclass
class InParsResult:
    """Every stage's output of one InPars run, and the gate's decision."""

    corpus: Corpus  # the whole collection
    split: EvaluationSplit
    synthetic: SyntheticQueries
    check_report: ValidationReport
    filtered: FilteredQueries
    triples: Triples  # what training ran on (after the warm-start plan and the teacher)
    model: RerankerModel
    comparison: RerankerComparison
    decision: Any  # synthir.lifecycle.gate.PromotionDecision
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per stage
    data: dict[str, Any] = field(default_factory=dict)  # the data stage's figures (read, boilerplate, duplicates, passages)
    peak_rss_gb: dict[str, float] = field(default_factory=dict)  # peak resident memory when each stage ended


def run_inpars(collection: str, config: InParsConfig | dict | None = None, query_store: Any = None,
               on_registered=None) -> InParsResult:
    """Generation -> checks -> filters -> triples -> (warm start, teacher) -> training -> evaluation ->
    registration and the gate, on ``collection`` (any form ``synthir.data.load_collection`` takes),
    as ``inpars_pipeline`` runs them but without ZenML: figures go to the active MLflow run, else to a
    run of its own.
    ``query_store``: a ``synthir.generation.query_store.QueryStore`` (None: off, whatever
    ``config.query_store`` says, since its default location is the ZenML artifact store).
    ``config.generation_shards`` is ignored: shards are for orchestrators that run steps in parallel,
    and one call generates the same queries."""
    config = InParsConfig.from_dict(config)
    with run_of_its_own(f"inpars {collection}"):  # one MLflow run per flow run, as a pipeline run has
        clock = StageClock()
        with clock("load"):
            loaded = load_for(collection, config)
        return run_inpars_on(loaded, collection, config, query_store, on_registered, clock)


def run_inpars_on(loaded: data.LoadedCollection, collection: str, config: InParsConfig, query_store: Any = None,
                  on_registered=None, clock: StageClock | None = None) -> InParsResult:
    """``run_inpars``'s stages after loading, on a collection already loaded from ``collection`` (the
    retraining flow loads it once, for its check and for these)."""
    clock = clock or StageClock()
    with clock("evaluation_set"):
        source, split = split_for(loaded, collection, config)
    corpus = split.training_corpus
    program = None
    with clock("generation"):
        if config.optimise is not None:
            program = generation.optimise_query_program(corpus, config.generator, config.optimise.optimisation,
                                                        config.optimise.metric).program
        synthetic = generation.generate_synthetic_queries(
            corpus, prompt=config.prompt, num_examples=config.num_examples, examples_from=config.examples_from,
            generator=config.generator, max_generations=config.max_generations, seed=config.seed,
            decoding=config.decoding, query_program=program, dspy_program=config.dspy_program, dspy=config.dspy,
            store=query_store, budget=config.generation_budget).queries
    with clock("checks_and_filters"):
        checked = validation.check_synthetic_queries(synthetic, corpus, config.checks)
        validation.enforce_validation_policy(checked.report)
        filtered = validation.filter_synthetic_queries(checked.checked, corpus, checked.report, config.filters).filtered
    if config.expansion.enabled:
        with clock("expansion"):
            split = expand_split(split, config, source, query_store)
    trained = _train_and_gate(filtered, split, source, loaded.corpus, config, clock, on_registered)
    return InParsResult(loaded.corpus, split, synthetic, checked.report, filtered, *trained, clock.seconds,
                        loaded.metadata, clock.peak_rss_gb)


@dataclass
class TrainingResult:
    """The training flow's outputs (``run_training``): what it trained on, the model and the gate's decision."""

    corpus: Corpus  # the whole collection
    split: EvaluationSplit
    queries: SyntheticQueries  # the training queries (those of held-out documents dropped)
    triples: Triples
    model: RerankerModel
    comparison: RerankerComparison
    decision: Any  # synthir.lifecycle.gate.PromotionDecision
    seconds: dict[str, float] = field(default_factory=dict)


def run_training(collection: str, queries: SyntheticQueries, config: InParsConfig | dict | None = None,
                 on_registered=None) -> TrainingResult:
    """``training_pipeline`` without ZenML: triples from ``queries`` (already checked and filtered, e.g. an
    imported set or an earlier run's), training, the gate on ``config.evaluation``'s source of truth, and
    registration. Queries written for documents the evaluation holds out are dropped first; queries
    about documents ``collection`` does not have are refused. The generation, check and filter keys of
    ``config`` are not read."""
    config = InParsConfig.from_dict(config)
    with run_of_its_own(f"training {collection}"):
        clock = StageClock()
        with clock("load"):
            loaded = load_for(collection, config)
        with clock("evaluation_set"):
            source, split = split_for(loaded, collection, config)
        kept = training.keep_training_documents(queries, split.training_corpus, loaded.corpus).value
        trained = _train_and_gate(kept, split, source, loaded.corpus, config, clock, on_registered)
        return TrainingResult(loaded.corpus, split, kept, *trained, clock.seconds)


def _train_and_gate(queries: SyntheticQueries, split: EvaluationSplit, source: str, collection_corpus: Corpus,
                    config: InParsConfig, clock: StageClock, on_registered) -> tuple:
    """Triples -> (warm start, teacher) -> training -> evaluation -> registration and the gate: what
    ``run_inpars`` and ``run_training`` share. Returns (triples, model, comparison, decision)."""
    corpus = split.training_corpus
    with clock("triples"):
        triples = training.build_training_triples(queries, corpus, negatives_per_query=config.negatives_per_query,
                                                  depth=config.negative_depth, seed=config.seed,
                                                  **config.training.triples_options()).value
    with clock("training"):
        model, triples = training.train(triples, queries, corpus, config.training, config.registry_name,
                                        config.negative_depth)
    gate = config.evaluation
    with clock("evaluation"):
        comparison = evaluation.evaluate_rerankers(
            model, split.corpus, split.queries, split.qrels, queries, depth=config.rerank_depth,
            fusion_weight=config.fusion_weight, seed=config.seed, registry_name=config.registry_name,
            exclude_query_ids=list(config.exclude_query_ids), source=source, significance_test=gate.significance_test,
            llm_judge=gate.llm_judge if source == "llm_judge" else None,
            untrained_bias=gate.synthetic.untrained_bias if source == "synthetic" else 0.0,
            calibration=gate.calibration if source == "synthetic" else None, alpha=gate.alpha).comparison
    with clock("registration"):
        decision = evaluation.register_reranker(
            model, comparison, registry_name=config.registry_name, margin=config.promotion_margin, alpha=gate.alpha,
            min_queries=gate.min_queries, allow_weak_gate=gate.allow_weak_gate, collection_corpus=collection_corpus,
            pipeline_config_hash=pipeline_config_hash(config), on_registered=on_registered).decision
    log_metrics(clock.seconds, prefix="flow.seconds.")
    log_metrics(clock.peak_rss_gb, prefix="flow.peak_rss_gb.")
    return triples, model, comparison, decision


def expand_split(split: EvaluationSplit, config: InParsConfig, source: str, query_store: Any = None) -> EvaluationSplit:
    """``generation.expand_corpora`` on the training and evaluation corpora (a golden collection is its own)."""
    expanded = generation.expand_corpora(
        split.training_corpus, split.corpus, separate=source == "golden", expansion=config.expansion, prompt=config.prompt,
        num_examples=config.num_examples, examples_from=config.examples_from, generator=config.generator,
        decoding=config.decoding, seed=config.seed, store=query_store)
    return replace(split, training_corpus=expanded.training_corpus, corpus=expanded.evaluation_corpus)


class StageClock:
    """Wall time per stage (``with clock("training"): ...``) and the process's peak resident memory
    when each stage ended (the stage that raised it is where to look), for the log, MLflow and benchmarks."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.peak_rss_gb: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started
            self.peak_rss_gb[stage] = peak_rss_gb()
            logger.info("stage %s: %.1f s (peak resident memory so far %.2f GB)", stage, self.seconds[stage],
                        self.peak_rss_gb[stage])


def peak_rss_gb() -> float:
    """This process's peak resident memory so far, in GB (Linux reports KB, macOS bytes)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 ** 3 if sys.platform == "darwin" else 1024 ** 2)
