"""Lines repeated across a collection's documents: menus, page headers and footers, copyright lines,
PDF running heads (HTML's own navigation is already left out by the folder reader's trafilatura)."""

from __future__ import annotations

import dataclasses
import logging
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.data.records import Corpus, Document, select_documents

logger = logging.getLogger(__name__)


class BoilerplateConfig(ConfigBlock):
    """Lines that repeat across many documents (menus, headers, footers, copyright lines)."""

    yaml_path = "inpars.documents.boilerplate"
    enabled: bool = Field(True, description="drop lines repeated across documents")
    min_share: float = Field(0.3, gt=0, le=1, description="a line in at least this share of the documents is boilerplate")
    min_documents: int = Field(5, ge=2, description="... and in at least this many documents")
    max_line_chars: int = Field(200, ge=1, description="longer lines are never boilerplate")


def remove_boilerplate(corpus: Corpus, config: BoilerplateConfig) -> tuple[Corpus, dict[str, Any]]:
    """Lines found in at least ``min_share`` and ``min_documents`` of the documents with more than
    one line, removed from those documents (never all of one); the figures name the most frequent.
    The corpus returned reads its documents without those lines as it goes (``WithoutBoilerplate``):
    no copy of the texts is made."""
    lines, figures = find_boilerplate(corpus, config)
    if not lines:
        return corpus, figures
    cleaned = WithoutBoilerplate(corpus.documents, lines)
    figures["boilerplate_chars_removed"] = sum(len(doc.text) - len(cleaned.clean(doc).text) for doc in corpus)
    logger.info("Boilerplate: %d line(s) repeated in at least %d documents removed (%d characters), e.g. %s",
                len(lines), int(figures["boilerplate_bar"]), figures["boilerplate_chars_removed"],
                figures["boilerplate_examples"])
    return dataclasses.replace(corpus, documents=cleaned, aliases=dict(corpus.aliases)), figures


SAMPLE_DOCUMENTS = 20_000  # a larger collection's lines are counted in a stable sample of this many documents ...
SAMPLE_SLACK = 0.8  # ... where a line in this share of the bar's documents is a candidate, counted again in all


def find_boilerplate(corpus: Corpus, config: BoilerplateConfig) -> tuple[frozenset[str], dict[str, Any]]:
    """The boilerplate lines (whitespace-normalised) and the figures. Every distinct short line of a
    million documents would not fit in memory, so a collection larger than ``SAMPLE_DOCUMENTS`` has
    its lines counted in a stable sample of that many documents (by id), and only the lines frequent
    there (``SAMPLE_SLACK`` of the bar: a line in 30% of the documents is missed with a probability
    under 1e-40) are counted exactly in every document; smaller collections are counted whole."""
    bar = max(config.min_documents, config.min_share * len(corpus))
    rate = min(1.0, SAMPLE_DOCUMENTS / max(len(corpus), 1))
    counts: Counter[str] = Counter()
    sampled = 0
    for doc in corpus:
        if rate == 1.0 or zlib.crc32(doc.doc_id.encode("utf-8")) < rate * 2**32:
            sampled += 1
            counts.update(_short_lines(doc.text, config))
    if rate < 1.0:
        candidates = {line for line, n in counts.items() if n >= SAMPLE_SLACK * bar * sampled / len(corpus)}
        counts = Counter()
        if candidates:
            for doc in corpus:
                counts.update(_short_lines(doc.text, config) & candidates)
    lines = frozenset(line for line, n in counts.items() if n >= bar)
    figures: dict[str, Any] = {"boilerplate_lines": len(lines), "boilerplate_chars_removed": 0, "boilerplate_bar": bar,
                               "boilerplate_examples": [line for line, _ in counts.most_common(len(lines))][:5]}
    return lines, figures


class WithoutBoilerplate(Mapping[str, Document]):
    """``documents`` read without the lines ``lines`` (a document is never emptied; a one-line
    document is left alone), as they are asked for."""

    def __init__(self, documents: Mapping[str, Document], lines: frozenset[str]):
        self.documents, self.lines = documents, lines

    def __getitem__(self, doc_id: str) -> Document:
        return self.clean(self.documents[doc_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.documents

    def values(self) -> Iterator[Document]:  # type: ignore[override]
        return map(self.clean, self.documents.values())

    def items(self) -> Iterator[tuple[str, Document]]:  # type: ignore[override]
        return ((doc.doc_id, doc) for doc in self.values())

    def select(self, doc_ids: Iterable[str]) -> WithoutBoilerplate:
        """The documents ``doc_ids`` that are here, still read without the lines (a view when the
        documents are a ``DocumentTable``)."""
        return WithoutBoilerplate(select_documents(self.documents, doc_ids), self.lines)

    def clean(self, doc: Document) -> Document:
        lines = doc.text.split("\n")
        if len(lines) == 1:
            return doc
        kept = [line for line in lines if " ".join(line.split()) not in self.lines]
        if len(kept) == len(lines) or not any(line.strip() for line in kept):  # never emptied
            return doc
        return Document(doc.doc_id, "\n".join(kept), doc.title)


def _short_lines(text: str, config: BoilerplateConfig) -> set[str]:
    """The distinct non-empty lines of a document of more than one line, at most ``max_line_chars``
    long, whitespace-normalised (none for a one-line document)."""
    lines = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    return {line for line in lines if len(line) <= config.max_line_chars} if len(lines) > 1 else set()
