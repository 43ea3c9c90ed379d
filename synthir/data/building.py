"""Building a corpus from records (JSON lines, table rows, files): ids and fields checked, copies
counted; shared by the readers of ``synthir.data`` (``readers``, ``tables``, ``documents``)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path

from synthir.data.columnar import DocumentWriter
from synthir.data.errors import DataFormatError
from synthir.data.io import pick_field
from synthir.data.records import Corpus, Document, ReadStats

logger = logging.getLogger("synthir.data.readers")  # the readers' messages, under the readers' name
DOC_ID_FIELDS = ("_id", "id", "doc_id", "docid")
DOC_TEXT_FIELDS = ("text", "contents", "body")


def as_str(value: object, path: Path | str, line: int | None, what: str) -> str:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise DataFormatError(path, line, f"{what} must be a string, got {type(value).__name__}")


def check_duplicate(seen: dict[str, int], key: str, path: Path | str, line: int | None, what: str) -> None:
    if key in seen:
        first = "" if seen[key] is None else f" (first seen on line {seen[key]})"
        raise DataFormatError(path, line, f"duplicate {what} {key!r}{first}; ids must be unique")
    seen[key] = line


def add_document_record(documents: MutableMapping[str, Document], seen: dict[str, int], stats: ReadStats, path: Path | str,
                        line: int | None, record: dict) -> None:
    """One BEIR-style record (a JSON line, a table row): an id, an optional title and a text field."""
    doc_id = as_str(pick_field(record, DOC_ID_FIELDS, path, line, "document id"), path, line, "document id")
    body = as_str(pick_field(record, DOC_TEXT_FIELDS, path, line, "document text"), path, line, "text")
    title = as_str(record.get("title") or "", path, line, "title")
    add_document(documents, seen, stats, path, line, doc_id.strip(), title.strip(), body.strip())


@contextlib.contextmanager
def documents_into(into: str | Path | None) -> Iterator[MutableMapping[str, Document] | DocumentWriter]:
    """Where a reader puts the documents it reads: a dict, or (``into``) an Arrow file they are
    written to as they are read (``DocumentWriter``), so a large collection is never held as records;
    ``finish_corpus`` maps it back. A reader that fails leaves no file."""
    if into is None:
        yield {}
        return
    with DocumentWriter(into) as writer:
        yield writer


def finish_corpus(documents: MutableMapping[str, Document] | DocumentWriter, stats: ReadStats, path: Path | str, name: str,
                  empty: list[str] | None = None) -> Corpus:
    """The corpus, refusing an empty one, naming the documents without text (``empty``: their ids,
    when the reader knows them better than "no title and no text") and counting exact copies."""
    if not documents:
        raise DataFormatError(path, None, "the corpus has zero documents; expected at least one")
    if isinstance(documents, DocumentWriter):
        documents = documents.finish()
    if stats.empty_texts:
        empty = empty if empty is not None else [d for d, doc in documents.items() if not doc.text and not doc.title]
        logger.warning("%s: %d document(s) have an empty text (kept, counted; generation skips them): %s%s", path,
                       stats.empty_texts, empty[:10], " ..." if len(empty) > 10 else "")
    count_copies(documents, stats, path)
    return Corpus(documents, name=name, source=str(path), stats=stats)


def count_copies(documents: Mapping[str, Document], stats: ReadStats, path: Path | str) -> None:
    """Count documents whose text repeats an earlier one's exactly, and name a few in a warning."""
    import hashlib

    first: dict[bytes, str] = {}
    copies: dict[str, list[str]] = {}
    for doc_id, doc in documents.items():
        if doc.text:
            original = first.setdefault(hashlib.blake2b(doc.text.encode("utf-8"), digest_size=16).digest(), doc_id)
            if original != doc_id:
                copies.setdefault(original, []).append(doc_id)
    stats.duplicate_texts = sum(len(c) for c in copies.values())
    if copies:
        examples = "; ".join(" = ".join(repr(d) for d in [original, *c[:3]]) + (" ..." if len(c) > 3 else "")
                             for original, c in list(copies.items())[:3])
        logger.warning("%s: %d document(s) repeat the text of another exactly (counted as duplicate_texts; "
                       "documents.duplicates makes them aliases of the first by default): %s%s", path,
                       stats.duplicate_texts, examples, " ..." if len(copies) > 3 else "")


def add_document(
    documents: MutableMapping[str, Document],
    seen: dict[str, int],
    stats: ReadStats,
    path: Path | str,
    line: int | None,
    doc_id: str,
    title: str,
    text: str,
) -> None:
    if not doc_id:
        raise DataFormatError(path, line, "empty document id")
    check_duplicate(seen, doc_id, path, line, "document id")
    if not text and not title:
        stats.empty_texts += 1
    documents[doc_id] = Document(doc_id=doc_id, title=title, text=text)
