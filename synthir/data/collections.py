"""Load a whole collection from a BEIR folder or an ``ir_datasets`` id."""

from __future__ import annotations

import logging
from pathlib import Path

from synthir.data.errors import DataFormatError, DatasetUnavailableError
from synthir.data.readers import read_corpus, read_qrels, read_queries
from synthir.data.records import Collection, Corpus, Document, Qrels, Queries, check_qrels_ids

logger = logging.getLogger(__name__)

IRDS_PREFIX = "irds:"


def load_collection(
    spec: str | Path,
    split: str = "test",
    unknown_ids: str = "raise",
    on_bad_line: str = "raise",
) -> Collection:
    """Load a collection from a BEIR-layout folder or an ``ir_datasets`` id.

    ``spec`` is a path to a folder holding ``corpus.jsonl``, ``queries.jsonl`` and optionally
    ``qrels/<split>.tsv``; or an ir_datasets id such as ``beir/scifact/test`` (optionally prefixed
    ``irds:``). Only queries are kept that the split judges, when judgments exist.
    """
    text = str(spec)
    path = Path(text)
    if not text.startswith(IRDS_PREFIX) and path.exists():
        return _load_beir_folder(path, split, unknown_ids, on_bad_line)
    if text.startswith(IRDS_PREFIX) or ("/" in text and not text.startswith((".", "/"))):
        return _load_ir_datasets(text.removeprefix(IRDS_PREFIX), unknown_ids)
    raise DataFormatError(
        path, None, "no such collection folder; expected a BEIR folder (corpus.jsonl, queries.jsonl,"
        " qrels/<split>.tsv) or an ir_datasets id such as 'beir/scifact/test'"
    )


def _load_beir_folder(folder: Path, split: str, unknown_ids: str, on_bad_line: str) -> Collection:
    if not folder.is_dir():
        raise DataFormatError(folder, None, "expected a folder in BEIR layout, got a file")
    corpus = read_corpus(folder / "corpus.jsonl", name=folder.name, on_bad_line=on_bad_line)
    queries = read_queries(folder / "queries.jsonl", name=folder.name, on_bad_line=on_bad_line)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    qrels = None
    if qrels_path.exists():
        qrels = check_qrels_ids(read_qrels(qrels_path, name=f"{folder.name}/{split}", on_bad_line=on_bad_line),
                                queries, corpus, unknown_ids)
    elif (folder / "qrels").is_dir():
        available = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
        raise DataFormatError(qrels_path, None, f"no qrels for split {split!r}; available splits: {available}")
    collection = Collection(corpus=corpus, queries=queries, qrels=qrels, name=folder.name)
    return collection


def _load_ir_datasets(dataset_id: str, unknown_ids: str) -> Collection:
    import ir_datasets

    try:
        dataset = ir_datasets.load(dataset_id)
    except KeyError:
        raise DatasetUnavailableError(
            f"{dataset_id!r} is not an ir_datasets id (see https://ir-datasets.com) and no folder of that name exists"
        ) from None
    name = dataset_id.replace("/", "-")
    try:
        documents = {}
        for doc in dataset.docs_iter():
            doc_id = doc.doc_id
            documents[doc_id] = Document(doc_id=doc_id, title=getattr(doc, "title", "") or "",
                                         text=getattr(doc, "text", "") or getattr(doc, "default_text", lambda: "")())
        corpus = Corpus(documents, name=name, source=f"irds:{dataset_id}")
        queries = Queries({q.query_id: getattr(q, "text", None) or q.default_text() for q in dataset.queries_iter()},
                          name=name, source=f"irds:{dataset_id}")
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
    if not corpus.documents:
        raise DataFormatError(f"irds:{dataset_id}", None, "the corpus has zero documents")
    return Collection(corpus=corpus, queries=queries, qrels=qrels, name=name)
