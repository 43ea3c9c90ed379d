"""Typed records for IR data: corpora, queries, relevance judgments and runs.

They are plain containers (dicts keyed by id, insertion-ordered) so that the library stays
testable without ZenML; each converts to and from a pandas frame for the materializers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import pandas as pd


def frame_fingerprint(frame: pd.DataFrame, decimals: int = 6) -> str:
    """Content hash of a frame's rows, columns and row order: two frames hash alike only when every
    value is the same (a count of rows would let different data resume the same checkpoint). Floats
    are compared to ``decimals`` places: a teacher's margins recomputed after a crash move in the
    last digits (thread counts, batch padding), and the run they key must still resume."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame.round(decimals).astype(str), index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True, slots=True)  # slots: a million passages' records without a dict each
class Document:
    doc_id: str
    text: str
    title: str = ""

    @property
    def contents(self) -> str:
        """Title and text joined, the way BEIR/pyserini index a document."""
        return f"{self.title} {self.text}".strip() if self.title else self.text


def passage_number(passage_id: str) -> int:
    """n of ``<doc_id>#<n>``."""
    return int(passage_id.rsplit("#", 1)[1])


def aggregate_scores(by_passage: dict[str, float], parents: dict[str, str], method: str = "maxp",
                     top_k: int = 3) -> dict[str, float]:
    """Document id -> score from one query's passage scores: ``maxp`` the best passage's, ``firstp``
    the score of the earliest passage retrieved, ``sum_top_k`` the sum of the ``top_k`` best."""
    grouped: dict[str, list[tuple[str, float]]] = {}
    for passage_id, score in by_passage.items():
        grouped.setdefault(parents.get(passage_id, passage_id), []).append((passage_id, score))
    if method == "maxp":
        return {d: max(s for _, s in hits) for d, hits in grouped.items()}
    if method == "firstp":
        return {d: min(hits, key=lambda hit: passage_number(hit[0]) if hit[0] in parents else 0)[1]
                for d, hits in grouped.items()}
    if method == "sum_top_k":
        return {d: sum(sorted((s for _, s in hits), reverse=True)[:top_k]) for d, hits in grouped.items()}
    raise ValueError(f"passages.aggregate must be maxp, firstp or sum_top_k, got {method!r}")


def documents_digest(documents: Mapping[str, Document]) -> hashlib._Hash:
    """A running SHA-256 of every document's id, title and text in id order (``Corpus.fingerprint``)."""
    digest = hashlib.sha256()
    ordered = sorted(documents)
    many = getattr(documents, "many", None)  # columnar: a batch of rows at a time
    for doc in many(ordered) if many else (documents[d] for d in ordered):
        for part in (doc.doc_id, doc.title, doc.text):
            encoded = part.encode("utf-8")
            # Length-prefix each field so ("ab", "c") and ("a", "bc") differ.
            digest.update(len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
    return digest


def content_hash(document: Document) -> str:
    """Hash of what a model sees of a document (title and text), not of its id."""
    return hashlib.sha256(document.contents.encode("utf-8")).hexdigest()[:24]


@dataclass
class ReadStats:
    """What a reader saw besides the records it returned (for logs and artifact metadata)."""

    lines: int = 0
    skipped_bad_lines: int = 0
    empty_texts: int = 0
    dropped_judgments: int = 0
    skipped_files: int = 0  # a folder of documents: files of other kinds
    skipped_links: int = 0  # a folder of documents: links leaving the folder, broken, looping, or to folders
    duplicate_texts: int = 0  # documents whose text repeats an earlier one exactly (counted here; aliased when prepared)
    html_pages: int = 0  # a folder of documents: HTML pages read
    main_content_chars_removed: int = 0  # ... and the characters of their visible text main-content extraction left out

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items()}


def select_documents(documents: Mapping[str, Document], ids: Iterable[str]) -> Mapping[str, Document]:
    """The documents ``ids`` that are in ``documents``, in its order: a view when it can select one (a
    columnar table, ``synthir.data.columnar``: no texts copied), else a dict."""
    select = getattr(documents, "select", None)
    wanted = ids if isinstance(ids, (set, frozenset)) else set(ids)
    return select(wanted) if select else {d: doc for d, doc in documents.items() if d in wanted}


@dataclass
class Corpus:
    # id -> record: a dict, or a read-only ``synthir.data.columnar.DocumentTable`` (Arrow, memory-mapped)
    # once the flow has prepared the corpus
    documents: Mapping[str, Document]
    name: str = "corpus"
    source: str = ""
    stats: ReadStats = field(default_factory=ReadStats, compare=False)
    parts: list[str] = field(default_factory=list)  # a drop folder: the part files this version is the union of
    # Passages (``synthir.preparation.passages``): passage id -> the id of the document it was cut from, for the
    # passages of split documents only (a document kept whole is its own passage), and how passage
    # scores make a document's score (``maxp``, ``firstp`` or ``sum_top_k`` over ``aggregate_top_k``).
    parents: dict[str, str] = field(default_factory=dict, compare=False)
    aggregate: str = "maxp"
    aggregate_top_k: int = 3
    # how it was cut (``PassageConfig`` as a mapping; None: documents as read): a served model cuts alike
    passage_config: dict | None = field(default=None, compare=False)
    # Duplicates (``synthir.preparation.duplicates``): removed document id -> the kept document it copies.
    aliases: dict[str, str] = field(default_factory=dict, compare=False)
    # Document expansion (``synthir.retrieval.expansion``): passage id -> text the first stage indexes with it
    # (its filtered synthetic queries); rerankers and generators never read it.
    expansions: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.documents)

    def __iter__(self) -> Iterator[Document]:
        return iter(self.documents.values())

    def __getitem__(self, doc_id: str) -> Document:
        return self.documents[doc_id]

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.documents

    def document_of(self, passage_id: str) -> str:
        """The document a passage was cut from (a document kept whole: itself)."""
        return self.parents.get(passage_id, passage_id)

    def passages_by_document(self) -> dict[str, list[str]]:
        """document id -> its passage ids in corpus order (a document kept whole: itself alone)."""
        grouped: dict[str, list[str]] = {}
        for passage_id in self.documents:
            grouped.setdefault(self.document_of(passage_id), []).append(passage_id)
        return grouped

    def subset(self, ids, name: str | None = None) -> Corpus:
        """The passages ``ids`` (in corpus order), keeping the read figures, passage map, aggregation and aliases."""
        wanted = set(ids)
        return Corpus(select_documents(self.documents, wanted), name=name or self.name,
                      source=self.source, stats=self.stats, parents={p: d for p, d in self.parents.items() if p in wanted},
                      aggregate=self.aggregate, aggregate_top_k=self.aggregate_top_k, aliases=dict(self.aliases),
                      passage_config=self.passage_config,
                      expansions={p: text for p, text in self.expansions.items() if p in wanted})

    def with_expansions(self, expansions: Mapping[str, str]) -> Corpus:
        """This corpus with the first stage's expansion text of its passages in ``expansions`` (others: none)."""
        expanded = self.subset(self.documents)
        expanded.expansions = {p: text for p, text in expansions.items() if p in self.documents and text}
        return expanded

    def index_contents(self, doc: Document, include_title: bool = True) -> str:
        """What the first stage indexes for ``doc``: its contents (or text) and its expansion, if any."""
        contents = doc.contents if include_title else doc.text
        expansion = self.expansions.get(doc.doc_id)
        return f"{contents} {expansion}" if expansion else contents

    def document_run(self, run: Run) -> Run:
        """A run over passages as a run over documents: each document scored from its passages'
        scores (``aggregate``), and each removed duplicate given the score of the copy that was kept,
        so document-level judgments (and judgments of a removed copy) evaluate as before. The identity
        for a corpus of whole documents without duplicates."""
        if not self.parents and not self.aliases:
            return run
        copies: dict[str, list[str]] = {}
        for alias, kept in self.aliases.items():
            copies.setdefault(kept, []).append(alias)
        scores = {}
        for qid, by_passage in run.scores.items():
            documents = aggregate_scores(by_passage, self.parents, self.aggregate, self.aggregate_top_k)
            for kept, aliases in copies.items():
                if kept in documents:
                    documents.update(dict.fromkeys(aliases, documents[kept]))
            scores[qid] = documents
        return Run(scores, name=run.name)

    def manifest(self) -> dict[str, str]:
        """document id -> content hash of its title and text: what a later corpus is diffed against."""
        return {doc_id: content_hash(doc) for doc_id, doc in self.documents.items()}

    def fingerprint(self) -> str:
        """Content hash, independent of document order and of where the corpus was read from."""
        digest = getattr(self.documents, "digest", None)  # read-only (columnar) documents hash themselves once
        digest = digest.copy() if digest is not None else documents_digest(self.documents)
        for doc_id in sorted(self.expansions):  # an expanded corpus is indexed differently (none: as before)
            encoded = f"{doc_id}\t{self.expansions[doc_id]}".encode("utf-8")
            digest.update(b"expansion" + len(encoded).to_bytes(8, "little"))
            digest.update(encoded)
        return digest.hexdigest()[:16]

    def to_frame(self) -> pd.DataFrame:
        """One row per document (passage); a ``document_id`` column when documents were split."""
        docs = list(self.documents.values())
        columns = {"doc_id": [d.doc_id for d in docs], "title": [d.title for d in docs], "text": [d.text for d in docs]}
        if self.parents:
            columns["document_id"] = [self.document_of(d.doc_id) for d in docs]
        if self.expansions:
            columns["expansion"] = [self.expansions.get(d.doc_id, "") for d in docs]
        return pd.DataFrame(columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str = "corpus", source: str = "") -> Corpus:
        documents = {
            doc_id: Document(doc_id=doc_id, title=title, text=text)
            for doc_id, title, text in zip(frame["doc_id"], frame["title"], frame["text"])
        }
        parents = {}
        if "document_id" in frame.columns:
            parents = {p: d for p, d in zip(frame["doc_id"], frame["document_id"]) if p != d}
        expansions = {}
        if "expansion" in frame.columns:
            expansions = {p: text for p, text in zip(frame["doc_id"], frame["expansion"]) if text}
        return cls(documents=documents, name=name, source=source, parents=parents, expansions=expansions)


@dataclass
class Queries:
    queries: dict[str, str]
    name: str = "queries"
    source: str = ""
    stats: ReadStats = field(default_factory=ReadStats, compare=False)

    def __len__(self) -> int:
        return len(self.queries)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.queries.items())

    def __getitem__(self, query_id: str) -> str:
        return self.queries[query_id]

    def __contains__(self, query_id: object) -> bool:
        return query_id in self.queries

    def subset(self, query_ids: set[str] | list[str]) -> Queries:
        wanted = set(query_ids)
        return Queries(
            {qid: text for qid, text in self.queries.items() if qid in wanted},
            name=self.name,
            source=self.source,
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"query_id": list(self.queries), "text": list(self.queries.values())})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str = "queries", source: str = "") -> Queries:
        return cls(dict(zip(frame["query_id"], frame["text"])), name=name, source=source)


@dataclass
class Qrels:
    """Relevance judgments: query id -> document id -> graded relevance (0 = judged non-relevant)."""

    judgments: dict[str, dict[str, int]]
    name: str = "qrels"
    source: str = ""
    stats: ReadStats = field(default_factory=ReadStats, compare=False)

    def __len__(self) -> int:
        return sum(len(docs) for docs in self.judgments.values())

    @property
    def query_ids(self) -> list[str]:
        return list(self.judgments)

    def relevant(self, query_id: str, min_relevance: int = 1) -> set[str]:
        return {d for d, rel in self.judgments.get(query_id, {}).items() if rel >= min_relevance}

    def to_frame(self) -> pd.DataFrame:
        rows = [(q, d, rel) for q, docs in self.judgments.items() for d, rel in docs.items()]
        return pd.DataFrame(rows, columns=["query_id", "doc_id", "relevance"]).astype(
            {"query_id": str, "doc_id": str, "relevance": "int64"}
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str = "qrels", source: str = "") -> Qrels:
        judgments: dict[str, dict[str, int]] = {}
        for qid, did, rel in zip(frame["query_id"], frame["doc_id"], frame["relevance"]):
            judgments.setdefault(qid, {})[did] = int(rel)
        return cls(judgments, name=name, source=source)


@dataclass
class Run:
    """A ranking: query id -> document id -> score (higher is better)."""

    scores: dict[str, dict[str, float]]
    name: str = "run"

    def __len__(self) -> int:
        return len(self.scores)

    def ranked(self, query_id: str) -> list[tuple[str, float]]:
        """Documents of one query, best first; ties broken by document id for reproducible files."""
        return sorted(self.scores.get(query_id, {}).items(), key=lambda item: (-item[1], item[0]))

    def to_frame(self) -> pd.DataFrame:
        rows = [
            (qid, doc_id, rank, score)
            for qid in self.scores
            for rank, (doc_id, score) in enumerate(self.ranked(qid), start=1)
        ]
        return pd.DataFrame(rows, columns=["query_id", "doc_id", "rank", "score"]).astype(
            {"query_id": str, "doc_id": str, "rank": "int64", "score": "float64"}
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, name: str = "run") -> Run:
        scores: dict[str, dict[str, float]] = {}
        for qid, did, score in zip(frame["query_id"], frame["doc_id"], frame["score"]):
            scores.setdefault(qid, {})[did] = float(score)
        return cls(scores, name=name)


@dataclass
class Collection:
    """A corpus with (optionally) queries and judgments: the unit an evaluation runs on."""

    corpus: Corpus
    queries: Queries
    qrels: Qrels | None
    name: str

    def judged_queries(self) -> Queries:
        if self.qrels is None:
            return self.queries
        return self.queries.subset(self.qrels.query_ids)


def check_qrels_ids(
    qrels: Qrels,
    queries: Mapping[str, str] | Queries,
    corpus: Corpus,
    unknown_ids: str = "raise",
) -> Qrels:
    """Check that judgments name known queries and documents.

    ``unknown_ids="raise"`` (default) fails naming the first offending ids; ``"drop"`` removes
    those judgments, counts them in ``qrels.stats.dropped_judgments`` and returns the rest.
    """
    from synthir.data.errors import DataFormatError

    if unknown_ids not in ("raise", "drop"):
        raise ValueError(f"unknown_ids must be 'raise' or 'drop', got {unknown_ids!r}")
    unknown_queries = [q for q in qrels.judgments if q not in queries]
    unknown_docs = sorted(
        {d for docs in qrels.judgments.values() for d in docs if d not in corpus}
    )
    if not unknown_queries and not unknown_docs:
        return qrels
    if unknown_ids == "raise":
        parts = []
        if unknown_queries:
            parts.append(
                f"{len(unknown_queries)} unknown query id(s) (first: {unknown_queries[:5]})"
                f" not in {queries.source if isinstance(queries, Queries) else 'the queries'}"
            )
        if unknown_docs:
            parts.append(
                f"{len(unknown_docs)} unknown document id(s) (first: {unknown_docs[:5]}) not in {corpus.source}"
            )
        raise DataFormatError(
            qrels.source,
            None,
            "judgments name " + " and ".join(parts)
            + "; fix the files or set unknown_ids='drop' to drop those judgments",
        )
    kept: dict[str, dict[str, int]] = {}
    dropped = 0
    for qid, docs in qrels.judgments.items():
        if qid not in queries:
            dropped += len(docs)
            continue
        good = {d: rel for d, rel in docs.items() if d in corpus}
        dropped += len(docs) - len(good)
        if good:
            kept[qid] = good
    stats = ReadStats(**qrels.stats.as_dict())
    stats.dropped_judgments += dropped
    logging.getLogger(__name__).warning(
        "%s: dropped %d judgment(s) naming unknown ids (unknown_ids='drop'): %d unknown query id(s), first %s; "
        "%d unknown document id(s), first %s", qrels.source, dropped, len(unknown_queries), unknown_queries[:5],
        len(unknown_docs), unknown_docs[:5])
    return Qrels(kept, name=qrels.name, source=qrels.source, stats=stats)


def stable_order(ids: Iterable[str], seed: int | str) -> list[str]:
    """``ids`` ordered by a hash of (seed, id): a seeded sample that is the first k of this order
    depends on each id alone, not on list order, so it is stable as a collection grows (a newcomer
    enters only by outranking a member; nothing else moves)."""
    return sorted(ids, key=lambda item: hashlib.sha256(f"{seed}:{item}".encode()).hexdigest())
