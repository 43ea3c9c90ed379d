"""Loading a collection (the ``load_collection`` step's twin)."""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any, NamedTuple, Optional

from synthir.data import Corpus, Qrels, Queries
from synthir.data import load_collection as load
from synthir.data.columnar import prune
from synthir.preparation import DocumentsConfig, prepare_corpus
from synthir.runtime import default_cache_dir, release_freed_memory
from synthir.tracking import log_metrics, log_params, set_tags

logger = logging.getLogger(__name__)


class LoadedCollection(NamedTuple):
    corpus: Corpus
    queries: Queries
    qrels: Qrels
    metadata: dict[str, Any]


CORPORA_KEPT = 4  # prepared corpora kept in the cache (the most recently used); one per collection version


def corpora_folder() -> Path:
    """Where prepared corpora are kept as Arrow files, ``<cache>/corpora/<fingerprint>.arrow``."""
    return default_cache_dir() / "corpora"


def load_collection(collection: str, split: str = "test", unknown_ids: str = "raise", on_bad_line: str = "raise",
                    max_queries: Optional[int] = None, queries_file: Optional[str] = None,
                    documents: DocumentsConfig | dict | None = None) -> LoadedCollection:
    """Read a collection, labelled or corpus-only (every form ``synthir.data.load_collection`` takes),
    and prepare its documents (``documents``: boilerplate, duplicates, passages; the defaults when
    None; ``DocumentsConfig.off()`` for documents as read). With judgments, the queries the split
    judges are kept (judgments stay on documents); without, ``qrels`` is empty and the queries are
    the collection's own or ``queries_file``'s (unjudged)."""
    # The documents as read go to an Arrow file as they are read, and the prepared ones to another that
    # every stage reads memory-mapped, named by content once that is known: a collection is never held
    # as records (a mapped file stays readable when renamed or removed; one left by a killed process is
    # pruned like any other).
    run = uuid.uuid4().hex
    as_read = corpora_folder() / f".reading-{run}.arrow"
    staging = corpora_folder() / f".preparing-{run}.arrow"
    try:
        loaded = load(collection, split=split, unknown_ids=unknown_ids, on_bad_line=on_bad_line,
                      queries=queries_file, into=as_read)
        corpus, prepared = prepare_corpus(loaded.corpus, documents, into=staging)
    finally:
        as_read.unlink(missing_ok=True)
    read, read_stats = len(loaded.corpus), loaded.corpus.stats.as_dict()
    loaded.corpus = corpus  # the documents as read are not held past this point
    release_freed_memory()
    fingerprint = corpus.fingerprint()
    os.replace(staging, corpora_folder() / f"{fingerprint}.arrow")
    prune(corpora_folder(), CORPORA_KEPT)
    qrels = loaded.qrels or Qrels({}, name=loaded.name)
    queries = loaded.judged_queries()
    if max_queries is not None and len(queries) > max_queries:
        queries = queries.subset(list(queries.queries)[:max_queries])
        if len(qrels):
            qrels = type(qrels)({q: qrels.judgments[q] for q in queries.queries}, name=qrels.name, source=qrels.source)
    judged = f"{len(qrels.judgments)} judged queries, {len(qrels)} judgments" if len(qrels) else \
        f"no judgments ({len(queries)} unjudged queries)"
    logger.info("Collection %s: %d documents, %d passages (fingerprint %s), %s", loaded.name, read,
                len(corpus), fingerprint, judged)
    log_params({"collection": collection, "split": split, "corpus_fingerprint": fingerprint,
                "documents": read, "queries": len(queries), "judgments": len(qrels)}, prefix="data.")
    log_metrics({k: v for k, v in prepared.items() if isinstance(v, (int, float))}, prefix="data.")
    set_tags({"corpus_fingerprint": fingerprint, "collection": loaded.name, "labelled": str(bool(len(qrels))).lower()})
    return LoadedCollection(corpus, queries, qrels, {
        "collection": loaded.name, "corpus_fingerprint": fingerprint, "judgments": len(qrels),
        "read_stats": read_stats, "documents": prepared})
