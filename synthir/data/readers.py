"""Readers for the standard IR formats.

Supported:
- corpora: BEIR ``corpus.jsonl`` (``_id``/``id``/``doc_id``/``docid``, ``title``, ``text``/``contents``),
  TSV (``id<TAB>text`` or ``id<TAB>title<TAB>text``);
- queries: BEIR ``queries.jsonl``, TSV (``id<TAB>text``), TREC topic files (``<top>`` SGML);
- qrels: BEIR TSV with header (``query-id corpus-id score``), TREC qrels (``qid iter docid rel``);
- runs: TREC run files (``qid Q0 docid rank score tag``).

Bad-input policy (documented in the README): missing files, malformed lines, duplicate ids and a
corpus of zero documents raise :class:`DataFormatError` naming file and line. ``on_bad_line="skip"``
skips malformed / non-UTF-8 lines instead, counting them in ``stats.skipped_bad_lines``. Documents
with an empty text are kept (generation skips them later) and counted in ``stats.empty_texts``;
queries with an empty text raise, since they cannot be searched.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from synthir.data.building import (
    add_document,
    add_document_record,
    as_str,
    check_duplicate,
    documents_into,
    finish_corpus,
)
from synthir.data.errors import DataFormatError
from synthir.data.io import decode_utf8, iter_json_lines, iter_lines, pick_field, require_file
from synthir.data.records import Corpus, Qrels, Queries, ReadStats, Run

logger = logging.getLogger(__name__)

QUERY_ID_FIELDS = ("_id", "id", "query_id", "qid")
QUERY_TEXT_FIELDS = ("text", "query", "title")
TABLE_SUFFIXES = (".csv", ".parquet")


def read_corpus(path: str | Path, name: str | None = None, on_bad_line: str = "raise",
                into: str | Path | None = None) -> Corpus:
    """Read a corpus from a BEIR folder, a ``.jsonl``, ``.tsv``, ``.csv`` or ``.parquet`` file (JSONL
    records and table columns: an id, an optional ``title`` and a text field, named as in BEIR).
    ``into``: an Arrow file the documents are written to as they are read, and mapped from
    (``synthir.data.columnar``); None: a dict of records."""
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.jsonl"
    require_file(path, "a corpus (.jsonl with _id/title/text, .tsv with id, [title,] text, or .csv/.parquet "
                       "with id/title/text columns)")
    if path.suffix in TABLE_SUFFIXES:
        from synthir.data.tables import read_table_corpus

        return read_table_corpus(path, name or _default_name(path), into=into)
    stats = ReadStats()
    seen: dict[str, int] = {}
    with documents_into(into) as documents:
        if path.suffix == ".tsv":
            for line, text in iter_lines(path, stats, on_bad_line):
                fields = text.split("\t")
                if len(fields) not in (2, 3):
                    message = f"expected 2 or 3 tab-separated fields (id, [title,] text), got {len(fields)}"
                    if on_bad_line == "skip":
                        stats.skipped_bad_lines += 1
                        continue
                    raise DataFormatError(path, line, message)
                doc_id, body = fields[0].strip(), fields[-1].strip()
                title = fields[1].strip() if len(fields) == 3 else ""
                add_document(documents, seen, stats, path, line, doc_id, title, body)
        else:
            for line, record in iter_json_lines(path, stats, on_bad_line):
                add_document_record(documents, seen, stats, path, line, record)
        return finish_corpus(documents, stats, path, name or _default_name(path))


def read_queries(path: str | Path, name: str | None = None, on_bad_line: str = "raise") -> Queries:
    """Read queries from ``queries.jsonl``, a ``.tsv`` file or a TREC topic file."""
    path = Path(path)
    if path.is_dir():
        path = path / "queries.jsonl"
    require_file(path, "queries (.jsonl with _id/text, .tsv with id<TAB>text, or TREC topics)")
    stats = ReadStats()
    queries: dict[str, str] = {}
    seen: dict[str, int] = {}

    def add(line: int, qid: str, text: str) -> None:
        if not qid:
            raise DataFormatError(path, line, "empty query id")
        check_duplicate(seen, qid, path, line, "query id")
        if not text:
            raise DataFormatError(path, line, f"query {qid!r} has an empty text; expected a non-empty query")
        queries[qid] = text

    if path.suffix == ".jsonl" or path.suffix == ".json":
        for line, record in iter_json_lines(path, stats, on_bad_line):
            qid = as_str(pick_field(record, QUERY_ID_FIELDS, path, line, "query id"), path, line, "query id")
            text = as_str(pick_field(record, QUERY_TEXT_FIELDS, path, line, "query text"), path, line, "text")
            add(line, qid.strip(), " ".join(text.split()))
    elif _looks_like_trec_topics(path):
        for line, qid, text in _iter_trec_topics(path, stats):
            add(line, qid, text)
    else:
        for line, text in iter_lines(path, stats, on_bad_line):
            fields = text.split("\t")
            if len(fields) != 2:
                if on_bad_line == "skip":
                    stats.skipped_bad_lines += 1
                    continue
                raise DataFormatError(path, line, f"expected 2 tab-separated fields (id, text), got {len(fields)}")
            add(line, fields[0].strip(), " ".join(fields[1].split()))

    if not queries:
        raise DataFormatError(path, None, "no queries found; expected at least one")
    return Queries(queries, name=name or _default_name(path), source=str(path), stats=stats)


def _looks_like_trec_topics(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(4096)
    return b"<top>" in head.lower()


_TOPIC_RE = re.compile(r"<top>(.*?)</top>", re.S | re.I)
_NUM_RE = re.compile(r"<num>\s*(?:Number:)?\s*(\S+)", re.I)
_TITLE_RE = re.compile(r"<title>\s*(?:Topic:)?(.*?)(?=<[a-z]+>|\Z)", re.S | re.I)


def _iter_trec_topics(path: Path, stats: ReadStats):
    """Classic TREC SGML topics; the query text is the ``<title>`` field."""
    content = decode_utf8(path, path.read_bytes())
    for match in _TOPIC_RE.finditer(content):
        line = content[: match.start()].count("\n") + 1
        stats.lines += 1
        block = match.group(1)
        num, title = _NUM_RE.search(block), _TITLE_RE.search(block)
        if not num or not title:
            raise DataFormatError(path, line, "TREC topic without <num> or <title>; expected both")
        yield line, num.group(1).strip(), " ".join(title.group(1).split())


def read_qrels(path: str | Path, name: str | None = None, on_bad_line: str = "raise") -> Qrels:
    """Read BEIR qrels (TSV with a ``query-id corpus-id score`` header) or TREC qrels."""
    path = Path(path)
    if path.is_dir():
        path = path / "qrels" / "test.tsv"
    require_file(path, "qrels (BEIR .tsv 'query-id corpus-id score', or TREC 'qid 0 docid rel')")
    stats = ReadStats()
    judgments: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, text in iter_lines(path, stats, on_bad_line):
        # BEIR's TSV splits on tabs only, so its ids may hold spaces ("my notes.txt"); TREC on white space
        fields = [f.strip() for f in text.strip().split("\t")] if "\t" in text else text.split()
        if line == 1 and fields and fields[0].lower() in ("query-id", "query_id", "qid"):
            continue  # BEIR header
        if len(fields) == 3:
            qid, doc_id, rel = fields
        elif len(fields) == 4:
            qid, _, doc_id, rel = fields
        else:
            if on_bad_line == "skip":
                stats.skipped_bad_lines += 1
                continue
            raise DataFormatError(
                path, line, f"expected 3 fields (query-id corpus-id score) or 4 (qid iter docid rel), got {len(fields)}"
            )
        try:
            relevance = int(float(rel))
        except ValueError:
            raise DataFormatError(path, line, f"relevance must be an integer, got {rel!r}") from None
        if (qid, doc_id) in seen:
            raise DataFormatError(
                path, line, f"duplicate judgment for query {qid!r}, document {doc_id!r} (first on line {seen[qid, doc_id]})"
            )
        seen[qid, doc_id] = line
        judgments.setdefault(qid, {})[doc_id] = relevance
    if not judgments:
        raise DataFormatError(path, None, "no judgments found; expected at least one")
    return Qrels(judgments, name=name or _default_name(path), source=str(path), stats=stats)


def read_run(path: str | Path, name: str | None = None) -> Run:
    """Read a TREC run file (``qid Q0 docid rank score tag``), rejecting what would silently corrupt
    a rerun: a non-finite score (one ``nan`` changes every fused score of its query), a rank that is
    not a whole number, a second column other than ``Q0``, and ranks that contradict the scores (a
    higher score at a worse rank: the rank and score columns swapped). Each error names the line."""
    path = Path(path)
    require_file(path, "a TREC run file ('qid Q0 docid rank score tag')")
    stats = ReadStats()
    scores: dict[str, dict[str, float]] = {}
    ranked: dict[str, list[tuple[int, float, int]]] = {}  # qid -> (rank, score, line)
    tag = None
    for line, text in iter_lines(path, stats):
        fields = text.split()
        if len(fields) != 6:
            raise DataFormatError(path, line, f"expected 6 fields (qid Q0 docid rank score tag), got {len(fields)}")
        qid, q0, doc_id, rank_text, score, tag = fields
        if q0 not in ("Q0", "0"):
            raise DataFormatError(path, line, f"the second field must be Q0, got {q0!r} (is this a qrels file?)")
        try:
            value = float(score)
        except ValueError:
            raise DataFormatError(path, line, f"score must be a number, got {score!r}") from None
        if not math.isfinite(value):
            raise DataFormatError(path, line, f"score must be finite, got {score!r}")
        try:
            rank = int(rank_text)
        except ValueError:
            raise DataFormatError(path, line, f"rank must be a whole number, got {rank_text!r} "
                                              "(are the rank and score columns swapped?)") from None
        if doc_id in scores.setdefault(qid, {}):
            raise DataFormatError(path, line, f"document {doc_id!r} ranked twice for query {qid!r}")
        scores[qid][doc_id] = value
        ranked.setdefault(qid, []).append((rank, value, line))
    if not scores:
        raise DataFormatError(path, None, "empty run file; expected at least one line")
    for qid, hits in ranked.items():
        hits.sort()
        for (rank_a, score_a, _), (rank_b, score_b, line_b) in zip(hits, hits[1:]):
            if score_b > score_a:
                raise DataFormatError(path, line_b, f"query {qid!r}: rank {rank_b} scores {score_b:g}, above rank "
                                                    f"{rank_a}'s {score_a:g}; ranks must follow the scores "
                                                    "(are the rank and score columns swapped?)")
    return Run(scores, name=name or tag or path.stem)


def _default_name(path: Path) -> str:
    folder = path.parent.parent.name if path.parent.name == "qrels" else path.parent.name
    return folder or path.stem
