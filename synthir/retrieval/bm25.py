"""BM25 over a Lucene index built by pyserini/Anserini.

The index is built once per corpus fingerprint (and indexing options) and cached under
``<cache_dir>/bm25/<key>``; a build goes to a temporary folder that is renamed into place only when
complete, so an interrupted build never leaves a broken index behind.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from synthir.data.records import Corpus, Queries, Run
from synthir.retrieval.pyserini_env import autoclass, bootstrap
from synthir.runtime import default_cache_dir

logger = logging.getLogger(__name__)

INDEX_FORMAT_VERSION = 3  # bump when the way we build indexes changes, to invalidate caches (2: encoded ids; 3: postings only)


# Anserini's TREC output and topic files split on white space, so an id with a space ("my notes.txt")
# would come back cut at the space. Ids go into Lucene and its files percent-encoded ('%' and white
# space only) and come back decoded: exact both ways, and unchanged for ids that need no escaping.
_ESCAPED = re.compile(r"[%\s]")


def lucene_id(doc_id: str) -> str:
    """``doc_id`` as it is stored in the index and written in Anserini's files."""
    return _ESCAPED.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), doc_id)


def original_id(stored: str) -> str:
    """The id ``lucene_id`` encoded."""
    return unquote(stored) if "%" in stored else stored


def default_threads() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class BM25Config:
    """BM25 parameters; the defaults are pyserini's (k1=0.9, b=0.4, title and text as contents)."""

    k1: float = 0.9
    b: float = 0.4
    include_title: bool = True
    threads: int = 0  # 0: one per CPU core
    batch_size: int = 5000  # queries per Anserini call (bounds the size of each run file)
    index_buffer_mb: int = 256  # Lucene's indexing buffer, bounded so that the JVM's heap stays small for any corpus


@dataclass
class IndexInfo:
    path: Path
    fingerprint: str
    documents: int
    seconds: float
    cached: bool


class BM25Index:
    """A Lucene index for one corpus, plus multi-threaded batch search."""

    def __init__(self, info: IndexInfo, config: BM25Config):
        self.info = info
        self.config = config

    @classmethod
    def build(
        cls, corpus: Corpus, config: BM25Config | None = None, cache_dir: str | Path | None = None
    ) -> BM25Index:
        """Open the cached index for this corpus, or build it."""
        config = config or BM25Config()
        fingerprint = corpus.fingerprint()
        key = f"{fingerprint}-{'tt' if config.include_title else 't'}-v{INDEX_FORMAT_VERSION}"
        root = Path(cache_dir) if cache_dir else default_cache_dir()
        index_path = root / "bm25" / key
        if (index_path / "synthir-index.json").exists():
            logger.info("BM25 index for corpus %s found in cache: %s", fingerprint, index_path)
            return cls(IndexInfo(index_path, fingerprint, len(corpus), 0.0, cached=True), config)
        seconds = _build_index(corpus, index_path, config)
        return cls(IndexInfo(index_path, fingerprint, len(corpus), seconds, cached=False), config)

    def searcher(self):
        """A single-query pyserini ``LuceneSearcher`` with this index's BM25 parameters (interactive use,
        metrics called one query at a time); batch work goes through ``search``."""
        bootstrap()
        from pyserini.search.lucene import LuceneSearcher

        searcher = LuceneSearcher(str(self.info.path))
        searcher.set_bm25(self.config.k1, self.config.b)
        return searcher

    def rank_of(self, query: str, doc_id: str, k: int = 10, searcher=None) -> int | None:
        """The 1-based rank of ``doc_id`` in the BM25 top ``k`` for ``query``; None when it is not there."""
        text = " ".join(query.split())
        if not text:
            return None
        hits = (searcher or self.searcher()).search(text, k=k)
        stored = lucene_id(doc_id)
        return next((i for i, hit in enumerate(hits, start=1) if hit.docid == stored), None)

    def search(self, queries: Queries, k: int = 1000, show_progress: bool = True) -> Run:
        """BM25 top-k for every query.

        Runs Anserini's multi-threaded ``SearchCollection`` over a topics file and reads the TREC run
        it writes: the hits never cross the Python/Java bridge one by one, which is what makes
        pyserini's ``batch_search`` slow at depth 1000 (about 3x here).
        """
        bootstrap()
        search_collection = autoclass("io.anserini.search.SearchCollection")
        threads = self.config.threads or default_threads()
        items = [(lucene_id(qid), " ".join(text.split())) for qid, text in queries]
        scores: dict[str, dict[str, float]] = {qid: {} for qid, _ in queries}
        with tempfile.TemporaryDirectory(prefix="synthir-bm25-search-") as work, tqdm(
            total=len(items), desc="BM25 search", unit="q", disable=not show_progress
        ) as bar:
            topics, output = Path(work) / "topics.tsv", Path(work) / "run.trec"
            for start in range(0, len(items), self.config.batch_size):
                batch = [(qid, text) for qid, text in items[start : start + self.config.batch_size] if text]
                if batch:
                    topics.write_text("".join(f"{qid}\t{text}\n" for qid, text in batch), encoding="utf-8")
                    search_collection.main([
                        "-index", str(self.info.path), "-topics", str(topics), "-topicReader", "TsvString",
                        "-output", str(output), "-bm25", "-bm25.k1", str(self.config.k1),
                        "-bm25.b", str(self.config.b), "-hits", str(k), "-threads", str(threads),
                    ])
                    _read_trec_hits(output, scores)
                bar.update(min(self.config.batch_size, len(items) - start))
        return Run(scores, name="bm25")


def _read_trec_hits(path: Path, scores: dict[str, dict[str, float]]) -> None:
    """Merge a TREC run written by Anserini into ``scores``, query and document ids decoded
    (``original_id``).

    pandas' C parser reads the file; Anserini writes each query's hits contiguously, so queries are
    split at the rows where the id changes (a pandas groupby is 3x slower here).
    """
    frame = pd.read_csv(
        path, sep=" ", header=None, usecols=[0, 2, 4], names=["qid", "docid", "score"],
        dtype={"qid": str, "docid": str, "score": "float64"}, quoting=csv.QUOTE_NONE, keep_default_na=False,
    )
    qids = frame["qid"].to_numpy()
    docids, values = [original_id(d) for d in frame["docid"].tolist()], frame["score"].tolist()
    bounds = [0, *(np.flatnonzero(qids[1:] != qids[:-1]) + 1).tolist(), len(qids)]
    for begin, end in zip(bounds[:-1], bounds[1:]):
        if end > begin:
            scores[original_id(qids[begin])] = dict(zip(docids[begin:end], values[begin:end]))


def _build_index(corpus: Corpus, index_path: Path, config: BM25Config) -> float:
    bootstrap()
    index_path.parent.mkdir(parents=True, exist_ok=True)
    threads = config.threads or default_threads()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="synthir-bm25-", dir=index_path.parent) as work:
        docs_dir = Path(work) / "docs"
        docs_dir.mkdir()
        shards = max(1, threads)
        handles = [open(docs_dir / f"part-{i:03d}.jsonl", "w", encoding="utf-8") for i in range(shards)]
        try:
            for i, doc in enumerate(tqdm(corpus, desc="BM25 prepare", unit="doc", total=len(corpus))):
                contents = corpus.index_contents(doc, config.include_title)
                handles[i % shards].write(json.dumps({"id": lucene_id(doc.doc_id), "contents": contents}) + "\n")
        finally:
            for handle in handles:
                handle.close()
        tmp_index = Path(work) / "index"
        args = [
            "-collection", "JsonCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-input", str(docs_dir),
            "-index", str(tmp_index),
            "-threads", str(threads),
            # no positions or document vectors: BM25 reads term frequencies from the postings, and
            # nothing here asks for phrases or RM3 (storing both made indexing 1.8x slower at 1M passages)
            "-memoryBuffer", str(config.index_buffer_mb),
        ]
        logger.info("Indexing %d documents with %d thread(s) into %s", len(corpus), threads, index_path)
        autoclass("io.anserini.index.IndexCollection").main(args)
        if not tmp_index.exists():
            raise RuntimeError(f"Anserini did not write an index to {tmp_index}; see the log above")
        seconds = time.perf_counter() - started
        (tmp_index / "synthir-index.json").write_text(
            json.dumps(
                {"fingerprint": corpus.fingerprint(), "documents": len(corpus), "seconds": seconds,
                 "config": asdict(config), "format": INDEX_FORMAT_VERSION},
                indent=2,
            )
        )
        if index_path.exists():  # a concurrent build finished first; keep theirs
            return seconds
        os.replace(tmp_index, index_path)
        shutil.rmtree(docs_dir, ignore_errors=True)
    return seconds
