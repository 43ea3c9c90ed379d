"""A corpus's documents as Arrow columns, memory-mapped from a file.

A million passages as Python records cost about 1.7 GB of the process's own memory (a string object
per text, title and id, a record each, a dict entry each), and every stage held them. As columns in
an Arrow IPC file the texts stay in the file's pages, which the operating system shares and evicts;
the process holds only the ids and an id -> row index. ``DocumentTable`` is a read-only mapping of
id -> ``Document`` over such a table, so every stage reads it as it read the dict; a subset is a
view of the same table (row numbers), never a copy of the texts.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import itertools
import mmap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np
import pyarrow as pa

from synthir.data.io import atomic_write
from synthir.data.records import Corpus, Document, documents_digest

SCHEMA = pa.schema([("doc_id", pa.string()), ("title", pa.large_string()), ("text", pa.large_string())])
BATCH_ROWS = 8192  # rows per record batch written, and per batch materialised when iterating


class DocumentTable(Mapping[str, Document]):
    """Documents in an Arrow table with ``doc_id``, ``title`` and ``text`` columns (others are ignored),
    in table order; a view (``rows``: row numbers) holds some of them, still in table order."""

    def __init__(self, table: pa.Table, mapping: mmap.mmap | None = None, rows: np.ndarray | None = None, *,
                 _index: tuple | None = None):
        self.table = table
        self._mapping = mapping  # the file's memory map, when the table is one
        if _index is None:
            ids = table.column("doc_id").to_pylist()
            by_id = {doc_id: row for row, doc_id in enumerate(ids)}
            if len(by_id) != len(ids):
                seen: set[str] = set()
                repeated = next(d for d in ids if d in seen or seen.add(d))
                raise ValueError(f"document id {repeated!r} appears more than once in the table")
            _index = (ids, by_id)
        self._ids, self._rows_of = _index
        self._batches = table.select(["title", "text"]).to_batches()  # random access: a batch and an offset
        self._starts = list(itertools.accumulate((len(b) for b in self._batches), initial=0))
        self._rows = None if rows is None else np.unique(rows)  # None: every row; a view's rows, ascending
        self._in_view: np.ndarray | None = None
        if rows is not None:
            self._in_view = np.zeros(len(self._ids), dtype=bool)
            self._in_view[rows] = True

    def __len__(self) -> int:
        return len(self._ids) if self._rows is None else len(self._rows)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids) if self._rows is None else (self._ids[row] for row in self._rows)

    def __contains__(self, doc_id: object) -> bool:
        row = self._rows_of.get(doc_id)  # type: ignore[call-overload]
        return row is not None and (self._in_view is None or bool(self._in_view[row]))

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self:
            raise KeyError(doc_id)
        row = self._rows_of[doc_id]
        index = bisect.bisect_right(self._starts, row) - 1
        batch, offset = self._batches[index], row - self._starts[index]
        return Document(doc_id, batch.column(1)[offset].as_py(), batch.column(0)[offset].as_py())

    def values(self) -> Iterator[Document]:  # type: ignore[override]
        """Every document, a record batch at a time (one batch of Python records at once, not all)."""
        if self._rows is None:
            for batch in self.table.select(["doc_id", "title", "text"]).to_batches(BATCH_ROWS):
                yield from map(Document, *(batch.column(i).to_pylist() for i in (0, 2, 1)))
            self.release_pages()
            return
        ids = self._ids
        for index, batch in enumerate(self._batches):  # a view's rows ascend: each batch's own, taken from it
            start, stop = self._starts[index], self._starts[index + 1]
            mine = self._rows[np.searchsorted(self._rows, start):np.searchsorted(self._rows, stop)]
            if len(mine):
                taken = batch.take(pa.array(mine - start))
                yield from map(Document, (ids[row] for row in mine), taken.column(1).to_pylist(),
                               taken.column(0).to_pylist())
        self.release_pages()

    def release_pages(self) -> None:
        """Take the file's pages out of this process's resident memory: they stay in the page cache, and
        a later read maps them again. Called after every full pass (an index built, the hash taken), so
        a pass over a million passages does not leave the whole file counted as the process's own."""
        if self._mapping is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._mapping.madvise(mmap.MADV_DONTNEED)

    def many(self, doc_ids: list[str]) -> Iterator[Document]:
        """The documents ``doc_ids`` in that order, ``BATCH_ROWS`` at a time, each batch's rows read
        from their record batches at once (faster than one by one)."""
        for start in range(0, len(doc_ids), BATCH_ROWS):
            chunk = doc_ids[start:start + BATCH_ROWS]
            missing = next((d for d in chunk if d not in self), None)
            if missing is not None:
                raise KeyError(missing)
            rows = np.fromiter((self._rows_of[d] for d in chunk), dtype=np.int64, count=len(chunk))
            texts, titles = [""] * len(chunk), [""] * len(chunk)
            which = np.searchsorted(self._starts, rows, side="right") - 1
            for index in np.unique(which):
                positions = np.flatnonzero(which == index)
                taken = self._batches[index].take(pa.array(rows[positions] - self._starts[index]))
                for position, title, text in zip(positions, taken.column(0).to_pylist(), taken.column(1).to_pylist()):
                    titles[position], texts[position] = title, text
            yield from map(Document, chunk, texts, titles)

    @functools.cached_property
    def digest(self):
        """The running hash of these documents (``Corpus.fingerprint``), computed once: they never change."""
        digest = documents_digest(self)
        self.release_pages()
        return digest

    def items(self) -> Iterator[tuple[str, Document]]:  # type: ignore[override]
        return ((doc.doc_id, doc) for doc in self.values())

    def select(self, doc_ids: Iterable[str]) -> DocumentTable:
        """A view of the documents ``doc_ids`` that are here, in this table's order (no texts copied)."""
        wanted = {self._rows_of[d] for d in doc_ids if d in self}
        mine = np.arange(len(self._ids)) if self._rows is None else self._rows
        return DocumentTable(self.table, self._mapping, mine[np.isin(mine, np.fromiter(wanted, dtype=np.int64, count=len(wanted)))],
                             _index=(self._ids, self._rows_of))

    def arrow(self) -> pa.Table:
        """The documents here as a table of their own (a view's rows taken out; the whole table as is)."""
        return self.table if self._rows is None else self.table.take(pa.array(self._rows))


class DocumentWriter:
    """Documents appended to an Arrow IPC file ``BATCH_ROWS`` at a time (never all held), written
    beside ``path`` and moved into place only when complete: leaving the ``with`` block by an
    exception leaves no file. A reader fills it as it would a dict (``writer[doc_id] = document``);
    ``finish`` closes it and maps the documents back (``DocumentTable``). ``extra``: names of more
    string columns, one value per document (``add(doc, extra=)``)."""

    def __init__(self, path: str | Path, extra: Iterable[str] = ()):
        self.path = Path(path)
        self.schema = SCHEMA
        for name in extra:
            self.schema = self.schema.append(pa.field(name, pa.large_string()))
        self._stack = contextlib.ExitStack()
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._batch: list[Document] = []
        self._extra: list[tuple] = []
        self._count = 0

    def __enter__(self) -> DocumentWriter:
        handle = self._stack.enter_context(atomic_write(self.path, "wb"))
        self._writer = self._stack.enter_context(pa.ipc.new_file(handle, self.schema))
        return self

    def add(self, doc: Document, extra: tuple = ()) -> None:
        self._batch.append(doc)
        self._extra.append(extra)
        self._count += 1
        if len(self._batch) == BATCH_ROWS:
            self._flush()

    def __setitem__(self, doc_id: str, doc: Document) -> None:
        self.add(doc)

    def __len__(self) -> int:
        return self._count

    def _flush(self) -> None:
        columns = [[d.doc_id for d in self._batch], [d.title for d in self._batch], [d.text for d in self._batch]]
        columns += [[values[i] for values in self._extra] for i in range(len(self.schema) - len(SCHEMA))]
        self._writer.write_batch(pa.record_batch(columns, schema=self.schema))
        self._batch, self._extra = [], []

    def __exit__(self, *exc) -> bool:
        if self._writer is not None and exc[0] is None and (self._batch or not self._writer.stats.num_record_batches):
            self._flush()
        self._writer = None
        return self._stack.__exit__(*exc)

    def finish(self) -> DocumentTable:
        """Close the file (complete) and map its documents."""
        self.__exit__(None, None, None)
        return open_documents(self.path)


def write_documents(path: str | Path, documents: Iterable[Document], extra: Mapping[str, Iterable] | None = None) -> Path:
    """An Arrow IPC file of ``documents`` (``extra``: more string columns, one value per document),
    written beside ``path`` and moved into place only when complete."""
    columns = {name: iter(values) for name, values in (extra or {}).items()}
    with DocumentWriter(path, columns) as writer:
        for doc in documents:
            writer.add(doc, tuple(next(values) for values in columns.values()))
    return writer.path


def read_table(path: str | Path) -> tuple[pa.Table, mmap.mmap]:
    """An Arrow IPC file's table, memory-mapped (its buffers are the file's pages, not copies), and
    the mapping (``DocumentTable.release_pages``)."""
    with open(path, "rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    return pa.ipc.open_file(pa.BufferReader(pa.py_buffer(mapping))).read_all(), mapping


def open_documents(path: str | Path) -> DocumentTable:
    """The documents of an Arrow IPC file written by ``write_documents``, memory-mapped."""
    return DocumentTable(*read_table(path))


def memory_mapped(corpus: Corpus, path: str | Path) -> Corpus:
    """``corpus`` with its documents written to the Arrow file ``path`` (atomically) and read back
    memory-mapped; everything but the documents is ``corpus``'s own."""
    return dataclasses.replace(corpus, documents=open_documents(write_documents(path, corpus.documents.values())))


ABANDONED_AFTER_S = 3600  # a temporary file not written to for this long was left by a killed process


def prune(folder: str | Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` most recently used Arrow files in ``folder`` (a corpus that is
    mapped stays readable by the processes that mapped it), and the temporary files of writes that
    were killed (untouched for ``ABANDONED_AFTER_S``; one being written is touched at every batch);
    returns what was removed."""
    import time

    files = sorted(Path(folder).glob("*.arrow"), key=lambda p: p.stat().st_mtime, reverse=True)
    abandoned = [p for p in Path(folder).glob(".*.tmp") if time.time() - p.stat().st_mtime > ABANDONED_AFTER_S]
    for stale in files[keep:] + abandoned:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    return files[keep:] + abandoned
