"""A collection's documents made ready for the flow, once, where it is loaded: repeated boilerplate
lines removed (``boilerplate``), copies found (``duplicates``), long documents split into passages
(``passages``), in that order: copies are judged on the cleaned text, and a copy is removed before
it is split. HTML pages are already reduced to their main content by the folder reader (trafilatura).
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from synthir.data.columnar import memory_mapped
from synthir.data.records import Corpus, select_documents
from synthir.preparation.boilerplate import remove_boilerplate
from synthir.preparation.config import DocumentsConfig
from synthir.preparation.duplicates import find_duplicates
from synthir.preparation.passages import split_corpus

logger = logging.getLogger(__name__)


def prepare_corpus(corpus: Corpus, config: DocumentsConfig | dict | None = None,
                   into: str | Path | None = None) -> tuple[Corpus, dict[str, Any]]:
    """The corpus after boilerplate removal, de-duplication and splitting (each as ``config`` says;
    None: the defaults), and what each did. ``into``: an Arrow file the prepared documents are
    written to (passages as they are cut, never all held as records) and read from, memory-mapped
    (``synthir.data.columnar``); None: a corpus of records."""
    config = DocumentsConfig.from_dict(config)
    figures: dict[str, Any] = {"documents_read": len(corpus)}
    if config.boilerplate.enabled:
        corpus, removed = remove_boilerplate(corpus, config.boilerplate)
        figures.update(removed)
    if config.duplicates.policy == "alias":
        aliases, found = find_duplicates(corpus, config.duplicates)
        figures.update(found)
        if aliases:  # the rest selected: a view of a columnar corpus, never a copy of the texts
            kept = {d for d in corpus.documents if d not in aliases}
            corpus = dataclasses.replace(corpus, documents=select_documents(corpus.documents, kept),
                                         aliases={**corpus.aliases, **aliases})
    if config.passages.enabled:
        corpus, split = split_corpus(corpus, config.passages, into=into)
        figures.update(split)
    elif into is not None:
        corpus = memory_mapped(corpus, into)
    elif not isinstance(corpus.documents, dict):  # read lazily (without boilerplate): held as records, as asked
        corpus = dataclasses.replace(corpus, documents=dict(corpus.documents.items()))
    figures["passages"] = len(corpus)
    return corpus, figures
