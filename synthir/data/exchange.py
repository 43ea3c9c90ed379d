"""Synthetic query sets in the formats other toolkits train from and publish in.

- **Hugging Face ``datasets``**: one row per query (``query_id``, ``doc_id``, ``query``, ``doc_text``,
  ``log_probs``, ``prompt_id``, ``generator``, ``fewshot_examples``, ``extra`` as JSON); the set's
  lineage (generator, prompt, corpus fingerprint, filters) is the dataset's ``description``.
  ``save_to_disk`` / ``push_to_hub`` as usual; a saved one reads back with ``read_hf_queries``.
  Triples: ``Triples.to_dataset`` (``anchor``, ``positive``, ``negative``: sentence-transformers' names).
- **GPL / BEIR ``qgen``** (what GPL's query generation writes and trains from): a BEIR folder with
  ``corpus.jsonl``, ``<prefix>-queries.jsonl`` (``_id``, ``text``) and ``<prefix>-qrels/train.tsv``
  (``query-id``, ``corpus-id``, ``score``), prefix ``qgen`` by default.
- InPars JSONL lives in ``synthir.data.synthetic``.

``read_published_queries`` takes any of the three by what the path is.
"""

from __future__ import annotations

import json
from pathlib import Path

from synthir.data.errors import DataFormatError
from synthir.data.io import atomic_write, iter_json_lines, pick_field, require_file
from synthir.data.readers import read_corpus, read_qrels
from synthir.data.records import Corpus, ReadStats
from synthir.data.synthetic import SyntheticQueries, SyntheticQuery, read_inpars_jsonl
from synthir.data.tables import is_saved_dataset, load_saved_dataset

QGEN_PREFIX = "qgen"
LINEAGE_KEY = "synthir"  # the description's JSON key holding the set's lineage


def queries_to_dataset(queries: SyntheticQueries):
    """The queries as a ``datasets.Dataset``, one row per query, the lineage in its description."""
    from datasets import Dataset, DatasetInfo

    frame = queries.to_frame()
    frame.insert(0, "query_id", [q.query_id for q in queries])
    info = DatasetInfo(description=json.dumps({LINEAGE_KEY: queries.meta()}))
    return Dataset.from_pandas(frame, preserve_index=False, info=info)


def dataset_to_queries(dataset, source: str = "dataset") -> SyntheticQueries:
    """A dataset written by ``queries_to_dataset`` (or any with ``doc_id`` and ``query`` columns) back
    into queries; missing optional columns take their defaults."""
    missing = {"doc_id", "query"} - set(dataset.column_names)
    if missing:
        raise DataFormatError(source, None, f"a synthetic query dataset needs the columns doc_id and query; "
                              f"missing {sorted(missing)} (has {dataset.column_names})")
    queries, per_doc = [], {}
    for row in dataset:
        extra = row.get("extra") or {}
        extra = json.loads(extra) if isinstance(extra, str) else dict(extra)
        doc_id = str(row["doc_id"])
        if "index" not in extra:
            extra["index"] = per_doc.get(doc_id, 0)
        per_doc[doc_id] = extra["index"] + 1
        queries.append(SyntheticQuery(
            doc_id=doc_id, query=str(row["query"]).strip(), log_probs=[float(x) for x in row.get("log_probs") or []],
            prompt_id=row.get("prompt_id") or "", generator=row.get("generator") or "", doc_text=row.get("doc_text") or "",
            prompt_text=row.get("prompt_text") or "", fewshot_examples=[str(x) for x in row.get("fewshot_examples") or []],
            extra=extra))
    try:
        meta = json.loads(dataset.info.description or "{}").get(LINEAGE_KEY, {})
    except json.JSONDecodeError:  # someone else's dataset: a prose description
        meta = {}
    known = {"generator", "prompt_id", "corpus_fingerprint", "config_hash", "fewshot_query_ids", "stats", "filters"}
    return SyntheticQueries(queries, **{k: v for k, v in meta.items() if k in known})


def read_hf_queries(path: str | Path) -> SyntheticQueries:
    """A synthetic query dataset saved with ``save_to_disk`` (of a published ``DatasetDict``, its train split)."""
    return dataset_to_queries(load_saved_dataset(Path(path), ("train",), single_split=False), str(path))


def attach_to_corpus(queries: SyntheticQueries, corpus: Corpus, source: str | Path) -> SyntheticQueries:
    """Imported ``queries`` made the ``corpus``'s: every document id must be in it (else a
    DataFormatError naming ``source``), texts missing from the file are taken from it, and the
    corpus fingerprint is set."""
    unknown = sorted({q.doc_id for q in queries if q.doc_id not in corpus})
    if unknown:
        raise DataFormatError(source, None, f"{len(unknown)} document id(s) are not in the corpus {corpus.name} "
                              f"(first: {unknown[:5]}): the queries were written for another collection")
    for query in queries:
        query.doc_text = query.doc_text or corpus[query.doc_id].contents
    queries.corpus_fingerprint = corpus.fingerprint()
    return queries


def write_qgen(queries: SyntheticQueries, corpus: Corpus, folder: str | Path, prefix: str = QGEN_PREFIX) -> Path:
    """The GPL/BEIR qgen layout: the corpus, the queries and their source documents as train qrels."""
    folder = Path(folder)
    with atomic_write(folder / "corpus.jsonl") as out:
        for doc in corpus:
            out.write(json.dumps({"_id": doc.doc_id, "title": doc.title, "text": doc.text}, ensure_ascii=False) + "\n")
    with atomic_write(folder / f"{prefix}-queries.jsonl") as out:
        for q in queries:
            out.write(json.dumps({"_id": q.query_id, "text": q.query}, ensure_ascii=False) + "\n")
    with atomic_write(folder / f"{prefix}-qrels" / "train.tsv") as out:
        out.write("query-id\tcorpus-id\tscore\n")
        for q in queries:
            out.write(f"{q.query_id}\t{q.doc_id}\t1\n")
    return folder


def read_qgen(folder: str | Path, prefix: str = QGEN_PREFIX, generator: str = "imported") -> SyntheticQueries:
    """Queries from a GPL/BEIR qgen folder: each query's source document is its train qrel of score > 0
    (GPL writes one per query); documents' texts from the folder's corpus when it has one."""
    folder = Path(folder)
    queries_path = require_file(folder / f"{prefix}-queries.jsonl", "qgen queries (_id, text per line)")
    qrels_path = require_file(folder / f"{prefix}-qrels" / "train.tsv", "qgen qrels (query-id, corpus-id, score)")
    texts: dict[str, str] = {}
    stats = ReadStats()
    for line, record in iter_json_lines(queries_path, stats, "raise"):
        query_id = str(pick_field(record, ("_id", "id"), queries_path, line, "query id"))
        texts[query_id] = str(pick_field(record, ("text", "query"), queries_path, line, "query text"))
    sources = {query_id: next(iter(relevant)) for query_id, grades in read_qrels(qrels_path).judgments.items()
               if (relevant := [doc for doc, grade in grades.items() if grade > 0])}
    unlinked = sorted(set(texts) - set(sources))
    if unlinked:
        raise DataFormatError(qrels_path, None, f"{len(unlinked)} queries have no source document in the qrels "
                              f"(first: {unlinked[:5]})")
    corpus = None
    if (folder / "corpus.jsonl").exists():
        corpus = read_corpus(folder / "corpus.jsonl")
    per_doc: dict[str, int] = {}
    queries = []
    for query_id, text in texts.items():
        doc_id = sources[query_id]
        index = per_doc.get(doc_id, 0)
        per_doc[doc_id] = index + 1
        doc_text = corpus[doc_id].contents if corpus is not None and doc_id in corpus else ""
        queries.append(SyntheticQuery(doc_id=doc_id, query=text.strip(), prompt_id=prefix, generator=generator,
                                      doc_text=doc_text, extra={"index": index, "source_query_id": query_id}))
    if not queries:
        raise DataFormatError(queries_path, None, "no queries found; expected one JSON object per line")
    return SyntheticQueries(queries, generator=generator, prompt_id=prefix)


def read_published_queries(path: str | Path, generator: str = "imported") -> SyntheticQueries:
    """Synthetic queries from an InPars JSONL file, a GPL/BEIR qgen folder, or a saved Hugging Face dataset."""
    path = Path(path)
    if path.is_file():
        return read_inpars_jsonl(path, generator=generator)
    if path.is_dir() and any(path.glob("*-queries.jsonl")):
        prefix = next(path.glob("*-queries.jsonl")).name.removesuffix("-queries.jsonl")
        return read_qgen(path, prefix=prefix, generator=generator)
    if path.is_dir() and is_saved_dataset(path):
        return read_hf_queries(path)
    raise DataFormatError(path, None, "expected an InPars JSONL file, a GPL/BEIR qgen folder (<prefix>-queries.jsonl "
                          "and <prefix>-qrels/train.tsv) or a Hugging Face dataset saved with save_to_disk")
