"""Per-query text measures: copy detection against the source document, residue, duplicates, loops.

Copy detection goes beyond the InPars toolkit's single check (the query is an exact substring of
the document):
- ``ngram_share``: the share of the query's word n-grams that occur in the document;
- ``lcs_ratio``: the longest common character substring, as a share of the query's length.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

_WORD = re.compile(r"\w+", re.UNICODE)

DEFAULT_RESIDUE_PATTERNS = (
    r"(?i)\bexample\s*\d*\s*:", r"(?i)\bdocument\s*:", r"(?i)relevant\s+query\s*:", r"(?i)\b(?:good|bad)\s+question\s*:",
    r"(?i)\barticle\s*:", r"(?i)^\s*query\s*:",
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def normalise(text: str) -> str:
    return " ".join(words(text))


def exact_copy(query: str, document: str) -> bool:
    """The query, normalised, appears verbatim in the normalised document (the InPars check)."""
    q = normalise(query)
    return bool(q) and f" {q} " in f" {normalise(document)} "


def ngram_share(query: str, document: str, n: int = 3) -> float:
    """Share of the query's word n-grams found in the document (n shrinks for very short queries)."""
    q_words, d_words = words(query), words(document)
    if not q_words:
        return 0.0
    n = min(n, len(q_words))
    q_grams = [tuple(q_words[i : i + n]) for i in range(len(q_words) - n + 1)]
    d_grams = {tuple(d_words[i : i + n]) for i in range(len(d_words) - n + 1)}
    return sum(g in d_grams for g in q_grams) / len(q_grams)


def repeated_ngram_share(text: str, n: int = 3) -> float:
    """Share of the text's word n-grams that repeat an earlier one of the same text (rep-n, Welleck et al.
    2020): a small generator's decoding loop ("the library of the library of the library ...") scores
    high, and its log-probability is high too, so the scores filter keeps it."""
    tokens = words(text)
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return 1 - len(set(grams)) / len(grams) if len(grams) > 1 else 0.0


def lcs_ratio(query: str, document: str) -> float:
    """Longest common substring (characters, case-insensitive) divided by the query's length."""
    q, d = query.lower().strip(), document.lower()
    if not q:
        return 0.0
    match = SequenceMatcher(None, q, d, autojunk=False).find_longest_match(0, len(q), 0, len(d))
    return match.size / len(q)


def is_printable(text: str) -> bool:
    """No control characters (tabs and newlines included) and no unassigned/private-use code points."""
    return all(unicodedata.category(ch)[0] != "C" for ch in text)


def residue_match(query: str, patterns: list[str] | tuple[str, ...]) -> str | None:
    for pattern in patterns:
        if re.search(pattern, query):
            return pattern
    return None


def duplicate_key(query: str) -> str:
    """Near-duplicate key: the sorted set of lower-cased words (order, case, punctuation ignored)."""
    return " ".join(sorted(set(words(query))))
