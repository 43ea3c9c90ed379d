"""Writers for the same formats the readers accept. Every writer is atomic (see ``atomic_write``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from synthir.data.io import atomic_write
from synthir.data.records import Collection, Corpus, Qrels, Queries, Run

# What each format splits on: an id holding one would be read back as another id.
TREC_BREAKS = ("white space", re.compile(r"\s"))
TSV_BREAKS = ("a tab or newline", re.compile(r"[\t\r\n]"))


def require_writable_ids(ids, path: str | Path, what: str, breaks: tuple[str, re.Pattern] = TREC_BREAKS) -> None:
    """Refuse an id the format cannot carry (TREC splits on white space, TSV on tabs and newlines).
    The error names the id, the file and the way out."""
    forbidden, pattern = breaks
    for item in ids:
        if pattern.search(item):
            raise ValueError(f"{path}: {what} {item!r} contains {forbidden}, which this format cannot carry (it would "
                             "be read back as another id); write it as JSONL (write_queries_jsonl, write_corpus_jsonl) "
                             "or BEIR TSV qrels, or rename the id")


def write_corpus_jsonl(corpus: Corpus, path: str | Path) -> Path:
    with atomic_write(path) as out:
        for doc in corpus:
            out.write(json.dumps({"_id": doc.doc_id, "title": doc.title, "text": doc.text}, ensure_ascii=False) + "\n")
    return Path(path)


def write_queries_jsonl(queries: Queries, path: str | Path) -> Path:
    with atomic_write(path) as out:
        for qid, text in queries:
            out.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    return Path(path)


def write_queries_tsv(queries: Queries, path: str | Path) -> Path:
    require_writable_ids((qid for qid, _ in queries), path, "query id", TSV_BREAKS)
    with atomic_write(path) as out:
        for qid, text in queries:
            out.write(f"{qid}\t{' '.join(text.split())}\n")
    return Path(path)


def write_qrels_tsv(qrels: Qrels, path: str | Path) -> Path:
    """BEIR layout: header line, then ``query-id<TAB>corpus-id<TAB>score`` (ids may hold spaces)."""
    _require_writable_judgments(qrels, path, TSV_BREAKS)
    with atomic_write(path) as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for qid, docs in qrels.judgments.items():
            for doc_id, rel in docs.items():
                out.write(f"{qid}\t{doc_id}\t{rel}\n")
    return Path(path)


def _require_writable_judgments(qrels: Qrels, path: str | Path, breaks: tuple[str, re.Pattern]) -> None:
    require_writable_ids(qrels.judgments, path, "query id", breaks)
    for docs in qrels.judgments.values():
        require_writable_ids(docs, path, "document id", breaks)


def write_qrels_trec(qrels: Qrels, path: str | Path) -> Path:
    _require_writable_judgments(qrels, path, TREC_BREAKS)
    with atomic_write(path) as out:
        for qid, docs in qrels.judgments.items():
            for doc_id, rel in docs.items():
                out.write(f"{qid} 0 {doc_id} {rel}\n")
    return Path(path)


def write_run_trec(run: Run, path: str | Path, tag: str | None = None) -> Path:
    """TREC run format, ranks from 1, best first, as trec_eval expects."""
    tag = (tag or run.name or "synthir").replace(" ", "_")
    require_writable_ids(run.scores, path, "query id")
    for hits in run.scores.values():
        require_writable_ids(hits, path, "document id")
    with atomic_write(path) as out:
        for qid in run.scores:
            for rank, (doc_id, score) in enumerate(run.ranked(qid), start=1):
                out.write(f"{qid} Q0 {doc_id} {rank} {score:.6f} {tag}\n")
    return Path(path)


def write_beir(collection: Collection, folder: str | Path, split: str = "test") -> Path:
    folder = Path(folder)
    write_corpus_jsonl(collection.corpus, folder / "corpus.jsonl")
    write_queries_jsonl(collection.queries, folder / "queries.jsonl")
    if collection.qrels is not None:
        write_qrels_tsv(collection.qrels, folder / "qrels" / f"{split}.tsv")
    return folder
