"""Long documents as passages, and passage scores back to document scores.

A document longer than ``max_tokens`` tokens (of the tokenizer of the models in use) is cut into
passages by semantic-text-splitter's Markdown splitter: at headings first, then paragraphs, lines,
sentences and words, each passage at most ``max_tokens`` with up to ``overlap_tokens`` shared with
the one before (``PassageSplitter.split``: by characters, then checked in tokens). A passage keeps
its document's title and gets the id ``<doc_id>#<n>`` (n from 1); short documents stay whole, under
their own id. The corpus remembers which document each passage came from (``Corpus.parents``), so a
ranking of passages becomes a ranking of documents (``Corpus.document_run``): MaxP (the best
passage) by default, FirstP (the first passage retrieved) or the sum of the top k.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from synthir.config import ConfigBlock
from synthir.data.columnar import open_documents, write_documents
from synthir.data.records import Corpus, Document

logger = logging.getLogger(__name__)
DEFAULT_TOKENIZER = "package:all-minilm-l6-v2"
Aggregate = Literal["maxp", "firstp", "sum_top_k"]


class PassageConfig(ConfigBlock):
    """How documents longer than the models' window are split, and ranked again as documents."""

    yaml_path = "inpars.documents.passages"
    enabled: bool = Field(True, description="split documents longer than max_tokens into passages")
    max_tokens: int = Field(256, ge=16, description="a passage's size in tokens of `tokenizer` (title included)")
    overlap_tokens: int = Field(32, ge=0, description="tokens a passage shares with the one before")
    tokenizer: str = Field(DEFAULT_TOKENIZER, description="model reference whose tokenizer counts tokens: the reranker's "
                                                         "base model's, when it is not the default")
    aggregate: Aggregate = Field("maxp", description="a document's score from its passages': maxp (the best), "
                                                     "firstp (the first retrieved) or sum_top_k")
    top_k: int = Field(3, ge=1, description="sum_top_k: how many of the best passages are summed")

    @model_validator(mode="after")
    def _overlap_fits(self) -> PassageConfig:
        if self.overlap_tokens >= self.max_tokens // 2:
            raise ValueError(f"passages.overlap_tokens ({self.overlap_tokens}) must be under half of passages.max_tokens "
                             f"({self.max_tokens}); lower the overlap or raise max_tokens")
        return self


@lru_cache(maxsize=4)
def load_tokenizer(reference: str):
    """A ``tokenizers.Tokenizer`` for a model reference (``package:``, ``hf:``, a folder), without
    truncation or padding, so it counts every token."""
    from pathlib import Path

    from tokenizers import Tokenizer

    from synthir.models import resolve_model

    path = Path(str(resolve_model(reference)))
    if (path / "tokenizer.json").is_file():
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    else:
        from transformers import AutoTokenizer

        auto = AutoTokenizer.from_pretrained(str(path))
        if not getattr(auto, "is_fast", False):
            raise ValueError(f"passages.tokenizer {reference!r} has no fast tokenizer (tokenizer.json) to count tokens "
                             "with; name another model's, e.g. package:all-minilm-l6-v2")
        tokenizer = auto.backend_tokenizer
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class PassageSplitter:
    """Cuts one document's text into passages of at most ``config.max_tokens`` (title included)."""

    def __init__(self, config: PassageConfig):
        self.config = config
        self.tokenizer = load_tokenizer(config.tokenizer)
        self._splitters: dict[tuple, object] = {}

    def token_counts(self, texts: list[str], chunk: int = 2048) -> list[int]:
        """Tokens per text, ``chunk`` texts at a time (a million encodings at once would take gigabytes)."""
        return [len(e.ids) for start in range(0, len(texts), chunk)
                for e in self.tokenizer.encode_batch(texts[start:start + chunk], add_special_tokens=False)]

    def document_lengths(self, texts: list[str]) -> list[int]:
        """Tokens per text, exact for every text that fits ``max_tokens``. A text whose first
        ``PREFIX_CHARACTERS`` characters per window token (cut at a space) already overflow the window
        is long whatever follows: its length is estimated from that prefix's rate instead of tokenizing
        it whole (long documents are most of a collection's text, and are counted again as passages)."""
        window = self.config.max_tokens
        limit = window * PREFIX_CHARACTERS
        prefixes = [text if len(text) <= limit else text[:max(text.rfind(" ", 0, limit), limit // 2)] for text in texts]
        lengths = self.token_counts(prefixes)
        undecided = []
        for i, (text, prefix) in enumerate(zip(texts, prefixes)):
            if len(prefix) < len(text):
                if lengths[i] > window:
                    lengths[i] = round(lengths[i] * len(text) / max(len(prefix), 1))
                else:  # a prefix of unusually long tokens: count the whole text
                    undecided.append(i)
        for i, n in zip(undecided, self.token_counts([texts[i] for i in undecided])):
            lengths[i] = n
        return lengths

    def split(self, text: str, title: str = "", tokens: int | None = None) -> list[str]:
        """The passages of ``text`` (white space normalised); ``[text]`` when it fits whole.
        ``tokens``: the document's length with its title, when already counted or estimated
        (``document_lengths``).

        Splitting by tokens asks the tokenizer about many candidate spans (about 160 documents/s on
        one core); splitting by characters does not. So the text is first split by characters, at
        this document's own characters-per-token rate a little under the window, every passage is
        then counted in tokens, and the few that still overflow are split again by tokens: every
        passage fits ``max_tokens`` of the tokenizer, about seven times faster."""
        config = self.config
        if tokens is None:
            tokens = self.token_counts([f"{title} {text}".strip()])[0]
        if tokens <= config.max_tokens:
            return [" ".join(text.split())]
        # the title goes with every passage: the text gets what it leaves of the window
        title_tokens = self.token_counts([title])[0] if title else 0
        capacity = max(config.max_tokens // 2, config.max_tokens - title_tokens)
        overlap = min(config.overlap_tokens, capacity // 2 - 1)
        chars_per_token = len(text) / max(tokens - title_tokens, 1)
        by_chars = self._splitter(int(capacity * chars_per_token * CHARACTER_FILL) // 8 * 8, int(overlap * chars_per_token))
        chunks = [chunk for chunk in (" ".join(c.split()) for c in by_chars.chunks(text)) if chunk]
        passages: list[str] = []
        for chunk, length in zip(chunks, self.token_counts(chunks)):
            if length <= capacity:
                passages.append(chunk)
            else:
                by_tokens = self._splitter(capacity, overlap, tokens=True)
                passages.extend(c for c in (" ".join(c.split()) for c in by_tokens.chunks(chunk)) if c)
        return passages or [" ".join(text.split())]

    def _splitter(self, capacity: int, overlap: int, tokens: bool = False):
        """semantic-text-splitter's Markdown splitter of ``capacity`` characters (or tokens), cached."""
        from semantic_text_splitter import MarkdownSplitter

        key = (capacity, overlap, tokens)
        splitter = self._splitters.get(key)
        if splitter is None:
            splitter = self._splitters[key] = (
                MarkdownSplitter.from_huggingface_tokenizer(self.tokenizer, capacity, overlap=overlap) if tokens
                else MarkdownSplitter(max(capacity, 1), overlap=min(overlap, max(capacity, 1) // 2)))
        return splitter


PREFIX_CHARACTERS = 8  # characters per window token in the prefix that decides a document is long (English: ~4.5)
CHARACTER_FILL = 0.95  # the share of the window a split by characters aims for (the rest: the rate's spread)
PARALLEL_FROM = 200  # long documents: below this, threads are not worth starting


SPLIT_CHUNK = 20_000  # documents measured and split together: their passages are all that is held at once


def split_corpus(corpus: Corpus, config: PassageConfig, workers: int | None = None,
                 into: str | Path | None = None) -> tuple[Corpus, dict]:
    """The corpus with every document longer than ``config.max_tokens`` cut into passages (see the
    module docstring); texts are whitespace-normalised. Returns the corpus and its figures. Many
    long documents are split by ``workers`` threads (default: one per core), in order. ``into``: an
    Arrow file the passages are written to as they are cut (``synthir.data.columnar``), and the
    corpus returned reads them memory-mapped from it; None: a dict of records."""
    splitter = PassageSplitter(config)
    parents: dict[str, str] = {}
    figures = {"documents": len(corpus), "passages": 0, "split_documents": 0,
               "longest_document_tokens": 0,  # estimated when long (document_lengths)
               "passage_tokens": config.max_tokens}
    passages = _passages(corpus, splitter, workers, parents, figures)
    documents = open_documents(write_documents(into, passages)) if into is not None else \
        {passage.doc_id: passage for passage in passages}
    figures["passages"] = len(documents)
    logger.info("Passages: %d documents -> %d passages (%d split at %d %s tokens, overlap %d; the longest had %d)",
                len(corpus), len(documents), figures["split_documents"], config.max_tokens, config.tokenizer,
                config.overlap_tokens, figures["longest_document_tokens"])
    prepared = Corpus(documents, name=corpus.name, source=corpus.source, stats=corpus.stats, parts=list(corpus.parts),
                      parents=parents, aggregate=config.aggregate, aggregate_top_k=config.top_k,
                      aliases=dict(corpus.aliases), passage_config=config.model_dump())
    return prepared, figures


def _passages(corpus: Corpus, splitter: PassageSplitter, workers: int | None, parents: dict[str, str],
              figures: dict) -> Iterator[Document]:
    """The passages of ``corpus`` in order, ``SPLIT_CHUNK`` documents at a time; fills ``parents``
    and the figures as it goes."""
    window = splitter.config.max_tokens
    documents = iter(corpus)
    while docs := list(itertools.islice(documents, SPLIT_CHUNK)):
        lengths = splitter.document_lengths([d.contents for d in docs])
        figures["longest_document_tokens"] = max(figures["longest_document_tokens"], *lengths)
        cut = iter(_split_all(splitter, [(d.text, d.title, n) for d, n in zip(docs, lengths) if n > window], workers))
        for doc, length in zip(docs, lengths):
            chunks = next(cut) if length > window else [" ".join(doc.text.split())]
            if len(chunks) == 1:
                yield _normalised(doc)
                continue
            figures["split_documents"] += 1
            title = " ".join(doc.title.split())
            for n, chunk in enumerate(chunks, start=1):
                passage_id = f"{doc.doc_id}#{n}"
                if passage_id in corpus.documents:
                    raise ValueError(f"{corpus.source or corpus.name}: passage id {passage_id!r} of document "
                                     f"{doc.doc_id!r} is also a document's id; rename that document or set "
                                     "passages.enabled: false")
                parents[passage_id] = doc.doc_id
                yield Document(passage_id, chunk, title)


def _normalised(doc: Document) -> Document:
    text, title = " ".join(doc.text.split()), " ".join(doc.title.split())
    return doc if (text, title) == (doc.text, doc.title) else Document(doc.doc_id, text, title)


def _split_all(splitter: PassageSplitter, long: list[tuple[str, str, int]], workers: int | None) -> list[list[str]]:
    """Each long document's passages, in order, by ``workers`` threads (the Rust splitter releases
    the GIL, so threads use every core without processes and their start-up hazards)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(long) < PARALLEL_FROM:
        return [splitter.split(text, title, tokens) for text, title, tokens in long]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda document: splitter.split(*document), long))
