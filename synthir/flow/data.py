"""Loading a collection (the ``load_collection`` step's twin)."""

from __future__ import annotations

import logging
from typing import Any, NamedTuple, Optional

from synthir.data import Corpus, Qrels, Queries
from synthir.data import load_collection as load
from synthir.data.columnar import memory_mapped, prune
from synthir.preparation import DocumentsConfig, prepare_corpus
from synthir.runtime import default_cache_dir
from synthir.tracking import log_metrics, log_params, set_tags

logger = logging.getLogger(__name__)


class LoadedCollection(NamedTuple):
    corpus: Corpus
    queries: Queries
    qrels: Qrels
    metadata: dict[str, Any]


CORPORA_KEPT = 4  # prepared corpora kept in the cache (the most recently used); one per collection version


def columnar_corpus(corpus: Corpus, fingerprint: str) -> Corpus:
    """The prepared corpus as Arrow columns memory-mapped from the cache (``corpora/<fingerprint>.arrow``,
    written once per content, the least recently used removed beyond ``CORPORA_KEPT``): every stage
    reads the file's pages instead of holding the texts as Python objects."""
    folder = default_cache_dir() / "corpora"
    mapped = memory_mapped(corpus, folder / f"{fingerprint}.arrow")
    prune(folder, CORPORA_KEPT)
    return mapped


def load_collection(collection: str, split: str = "test", unknown_ids: str = "raise", on_bad_line: str = "raise",
                    max_queries: Optional[int] = None, queries_file: Optional[str] = None,
                    documents: DocumentsConfig | dict | None = None) -> LoadedCollection:
    """Read a collection, labelled or corpus-only (every form ``synthir.data.load_collection`` takes),
    and prepare its documents (``documents``: boilerplate, duplicates, passages; the defaults when
    None; ``DocumentsConfig.off()`` for documents as read). With judgments, the queries the split
    judges are kept (judgments stay on documents); without, ``qrels`` is empty and the queries are
    the collection's own or ``queries_file``'s (unjudged)."""
    loaded = load(collection, split=split, unknown_ids=unknown_ids, on_bad_line=on_bad_line, queries=queries_file)
    corpus, prepared = prepare_corpus(loaded.corpus, documents)
    read, read_stats = len(loaded.corpus), loaded.corpus.stats.as_dict()
    fingerprint = corpus.fingerprint()
    corpus = columnar_corpus(corpus, fingerprint)
    loaded.corpus = corpus  # the records as read are not held past this point
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
