"""Copies in a collection: exact (the same text) and near (MinHash over word shingles, datasketch).

The first document of a group (in corpus order) is kept; each other is removed from the corpus and
recorded as an alias of the kept one (``Corpus.aliases``), so it is never both a positive and a
negative, never both in training and in the held-out evaluation, and a ranking still returns it
beside its copy (``Corpus.document_run``), which keeps judged figures comparable.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Literal

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.data.records import Corpus

logger = logging.getLogger(__name__)


class DuplicatesConfig(ConfigBlock):
    """What counts as a copy, and what happens to it."""

    yaml_path = "inpars.documents.duplicates"
    policy: Literal["alias", "keep"] = Field("alias", description="alias: keep the first of each group and record the "
                                                                  "others as its aliases; keep: keep every copy")
    near: bool = Field(True, description="also find near-duplicates (MinHash); false: exact copies only")
    threshold: float = Field(0.9, gt=0, le=1, description="estimated Jaccard similarity of word shingles that makes a "
                                                          "near-duplicate")
    shingle_words: int = Field(5, ge=1, description="words per shingle")
    num_perm: int = Field(128, ge=16, description="MinHash permutations (more: a closer estimate, slower)")
    min_words: int = Field(30, ge=1, description="shorter documents are compared exactly only (too few shingles)")


def find_duplicates(corpus: Corpus, config: DuplicatesConfig) -> tuple[dict[str, str], dict]:
    """removed document id -> the kept document it copies, and the figures (counts and a few examples)."""
    exact: dict[str, str] = {}
    first_of: dict[str, str] = {}
    for doc in corpus:
        text = " ".join(doc.text.split()).lower()
        if not text:
            continue
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        kept = first_of.setdefault(key, doc.doc_id)
        if kept != doc.doc_id:
            exact[doc.doc_id] = kept
    near = _near_duplicates(corpus, config, exact) if config.near else {}
    aliases = {**exact, **near}
    figures = {"exact_duplicates": len(exact), "near_duplicates": len(near),
               "duplicate_examples": [f"{a} = {k}" for a, k in list(aliases.items())[:5]]}
    if aliases:
        logger.info("Duplicates: %d exact and %d near copies (Jaccard >= %.2f), e.g. %s", len(exact), len(near),
                    config.threshold, figures["duplicate_examples"])
    return aliases, figures


def _near_duplicates(corpus: Corpus, config: DuplicatesConfig, exact: dict[str, str], chunk: int = 2000) -> dict[str, str]:
    """Near copies by MinHash LSH, ``chunk`` documents' shingles at a time (a million documents' shingle
    sets at once would take gigabytes); each document is compared with the kept ones before it."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    position: dict[str, int] = {}
    near: dict[str, str] = {}
    candidates = [doc for doc in corpus if doc.doc_id not in exact and len(doc.text.split()) >= config.min_words]
    word_hashes: dict[str, int] = {}
    for start in range(0, len(candidates), chunk):
        batch = candidates[start:start + chunk]
        if len(word_hashes) > 2_000_000:  # a bounded cache: a large collection's vocabulary keeps growing
            word_hashes.clear()
        shingles = [_shingle_hashes(doc.text.lower().split(), config.shingle_words, word_hashes) for doc in batch]
        for doc, minhash in zip(batch, MinHash.bulk(shingles, num_perm=config.num_perm, seed=1, hashfunc=int)):
            position[doc.doc_id] = len(position)
            matches = lsh.query(minhash)
            if matches:  # the earliest kept document it matches
                near[doc.doc_id] = min(matches, key=position.__getitem__)
                continue
            lsh.insert(doc.doc_id, minhash)
    return near


def _shingle_hashes(words: list[str], n: int, word_hashes: dict[str, int]) -> list[int]:
    """32-bit hashes of the distinct ``n``-word shingles of ``words``: each word hashed once (CRC-32,
    cached across documents) and a shingle's hash rolled from its words' in numpy, since hashing every
    shingle's string took most of the time. Stable across processes and machines."""
    import zlib

    import numpy as np

    for word in words:
        if word not in word_hashes:
            word_hashes[word] = zlib.crc32(word.encode("utf-8"))
    hashed = np.fromiter((word_hashes[w] for w in words), dtype=np.uint64, count=len(words))
    count = len(words) - n + 1
    rolled = np.zeros(max(count, 0), dtype=np.uint64)
    for offset in range(n):  # wraps modulo 2**64, as intended
        rolled = rolled * np.uint64(1_000_003) + hashed[offset:offset + count]
    return np.unique(rolled & np.uint64(0xFFFFFFFF)).tolist()
