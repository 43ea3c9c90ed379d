"""Retrieval: BM25 (pyserini/Lucene) with the JVM bootstrap in ``pyserini_env``."""

from synthir.retrieval.bm25 import BM25Config, BM25Index, IndexInfo

__all__ = ["BM25Config", "BM25Index", "IndexInfo"]
