"""Lines repeated across a collection's documents: menus, page headers and footers, copyright lines,
PDF running heads (HTML's own navigation is already left out by the folder reader's trafilatura)."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from pydantic import Field

from synthir.config import ConfigBlock
from synthir.data.records import Corpus, Document

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
    one line, removed from those documents (never all of one); the figures name the most frequent."""
    counts: Counter[str] = Counter()
    for doc in corpus:
        lines = _lines(doc.text)
        if len(lines) > 1:
            counts.update({line for line in lines if len(line) <= config.max_line_chars})
    bar = max(config.min_documents, config.min_share * len(corpus))
    boilerplate = {line for line, n in counts.items() if n >= bar}
    figures: dict[str, Any] = {"boilerplate_lines": len(boilerplate), "boilerplate_chars_removed": 0,
                               "boilerplate_examples": [line for line, _ in counts.most_common(len(boilerplate))][:5]}
    if not boilerplate:
        return corpus, figures
    documents: dict[str, Document] = {}
    removed = 0
    for doc in corpus:
        lines = doc.text.split("\n")
        kept = [line for line in lines if " ".join(line.split()) not in boilerplate]
        if len(kept) == len(lines) or len(lines) == 1 or not any(line.strip() for line in kept):  # never emptied
            documents[doc.doc_id] = doc
            continue
        text = "\n".join(kept)
        removed += len(doc.text) - len(text)
        documents[doc.doc_id] = Document(doc.doc_id, text, doc.title)
    figures["boilerplate_chars_removed"] = removed
    logger.info("Boilerplate: %d line(s) repeated in at least %d documents removed (%d characters), e.g. %s",
                len(boilerplate), int(bar), removed, figures["boilerplate_examples"])
    return Corpus(documents, name=corpus.name, source=corpus.source, stats=corpus.stats, parts=list(corpus.parts),
                  aliases=dict(corpus.aliases)), figures


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]
