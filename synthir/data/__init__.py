"""Data layer: typed records, readers and writers for BEIR / TREC / ir_datasets collections."""

from synthir.data.collections import load_collection
from synthir.data.errors import DataFormatError, DatasetUnavailableError
from synthir.data.io import atomic_write
from synthir.data.readers import read_corpus, read_qrels, read_queries, read_run
from synthir.data.records import Collection, Corpus, Document, Qrels, Queries, ReadStats, Run, check_qrels_ids
from synthir.data.writers import (
    write_beir,
    write_corpus_jsonl,
    write_qrels_trec,
    write_qrels_tsv,
    write_queries_jsonl,
    write_queries_tsv,
    write_run_trec,
)

__all__ = [
    "Collection", "Corpus", "DataFormatError", "DatasetUnavailableError", "Document", "Qrels", "Queries",
    "ReadStats", "Run", "atomic_write", "check_qrels_ids", "load_collection", "read_corpus", "read_qrels",
    "read_queries", "read_run", "write_beir", "write_corpus_jsonl", "write_qrels_trec", "write_qrels_tsv",
    "write_queries_jsonl", "write_queries_tsv", "write_run_trec",
]
