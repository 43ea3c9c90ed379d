"""Rerank a user's first-stage run file with a reranker, e.g. the production one from the registry.

    python -m synthir.rerank_run --run bm25.trec --queries queries.jsonl --corpus corpus.jsonl \\
        --output reranked.trec [--model registry:inpars-reranker@production] [--depth 100] [--fusion-weight 0.7]

Inputs are standard formats: a TREC run (``qid Q0 docid rank score tag``), queries as BEIR JSONL or
TSV (or TREC topics), a BEIR ``corpus.jsonl``. The output is a TREC run with the reranker's scores
for each query's top ``depth`` documents (deeper hits are dropped). ``--fusion-weight`` interpolates
with the first-stage scores (min-max normalised per query); by default it is the production
version's own ``fusion_weight`` tag, the weight its gate evaluated it with. The MLflow store is
``--tracking-uri``, else ``MLFLOW_TRACKING_URI``, else the active ZenML stack's tracker, else the
project's local store (``synthir.tracking.find_tracking_uri``). ``synthir rerank ...`` is the same command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from synthir.data.readers import read_corpus, read_queries, read_run
from synthir.data.writers import write_run_trec

logger = logging.getLogger(__name__)


def registry_fusion_weight(model: str) -> float | None:
    """The ``fusion_weight`` tag of a registry reference's version (None if unset or not a registry ref)."""
    if not model.startswith("registry:"):
        return None
    import mlflow

    from synthir.models import pin_registry_ref
    from synthir.registry import fusion_weight_of

    name, _, version = pin_registry_ref(model).removeprefix("registry:").partition("/")
    return fusion_weight_of(mlflow.MlflowClient().get_model_version(name, version))


def rerank_run_file(run_path: str | Path, queries_path: str | Path, corpus_path: str | Path, output: str | Path,
                    model: str = "registry:inpars-reranker@production", depth: int = 100,
                    fusion_weight: float | None = None, use_registry_weight: bool = True,
                    passage_tokens: int = 256) -> Path:
    """Rerank the first stage's top ``depth`` documents of each query. A document longer than
    ``passage_tokens`` (0: never) is scored by its best passage (``synthir.preparation.passages``)."""
    from synthir.data import Run
    from synthir.data.errors import DataFormatError
    from synthir.models import resolve_model
    from synthir.preparation.passages import PassageConfig, split_corpus
    from synthir.retrieval.rerank import fuse, rerank
    from synthir.retrieval.reranker import Reranker

    first_stage = read_run(run_path)
    queries = read_queries(queries_path)
    corpus = read_corpus(corpus_path)
    missing_queries = sorted(set(first_stage.scores) - set(queries.queries))
    if missing_queries:
        raise DataFormatError(run_path, None, f"{len(missing_queries)} query id(s) of the run are not in {queries_path}, "
                                              f"e.g. {missing_queries[:5]}; expected the queries the run was made for")
    missing_docs = sorted({d for hits in first_stage.scores.values() for d in hits} - set(corpus.documents))
    if missing_docs:
        raise DataFormatError(run_path, None, f"{len(missing_docs)} document id(s) of the run are not in {corpus_path}, "
                                              f"e.g. {missing_docs[:5]}; expected the corpus the run was made from")
    if fusion_weight is None and use_registry_weight:
        fusion_weight = registry_fusion_weight(model)
    reranker = Reranker(resolve_model(model))
    passages = corpus
    if passage_tokens:
        passages, _ = split_corpus(corpus, PassageConfig(max_tokens=passage_tokens))
    pool, pool_depth = first_stage, depth
    if passages.parents:  # each of the top documents by all of its passages
        of_document = passages.passages_by_document()
        pool = Run({qid: {p: score for d, score in first_stage.ranked(qid)[:depth] for p in of_document[d]}
                    for qid in first_stage.scores})
        pool_depth = max((len(hits) for hits in pool.scores.values()), default=0)
    reranked = passages.document_run(rerank(pool, queries.subset(list(first_stage.scores)), passages, reranker,
                                            depth=pool_depth, name="reranked"))
    if fusion_weight is not None:
        reranked = fuse(reranked, first_stage, fusion_weight, name="reranked")
    logger.info("Reranked %d queries (depth %d, fusion weight %s) with %s", len(reranked), depth, fusion_weight, model)
    return write_run_trec(reranked, output, tag="synthir")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, help="first-stage TREC run file")
    parser.add_argument("--queries", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--model", default="registry:inpars-reranker@production")
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--passage-tokens", type=int, default=256,
                        help="documents longer than this many tokens are scored by their best passage (0: never)")
    parser.add_argument("--fusion-weight", type=float, default=None)
    parser.add_argument("--no-fusion", action="store_true", help="reranker scores only, even if the version has a fusion weight")
    parser.add_argument("--tracking-uri", help="default: MLFLOW_TRACKING_URI, the active stack's tracker, the project's store")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.model.startswith("registry:"):
        from synthir.tracking import find_tracking_uri

        try:
            find_tracking_uri(args.tracking_uri)
        except RuntimeError as err:
            print(f"synthir rerank: {err}", file=sys.stderr)
            return 1
    from synthir.data.errors import DataFormatError
    from synthir.models import ModelNotAvailableError

    try:
        path = rerank_run_file(args.run, args.queries, args.corpus, args.output, model=args.model, depth=args.depth,
                               fusion_weight=args.fusion_weight, use_registry_weight=not args.no_fusion,
                               passage_tokens=args.passage_tokens)
    except (DataFormatError, ModelNotAvailableError, RuntimeError) as err:  # the cause, not a traceback
        print(f"synthir rerank: {err}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
