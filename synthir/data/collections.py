"""Load a collection, labelled or corpus-only, from any of the forms ``load_collection`` lists."""

from __future__ import annotations

import itertools
import logging
import tempfile
from pathlib import Path

from synthir.data.building import documents_into
from synthir.data.columnar import DocumentWriter
from synthir.data.errors import DataFormatError, DatasetUnavailableError
from synthir.data.readers import read_corpus, read_qrels, read_queries
from synthir.data.records import Collection, Corpus, Document, Qrels, Queries, check_qrels_ids

logger = logging.getLogger(__name__)

IRDS_PREFIX = "irds:"


CORPUS_FILE_SUFFIXES = (".jsonl", ".json", ".tsv", ".csv", ".parquet")
EXPECTED = ("a BEIR folder (corpus.jsonl; queries.jsonl and qrels/<split>.tsv when labelled), a corpus file "
            "(.jsonl, .tsv, .csv, .parquet), a folder of .txt/.md/.html/.pdf documents, a Hugging Face dataset "
            "saved with save_to_disk, or an ir_datasets id such as 'beir/scifact/test'")


def load_collection(
    spec: str | Path,
    split: str = "test",
    unknown_ids: str = "raise",
    on_bad_line: str = "raise",
    queries: str | Path | None = None,
    into: str | Path | None = None,
) -> Collection:
    """Load a collection, labelled or not. ``spec`` is one of:

    - a BEIR folder: ``corpus.jsonl``, and when labelled ``queries.jsonl`` and ``qrels/<split>.tsv``;
    - a corpus file: ``.jsonl``, ``.tsv``, ``.csv`` or ``.parquet`` (BEIR field names);
    - a folder of ``.txt``/``.md``/``.html``/``.pdf`` documents (``synthir.data.documents``);
    - a Hugging Face dataset saved with ``save_to_disk`` (``synthir.data.tables``);
    - a drop folder of corpus parts (``incoming/*.jsonl``): their union;
    - any of those in object storage or at a URL (``s3://``, ``gs://``, ``https://``; ``synthir.data.remote``);
    - an ir_datasets id such as ``beir/scifact/test`` (optionally prefixed ``irds:``).

    ``queries`` names a queries file of the user's own (a query log; unjudged unless the collection's
    qrels judge them), replacing the collection's. Without judgments ``qrels`` is None. ``into``: an
    Arrow file the documents are written to as they are read and mapped from, so a large collection
    is never held as records (``synthir.data.columnar``); None: a dict of records.
    """
    from synthir.data.remote import fetch

    text = str(spec)
    kind = collection_kind(text)
    if kind == "remote":
        with tempfile.TemporaryDirectory(prefix="synthir-remote-") as tmp:
            local = fetch(text, Path(tmp))
            collection = _load_path(local, split, unknown_ids, on_bad_line, into)
            collection.corpus.source = collection.corpus.source.replace(str(local), text.rstrip("/"))
    elif kind == "path":
        collection = _load_path(Path(text), split, unknown_ids, on_bad_line, into)
    else:
        collection = _load_ir_datasets(text.removeprefix(IRDS_PREFIX), unknown_ids, into)
    if queries is not None:
        own = read_queries(queries, name=collection.name, on_bad_line=on_bad_line)
        qrels = None if collection.qrels is None else check_qrels_ids(collection.qrels, own, collection.corpus, "drop")
        collection = Collection(corpus=collection.corpus, queries=own, qrels=qrels or None, name=collection.name)
    return collection


def collection_kind(spec: str | Path) -> str:
    """How ``load_collection`` reads ``spec``, decided without reading it: ``remote`` (object storage or a
    URL), ``path`` (a local file or folder) or ``ir_datasets`` (an id such as ``beir/scifact/test``). A
    local path that does not exist (one starting with ``/`` or ``.``, or a name without ``/``) is a
    :class:`DataFormatError` naming it, so ``synthir check`` finds it before a run starts."""
    from synthir.data.remote import is_remote

    text = str(spec)
    if is_remote(text):
        return "remote"
    if not text.startswith(IRDS_PREFIX) and Path(text).exists():
        return "path"
    if text.startswith(IRDS_PREFIX) or ("/" in text and not text.startswith((".", "/"))):
        return "ir_datasets"
    raise DataFormatError(text, None, f"no such file or folder; expected {EXPECTED}")


def _load_path(path: Path, split: str, unknown_ids: str, on_bad_line: str,
               into: str | Path | None = None) -> Collection:
    from synthir.data.documents import looks_like_document_folder, read_document_folder
    from synthir.data.tables import is_saved_dataset, read_saved_dataset

    if path.is_file():
        if path.suffix.lower() not in CORPUS_FILE_SUFFIXES:
            raise DataFormatError(path, None, f"not a corpus file (suffix {path.suffix or 'none'!r}); expected {EXPECTED}")
        return _corpus_only(read_corpus(path, on_bad_line=on_bad_line, into=into))
    if (path / "corpus.jsonl").exists():
        return _load_beir_folder(path, split, unknown_ids, on_bad_line, into)
    if is_saved_dataset(path):
        return _corpus_only(read_saved_dataset(path, into=into))
    parts = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CORPUS_FILE_SUFFIXES
                   and not p.name.startswith("."))
    if parts and not looks_like_document_folder(path):
        return _corpus_only(_read_drop_folder(path, parts, on_bad_line, into))
    if looks_like_document_folder(path):
        return _corpus_only(read_document_folder(path, on_bad_line=on_bad_line, into=into))
    raise DataFormatError(path, None, f"neither a BEIR folder (no corpus.jsonl) nor a folder of documents; expected {EXPECTED}")


def _read_drop_folder(folder: Path, parts: list[Path], on_bad_line: str, into: str | Path | None = None) -> Corpus:
    """A drop folder: the union of its corpus parts (``incoming/*.jsonl``, ...), read in name order; a
    document id in a later part replaces the earlier one (an update) and keeps its place, as a dict's
    update would. ``corpus.parts`` lists them. With ``into``, each part is read into an Arrow file of
    its own beside it, and the union written from those (never the documents held as records)."""
    names = [p.name for p in parts]
    if into is None:
        documents: dict[str, Document] = {}
        for part in parts:
            documents.update(read_corpus(part, on_bad_line=on_bad_line).documents)
    else:
        into = Path(into)
        part_files = [into.with_name(f"{into.stem}.part-{n}.arrow") for n in range(len(parts))]
        try:  # a killed run's part files are pruned with the least recently used corpora
            tables = [read_corpus(part, on_bad_line=on_bad_line, into=file).documents
                      for part, file in zip(parts, part_files)]
            latest: dict[str, int] = {}  # each id's last part, in the order ids first appear
            for n, table in enumerate(tables):
                latest.update(dict.fromkeys(table, n))
            with documents_into(into) as writer:
                for n, run in itertools.groupby(latest.items(), key=lambda item: item[1]):  # a part's ids at once
                    for doc in tables[n].many([doc_id for doc_id, _ in run]):
                        writer[doc.doc_id] = doc
                documents = writer.finish()
        finally:
            for file in part_files:
                file.unlink(missing_ok=True)  # a table mapped from one stays readable; the union is its own file
    logger.info("%s: %d documents from %d part(s): %s", folder, len(documents), len(parts), names)
    return Corpus(documents, name=folder.name, source=str(folder), parts=names)


def _corpus_only(corpus: Corpus) -> Collection:
    return Collection(corpus=corpus, queries=Queries({}, name=corpus.name, source=corpus.source), qrels=None,
                      name=corpus.name)


def _load_beir_folder(folder: Path, split: str, unknown_ids: str, on_bad_line: str,
                      into: str | Path | None = None) -> Collection:
    corpus = read_corpus(folder / "corpus.jsonl", name=folder.name, on_bad_line=on_bad_line, into=into)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not (folder / "queries.jsonl").exists():
        if qrels_path.exists():
            raise DataFormatError(folder / "queries.jsonl", None, f"file not found; {qrels_path} judges queries, "
                                                                  "so the folder needs the queries it names")
        return Collection(corpus=corpus, queries=Queries({}, name=folder.name), qrels=None, name=folder.name)
    queries = read_queries(folder / "queries.jsonl", name=folder.name, on_bad_line=on_bad_line)
    qrels = None
    if qrels_path.exists():
        qrels = check_qrels_ids(read_qrels(qrels_path, name=f"{folder.name}/{split}", on_bad_line=on_bad_line),
                                queries, corpus, unknown_ids)
    elif (folder / "qrels").is_dir():
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise DataFormatError(qrels_path, None, f"no qrels for split {split!r}; available splits: {available}")
    return Collection(corpus=corpus, queries=queries, qrels=qrels, name=folder.name)


def _load_ir_datasets(dataset_id: str, unknown_ids: str, into: str | Path | None = None) -> Collection:
    import ir_datasets

    try:
        dataset = ir_datasets.load(dataset_id)
    except KeyError:
        raise DatasetUnavailableError(
            f"{dataset_id!r} is not an ir_datasets id (see https://ir-datasets.com) and no folder of that name exists"
        ) from None
    name = dataset_id.replace("/", "-")
    try:
        with documents_into(into) as documents:
            for doc in dataset.docs_iter():
                doc_id = doc.doc_id
                documents[doc_id] = Document(doc_id=doc_id, title=getattr(doc, "title", "") or "",
                                             text=getattr(doc, "text", "") or getattr(doc, "default_text", lambda: "")())
            if not documents:
                raise DataFormatError(f"irds:{dataset_id}", None, "the corpus has zero documents")
            table = documents.finish() if isinstance(documents, DocumentWriter) else documents
        corpus = Corpus(table, name=name, source=f"irds:{dataset_id}")
        queries = Queries({q.query_id: getattr(q, "text", None) or q.default_text() for q in dataset.queries_iter()}
                          if dataset.has_queries() else {}, name=name, source=f"irds:{dataset_id}")
        qrels = None
        if dataset.has_qrels():
            judgments: dict[str, dict[str, int]] = {}
            for qrel in dataset.qrels_iter():
                judgments.setdefault(qrel.query_id, {})[qrel.doc_id] = int(qrel.relevance)
            qrels = check_qrels_ids(Qrels(judgments, name=name, source=f"irds:{dataset_id}"), queries, corpus, unknown_ids)
    except (OSError, ConnectionError, RuntimeError) as err:
        raise DatasetUnavailableError(
            f"could not download ir_datasets collection {dataset_id!r} ({type(err).__name__}: {err}). "
            "This machine may be offline. Point `collection` at a local BEIR folder (corpus.jsonl, "
            "queries.jsonl, qrels/test.tsv) instead, or copy the dataset's files into "
            "$IR_DATASETS_HOME (default ~/.ir_datasets) so ir_datasets finds them without downloading."
        ) from err
    return Collection(corpus=corpus, queries=queries, qrels=qrels, name=name)
