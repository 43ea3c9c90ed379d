"""Copies in a collection: exact (the same text) and near (MinHash over word shingles, datasketch).

The first document of a group (in corpus order) is kept; each other is removed from the corpus and
recorded as an alias of the kept one (``Corpus.aliases``), so it is never both a positive and a
negative, never both in training and in the held-out evaluation, and a ranking still returns it
beside its copy (``Corpus.document_run``), which keeps judged figures comparable.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import zlib
from collections.abc import Iterable, Iterator
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
    """removed document id -> the kept document it copies, and the figures (counts and a few examples).
    One pass over the documents: exact copies by a hash of the whitespace-normalised lower-case text,
    near copies (``_near_duplicates``) among the rest."""
    exact: dict[str, str] = {}

    def distinct() -> Iterator[tuple[str, list[str]]]:
        """(id, lower-case words) of each document that is not an exact copy of one before it."""
        first_of: dict[bytes, str] = {}  # 16-byte digests: 40 bytes a document less than hex strings
        for doc in corpus:
            text = " ".join(doc.text.split()).lower()
            if not text:
                continue
            kept = first_of.setdefault(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest(), doc.doc_id)
            if kept != doc.doc_id:
                exact[doc.doc_id] = kept
            else:
                yield doc.doc_id, text.split(" ")

    if config.near:
        near = _near_duplicates(distinct(), config)
    else:
        near = {}
        for _ in distinct():
            pass
    aliases = {**exact, **near}
    figures = {"exact_duplicates": len(exact), "near_duplicates": len(near),
               "duplicate_examples": [f"{a} = {k}" for a, k in list(aliases.items())[:5]]}
    if aliases:
        logger.info("Duplicates: %d exact and %d near copies (Jaccard >= %.2f), e.g. %s", len(exact), len(near),
                    config.threshold, figures["duplicate_examples"])
    return aliases, figures


def _near_duplicates(documents: Iterable[tuple[str, list[str]]], config: DuplicatesConfig,
                     chunk: int = 2000) -> dict[str, str]:
    """Near copies by MinHash LSH among ``documents`` ((id, words), in corpus order; those of fewer than
    ``min_words`` words are left out: too few shingles): each is compared with the kept documents before
    it, and is a copy of the earliest that shares a band of its signature. The signatures are computed
    ``chunk`` documents (at most ``CHUNK_WORDS`` words) at a time and only their band keys are kept
    (``band_keys``: 8 bytes a band), then the copies are found from the keys in one pass (``first_kept``): datasketch's ``MinHashLSH``,
    whose bands and rows are used, keeps Python sets and bytes per band, about 2.7 KB a document
    (2 GB at a million passages); this keeps 40 bytes."""
    import numpy as np
    from datasketch import MinHash, MinHashLSH

    shape = MinHashLSH(threshold=config.threshold, num_perm=config.num_perm)
    permutations = MinHash(num_perm=config.num_perm, seed=1).permutations  # datasketch's, as MinHash.bulk uses
    ids: list[str] = []
    keys: list[np.ndarray] = []
    candidates = ((doc_id, words) for doc_id, words in documents if len(words) >= config.min_words)
    for batch in _chunks(candidates, chunk, CHUNK_WORDS):
        signatures = minhash_signatures([words for _, words in batch], config.shingle_words, permutations)
        keys.append(band_keys(signatures, shape.b, shape.r))
        ids.extend(doc_id for doc_id, _ in batch)
    if not ids:
        return {}
    return {ids[row]: ids[kept] for row, kept in first_kept(np.concatenate(keys)).items()}


CHUNK_WORDS = 1_000_000  # words hashed together at most (a chunk of long manuals: memory bounded by words, not files)


def _chunks(documents: Iterable[tuple[str, list[str]]], most: int, words: int) -> Iterator[list[tuple[str, list[str]]]]:
    """``documents`` in order, in chunks of at most ``most`` documents, closed once they hold ``words`` words."""
    chunk: list[tuple[str, list[str]]] = []
    held = 0
    for document in documents:
        chunk.append(document)
        held += len(document[1])
        if len(chunk) == most or held >= words:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk


def minhash_signatures(documents: list[list[str]], n: int, permutations, block: int = 8):
    """(documents, permutations) uint32: the MinHash signature of each document's distinct ``n``-word
    shingles, the values datasketch's ``MinHash.bulk`` gives for them (its ``affine32`` scheme: the
    MurmurHash3 finalizer, then ``a * h + b`` modulo 2**32, the minimum per permutation) but computed
    for a chunk of documents at once in numpy: hashing each document in Python took most of
    loading's de-duplication. A shingle's hash is rolled from its words' CRC-32 (each distinct word
    of the chunk hashed once, found by Arrow's dictionary encoding); stable across processes and
    machines. ``block``: permutations computed at a time (bounds the memory)."""
    import numpy as np
    import pyarrow as pa

    a, b = (np.asarray(p, dtype=np.uint32) for p in permutations)
    lengths = np.fromiter(map(len, documents), dtype=np.int64, count=len(documents))
    words = pa.array(itertools.chain.from_iterable(documents), type=pa.string()).dictionary_encode()
    crc = np.fromiter((zlib.crc32(w.encode("utf-8")) for w in words.dictionary.to_pylist()), dtype=np.uint64)
    hashed = crc[words.indices.to_numpy(zero_copy_only=False)] if len(crc) else np.zeros(0, dtype=np.uint64)
    count = max(len(hashed) - n + 1, 0)
    rolled = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping arithmetic is the hash
        for offset in range(n):
            rolled = rolled * np.uint64(1_000_003) + hashed[offset:offset + count]
        ends = np.cumsum(lengths)
        owner = np.repeat(np.arange(len(documents), dtype=np.uint64), lengths)[:count]
        inside = np.arange(count) + n <= ends[owner.astype(np.int64)]  # a shingle never spans two documents
        pairs = np.sort((owner[inside] << np.uint64(32)) | (rolled[inside] & np.uint64(0xFFFFFFFF)))
        pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])] if len(pairs) else pairs  # distinct
        shingles = _fmix32((pairs & np.uint64(0xFFFFFFFF)).astype(np.uint32))
        owners = (pairs >> np.uint64(32)).astype(np.int64)
        starts = np.flatnonzero(np.concatenate([[True], owners[1:] != owners[:-1]])) if len(owners) else owners
        signatures = np.full((len(a), len(documents)), np.iinfo(np.uint32).max, dtype=np.uint32)
        permuted = np.empty((block, len(shingles)), dtype=np.uint32)  # reused: fresh arrays cost more than the maths
        for first in range(0, len(a) if len(starts) else 0, block):  # a row per permutation: its minima contiguous
            rows = permuted[:len(a[first:first + block])]
            np.multiply(a[first:first + block, None], shingles[None, :], out=rows)
            np.add(rows, b[first:first + block, None], out=rows)
            signatures[first:first + block, owners[starts]] = np.minimum.reduceat(rows, starts, axis=1)
    return signatures.T


def _fmix32(h):
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix of each input hash)."""
    import numpy as np

    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def band_keys(signatures, bands: int, rows: int):
    """(documents, bands) uint64: each band's ``rows`` MinHash values hashed to one key (splitmix64
    over the values; two different bands collide with probability about 2**-64)."""
    import numpy as np

    keys = np.empty((len(signatures), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping multiplication is the hash
        for band in range(bands):
            key = np.full(len(signatures), band, dtype=np.uint64)
            for column in signatures[:, band * rows:(band + 1) * rows].T:
                key = _splitmix64(key ^ column.astype(np.uint64))
            keys[:, band] = key
    return keys


def first_kept(keys) -> dict[int, int]:
    """row -> the earliest kept row sharing a band key with it, over rows in order: a row that shares
    none with a kept row before it is kept (what querying then inserting into an LSH index does).
    Only rows that share a key with any other row are visited one by one."""
    import numpy as np

    rows, bands = keys.shape
    groups = np.empty((rows, bands), dtype=np.int64)
    shared = np.zeros(rows, dtype=bool)
    offset = 0
    for band in range(bands):
        _, inverse, counts = np.unique(keys[:, band], return_inverse=True, return_counts=True)
        groups[:, band] = inverse + offset
        shared |= counts[inverse] > 1
        offset += len(counts)
    earliest = np.full(offset, -1, dtype=np.int64)  # group -> its first kept row
    copies: dict[int, int] = {}
    for row in np.flatnonzero(shared).tolist():
        kept = earliest[groups[row]]
        kept = kept[kept >= 0]
        if kept.size:
            copies[row] = int(kept.min())
        else:
            earliest[groups[row]] = row
    return copies


def _splitmix64(z):
    import numpy as np

    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
