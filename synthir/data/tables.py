"""Corpora as tables: CSV and parquet files, and Hugging Face ``datasets`` saved to disk.

Rows are read as records with the same field names as BEIR's ``corpus.jsonl`` (an id such as
``_id``/``id``/``doc_id``, an optional ``title``, a text such as ``text``/``contents``), so every
corpus form shares one set of checks. CSV errors name the line (``csv`` tracks it across quoted
newlines); parquet and dataset errors name the row.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthir.data.errors import DataFormatError
from synthir.data.io import decode_utf8
from synthir.data.records import Corpus, ReadStats

HF_DATASET_MARKERS = ("dataset_dict.json", "dataset_info.json", "state.json")
HF_CORPUS_SPLITS = ("corpus", "train")


def read_table_corpus(path: Path, name: str, into: str | Path | None = None) -> Corpus:
    """A corpus from a ``.csv`` file (errors name the line) or a ``.parquet`` file (they name the row),
    read a record batch at a time. ``into``: as ``read_corpus``'s."""
    if path.suffix == ".csv":
        return _corpus_from_rows(_iter_csv(path), path, name, "line", into)
    return _corpus_from_rows(enumerate(_parquet_rows(path), start=1), path, name, "row", into)


TABLE_BATCH_ROWS = 10_000  # rows of a table turned into records at once


def _parquet_rows(path: Path) -> Iterator[dict[str, Any]]:
    """A parquet file's rows as records, a record batch at a time; a file that is not parquet, or is
    damaged part way, is a DataFormatError."""
    import pyarrow.parquet as pq

    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=TABLE_BATCH_ROWS):
            yield from batch.to_pylist()
    except Exception as err:  # pyarrow raises several types for a file that is not parquet
        raise DataFormatError(path, None, f"not a readable parquet file ({type(err).__name__}: {err})") from None


def _corpus_from_rows(rows: Iterator[tuple[int, dict[str, Any]]], path: Path, name: str, unit: str,
                      into: str | Path | None = None) -> Corpus:
    from synthir.data.building import add_document_record, documents_into, finish_corpus

    stats = ReadStats()
    seen: dict[str, int] = {}
    with documents_into(into) as documents:
        for number, record in rows:
            stats.lines += 1
            try:
                add_document_record(documents, seen, stats, path, None, record)
            except DataFormatError as err:
                if unit == "line":
                    raise DataFormatError(path, number, err.message) from None
                raise DataFormatError(path, None, f"row {number}: {err.message}") from None
        return finish_corpus(documents, stats, path, name)


def _iter_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    # decoded whole first: a decoding error's offset then counts from the file's start, so its line is right
    text = decode_utf8(path, path.read_bytes())
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise DataFormatError(path, 1, "expected a header row naming the columns (id, [title,] text)")
        for record in reader:
            if None in record:  # more cells than the header names
                raise DataFormatError(path, reader.line_num, f"{len(reader.fieldnames) + len(record[None])} "
                                      f"cells, but the header names {len(reader.fieldnames)} columns")
            yield reader.line_num, {k: v for k, v in record.items() if v is not None}
    except csv.Error as err:
        raise DataFormatError(path, None, f"not a readable CSV table ({err})") from None


def is_saved_dataset(folder: Path) -> bool:
    """A folder written by ``datasets``' ``save_to_disk`` (a ``Dataset`` or a ``DatasetDict``)."""
    return any((folder / marker).exists() for marker in HF_DATASET_MARKERS)


def load_saved_dataset(folder: Path, splits: tuple[str, ...], single_split: bool = True):
    """A ``datasets.Dataset`` saved to disk; from a ``DatasetDict``, the first of ``splits`` it has,
    else (``single_split``) its only split. A broken folder or no such split is a DataFormatError."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as err:  # datasets raises FileNotFoundError, ValueError, ... for a broken folder
        raise DataFormatError(folder, None, f"not a readable saved dataset ({type(err).__name__}: {err})") from None
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        split = next((s for s in splits if s in loaded), names[0] if single_split and len(names) == 1 else None)
        if split is None:
            raise DataFormatError(folder, None, f"a DatasetDict with splits {names}; expected one named "
                                                f"{' or '.join(splits)}{', or a single split' if single_split else ''}")
        loaded = loaded[split]
    return loaded


def read_saved_dataset(folder: Path, name: str | None = None, into: str | Path | None = None) -> Corpus:
    """A corpus from a Hugging Face dataset saved to disk. A ``DatasetDict`` gives its ``corpus`` split
    (as BEIR datasets on the Hub name it), else ``train``, else its only split. ``into``: as
    ``read_corpus``'s."""
    loaded = load_saved_dataset(folder, HF_CORPUS_SPLITS)
    rows = itertools.chain.from_iterable(
        _records(loaded[start:start + TABLE_BATCH_ROWS]) for start in range(0, len(loaded), TABLE_BATCH_ROWS))
    return _corpus_from_rows(enumerate(rows, start=1), folder, name or folder.name, "row", into)


def _records(columns: dict[str, list]) -> list[dict[str, Any]]:
    """A slice of a dataset (column -> values) as one record per row."""
    return [dict(zip(columns, values)) for values in zip(*columns.values())]
