"""Triples, the warm-start plan, the teacher and training (the training steps' twins)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, NamedTuple, Optional

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.flow.stage import Staged
from synthir.runtime import default_cache_dir
from synthir.tracking import log_metrics, log_params, set_tags
from synthir.training import NegativeMiner, Triples, build_triples
from synthir.training.artifacts import RerankerModel
from synthir.training.config import RerankerTrainingConfig, training_run_key

logger = logging.getLogger(__name__)


def build_training_triples(
    queries: SyntheticQueries, corpus: Corpus, negatives_per_query: int = 1, depth: int = 100, seed: int = 42,
    dev_fraction: float = 0.0, dev_depth: int = 20, negative_miner: str = "bm25", negative_skip: int = 0,
    negative_margin: float = 0.05, miner_model: str = "package:all-minilm-l6-v2",
) -> Staged:
    """(query, positive, negative) with negatives from BM25 top ``depth`` (or mined by ``miner_model``),
    positives excluded; with ``dev_fraction``, that share of the documents' queries is the dev set
    instead. The last six parameters are ``RerankerTrainingConfig.triples_options()``."""
    miner = NegativeMiner.configured(negative_miner, negative_skip, negative_margin, miner_model)
    triples = build_triples(queries, corpus, negatives_per_query=negatives_per_query, depth=depth, seed=seed,
                            dev_fraction=dev_fraction, dev_depth=dev_depth, miner=miner)
    require_output("build_training_triples", len(triples), len(queries), "triples",
                   f"no query had a {'mined' if miner else 'BM25'} negative within depth {depth}")
    dev_queries = 0 if triples.dev is None else int(triples.dev["query_id"].nunique())
    log_params({"negatives_per_query": negatives_per_query, "negative_depth": depth, "seed": seed,
                "dev_fraction": dev_fraction, "dev_depth": dev_depth, "negative_miner": negative_miner,
                "negative_skip": negative_skip, "negative_margin": negative_margin}, prefix="triples.")
    log_metrics({"triples": len(triples), "queries": len(queries), "dev_queries": dev_queries}, prefix="triples.")
    return Staged(triples, {"triples": len(triples), "dev_queries": dev_queries})


def keep_training_documents(queries: SyntheticQueries, training_corpus: Corpus, collection_corpus: Corpus) -> Staged:
    """Drop the queries written for documents held out for evaluation (queries generated before the
    hold-out, e.g. an earlier run's artifact): a held-out document is never a positive. Queries
    written for another collection (documents not in ``collection_corpus``) are refused."""
    from dataclasses import replace

    queries.require_documents_in(collection_corpus)
    kept = [q for q in queries if q.doc_id in training_corpus]
    dropped = len(queries) - len(kept)
    if dropped:
        logger.warning("Dropped %d of %d training queries whose document is held out for evaluation (first: %s)",
                       dropped, len(queries), [q.doc_id for q in queries if q.doc_id not in training_corpus][:5])
    return Staged(replace(queries, queries=kept), {"dropped_held_out": dropped, "kept": len(kept)})


class WarmStart(NamedTuple):
    triples: Triples
    init_model: str
    metadata: dict[str, Any]


def plan_warm_start(triples: Triples, corpus: Corpus, training: RerankerTrainingConfig,
                    registry_name: str = "inpars-reranker") -> WarmStart:
    """``training.init_from: production``: the production version to fine-tune (pinned by number)
    and the triples about new or changed documents plus a replayed sample of the others."""
    from synthir.warm_start import plan_warm_start as plan

    result = plan(triples, corpus, RerankerTrainingConfig.from_dict(training), registry_name)
    logger.info("Warm start: %s", result.reason)
    log_metrics(result.figures, prefix="warm_start.")
    set_tags({"warm_start.init_model": result.init_model, "warm_start.reason": result.reason})
    return WarmStart(result.triples, result.init_model,
                     {**result.figures, "init_model": result.init_model, "reason": result.reason})


def add_teacher_margins(triples: Triples, corpus: Corpus, training: RerankerTrainingConfig, depth: int = 100) -> Staged:
    """``training.loss: margin_mse | mnrl_margin_mse``: each triple labelled with the margin of the teacher
    (the untrained base model fused with BM25, ``training.teacher_weight``, with query likelihood
    under ``training.teacher_likelihood_model`` fused in where set; or the cross-encoder
    ``training.teacher_model``) between its positive and its negative."""
    from synthir.training import teacher as teaching  # torch only when the stage runs

    taught, teacher = teaching.teach(triples, corpus, RerankerTrainingConfig.from_dict(training), depth=depth)
    margins = taught.frame["teacher_margin"]
    figures = {"triples": float(len(taught)), "mean_margin": float(margins.mean()) if len(taught) else 0.0,
               "near_zero_margins": float((margins < 0.01).mean()) if len(taught) else 0.0}
    log_metrics(figures, prefix="teacher.")
    return Staged(taught, {**figures, "teacher": teacher})


def train_reranker_model(triples: Triples, queries: SyntheticQueries, training: RerankerTrainingConfig,
                         checkpoint_root: Optional[str | Path] = None, init_model: Optional[str] = None) -> Staged:
    """Train a bi-encoder, cross-encoder or monoT5 on the triples; checkpoints resume a killed run.
    ``init_model`` (from ``plan_warm_start``) is the model training starts from when it is not
    ``training.base_model``; the untrained baseline the gate compares with stays ``base_model``."""
    from synthir.training.rerankers import train_reranker  # torch only when the stage runs

    config = RerankerTrainingConfig.from_dict(training)
    run_hash = training_run_key(config, triples, init_model)
    root = Path(checkpoint_root) if checkpoint_root else default_cache_dir() / "training"
    started = time.perf_counter()
    result = train_reranker(triples, config, root / run_hash, init_model=init_model)
    seconds = time.perf_counter() - started
    log_params({k: v for k, v in vars(config).items()}, prefix="training.")
    for step_index, loss in enumerate(result.losses):
        log_metrics({"loss_curve": loss}, prefix="training.", step=step_index)
    figures = {"steps": float(result.steps), "final_loss": result.losses[-1] if result.losses else float("nan"),
               "seconds": seconds, "pairs_per_s": len(triples) * config.epochs / max(seconds, 1e-9)}
    if result.dev:  # model selection on the dev set: its curve, and where training ended
        for step_index, value in result.dev["curve"].items():
            log_metrics({"dev_ndcg_at_10": value}, prefix="training.", step=step_index)
        figures.update({"dev_start_ndcg_at_10": result.dev["start"], "dev_best_ndcg_at_10": result.dev["best"],
                        "dev_best_step": float(result.dev["best_step"])})
    log_metrics(figures, prefix="training.")
    lineage = {**queries.lineage(), "config_hash": run_hash, "initialised_from": init_model or config.base_model}
    model = RerankerModel(model_dir=result.model_dir, model_type=config.model_type, base_model=config.base_model,
                          lineage=lineage, training=figures)
    return Staged(model, {**figures, "model_type": config.model_type})


class Trained(NamedTuple):
    model: RerankerModel
    triples: Triples  # what training ran on: after the warm-start plan and the teacher


def train(triples: Triples, queries: SyntheticQueries, corpus: Corpus, training: RerankerTrainingConfig,
          registry_name: str, depth: int = 100, checkpoint_root: Optional[str | Path] = None) -> Trained:
    """The warm-start plan when ``training.init_from`` is production, the teacher's margins when
    ``training.loss`` distils them, then training: the pipelines' ``train`` in plain Python."""
    training = RerankerTrainingConfig.from_dict(training)
    init_model = None
    if training.init_from == "production":
        triples, init_model, _ = plan_warm_start(triples, corpus, training, registry_name)
    if training.uses_teacher:
        triples = add_teacher_margins(triples, corpus, training, depth).value
    return Trained(train_reranker_model(triples, queries, training, checkpoint_root, init_model).value, triples)
