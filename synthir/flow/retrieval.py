"""BM25, scoring a run and rerankers over a run: the evaluation pipeline's stages (the ``bm25_retrieve``,
``evaluate_run`` and ``compare_rerankers`` steps' twins), and ``run_evaluation``, the whole pipeline."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from synthir.data import Corpus, Qrels, Queries, Run, write_run_trec
from synthir.data.errors import require_judgments
from synthir.evaluation import DEFAULT_MEASURES, EvaluationResult, evaluate
from synthir.flow.stage import Staged
from synthir.tracking import log_artifact, log_metrics, log_params, run_of_its_own

logger = logging.getLogger(__name__)


def bm25_retrieve(corpus: Corpus, queries: Queries, top_k: int = 1000, k1: float = 0.9, b: float = 0.4,
                  include_title: bool = True, threads: int = 0) -> Staged:
    """BM25 top-k for each query; the Lucene index is cached per corpus fingerprint."""
    from synthir.retrieval import BM25Config, BM25Index

    index = BM25Index.build(corpus, BM25Config(k1=k1, b=b, include_title=include_title, threads=threads))
    started = time.perf_counter()
    run = index.search(queries, k=top_k)
    search_seconds = time.perf_counter() - started
    figures = {"search_queries_per_s": len(queries) / max(search_seconds, 1e-9), "index_cached": float(index.info.cached)}
    if not index.info.cached:
        figures["index_docs_per_s"] = len(corpus) / max(index.info.seconds, 1e-9)
    log_params({"k1": k1, "b": b, "include_title": include_title, "top_k": top_k}, prefix="bm25.")
    log_metrics(figures, prefix="bm25.")
    return Staged(run, {"index_path": str(index.info.path), **figures})


def evaluate_run(run: Run, qrels: Qrels, system: str = "bm25", measures: Optional[list[str]] = None,
                 exclude_query_ids: Optional[list[str]] = None, corpus: Optional[Corpus] = None) -> Staged:
    """Score a run with ir_measures; log figures, the run file, the per-query table and a plot to MLflow.
    ``exclude_query_ids``: judged queries to leave out (few-shot examples shown to a generator).
    ``corpus``: the corpus the run ranks; a run of its passages is scored as a run of documents."""
    from synthir.evaluation.report import metrics_markdown, plot_per_query

    require_judgments(len(qrels), "evaluating a run", "a corpus-only collection is evaluated by inpars_pipeline's "
                      "label-free gate (evaluation: {source: synthetic})")
    exclude_query_ids = exclude_query_ids or []
    measures = measures or list(DEFAULT_MEASURES)
    if corpus is not None:
        run = corpus.document_run(run)
    result = evaluate(run, qrels, measures=measures, system=system, exclude_query_ids=exclude_query_ids)
    logger.info("\n%s", metrics_markdown([result]))
    log_params({"measures": ",".join(measures), "system": system,
                "excluded_queries": ",".join(exclude_query_ids)}, prefix="eval.")
    # Plain metric names (ndcg_at_10, ...) are shared by every pipeline so MLflow runs compare directly.
    log_metrics(result.metrics())
    log_metrics({"queries": result.num_queries}, prefix="eval.")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_file = f"{system}.run"
        try:
            write_run_trec(run, folder / run_file, tag=system)
        except ValueError as err:  # an id with a space: a TSV keeps it exact where TREC cannot
            run_file = f"{system}.run.tsv"
            logger.warning("%s; the run is logged as %s instead", err, run_file)
            run.to_frame().to_csv(folder / run_file, sep="\t", index=False)
        result.to_frame().to_csv(folder / f"{system}.per_query.tsv", sep="\t", index=False)
        plot_per_query([result], folder / f"{system}.per_query.png")
        for name in (run_file, f"{system}.per_query.tsv", f"{system}.per_query.png"):
            log_artifact(folder / name, artifact_path="evaluation")
    return Staged(result, {"system": system, **result.metrics()})


def compare_rerankers(bm25_run: Run, corpus: Corpus, queries: Queries, qrels: Qrels,
                      rerankers: Optional[list[str]] = None, depth: int = 100,
                      fusion_weight: Optional[float] = None) -> Staged:
    """BM25 and each reranker (a packaged zero-shot model, ``registry:inpars-reranker@production`` or a
    folder) re-scoring BM25's top ``depth``, on the same queries: a table with each one's paired
    significance over BM25, a per-query plot and a win/loss plot per reranker. (The gate's comparison of
    a candidate with its baselines is ``synthir.lifecycle.gate.compare_rerankers``.)"""
    from synthir.evaluation.report import metrics_markdown, plot_per_query, plot_win_loss
    from synthir.models import resolve_model
    from synthir.retrieval.rerank import fuse, rerank
    from synthir.retrieval.reranker import Reranker

    bm25_documents = corpus.document_run(bm25_run)  # passages rank documents (the identity for whole documents)
    results = [evaluate(bm25_documents, qrels, system="bm25")]
    for position, ref in enumerate(rerankers or []):
        model = Reranker(resolve_model(ref))  # type and length from the model's marker; plain folders: bi-encoder
        run = corpus.document_run(rerank(bm25_run, queries, corpus, model, depth=depth, name=ref))
        if fusion_weight is not None:
            run = fuse(run, bm25_documents, fusion_weight)
        result = evaluate(run, qrels, system=f"reranker{position}")
        results.append(result)
        log_params({f"reranker{position}": ref}, prefix="compare.")
        log_metrics(result.metrics(), prefix=f"eval.reranker{position}.")
    table = metrics_markdown(results, against=results[:1])  # each reranker's gain over BM25, paired significance
    logger.info("Rerankers on the same queries:\n%s", table)
    with tempfile.TemporaryDirectory() as tmp:
        log_artifact(plot_per_query(results, Path(tmp) / "rerankers.per_query.png"), "evaluation")
        for result in results[1:]:
            log_artifact(plot_win_loss(result, results[:1], Path(tmp) / f"{result.system}.win_loss.png"), "evaluation")
    return Staged(table, {f"{r.system}.ndcg_at_10": r.metrics().get("ndcg_at_10") for r in results})


@dataclass
class EvaluationRunResult:
    """The evaluation flow's outputs (``run_evaluation``)."""

    corpus: Corpus
    bm25_run: Run
    evaluation: EvaluationResult  # BM25's figures
    comparison_table: Optional[str]  # with rerankers: every system on the same queries


def run_evaluation(collection: str, split: str = "test", top_k: int = 1000, max_queries: Optional[int] = None,
                   rerankers: Optional[list[str]] = None, rerank_depth: int = 100,
                   fusion_weight: Optional[float] = None) -> EvaluationRunResult:
    """``evaluation_pipeline`` without ZenML: BM25 on a labelled collection (documents ranked from their
    passages), and optionally ``rerankers`` over its top ``rerank_depth``; figures to the active MLflow
    run, else to one of its own."""
    from synthir.flow import data

    with run_of_its_own(f"evaluation {collection}"):
        loaded = data.load_collection(collection, split=split, max_queries=max_queries)
        run = bm25_retrieve(loaded.corpus, loaded.queries, top_k=top_k).value
        result = evaluate_run(run, loaded.qrels, system="bm25", corpus=loaded.corpus).value
        table = None
        if rerankers:
            table = compare_rerankers(run, loaded.corpus, loaded.queries, loaded.qrels, list(rerankers), rerank_depth,
                                      fusion_weight).value
        return EvaluationRunResult(loaded.corpus, run, result, table)
