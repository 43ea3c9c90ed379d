"""The per-document query store: generated queries kept by what made them, so a new corpus version
generates only for its new or changed documents.

A row is stored under a **generation key** (the generator as pinned, the prompt id@version and its
few-shot examples, and every decoding setting that changes the output) and looked up by the
**content hash** of its document (id-independent: a renamed, unchanged document reuses its queries).
Each generation run that wrote anything adds one parquet part under ``<root>/<generation key>/``,
written whole through fsspec (local folders, ``s3://``, ``gs://``, the ZenML artifact store's path):
nothing half-written is ever read, and parts are never rewritten, so two runs can add at once.
Removed documents are simply not looked up; their rows stay (a document that comes back reuses them).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict
from typing import Any

import pandas as pd

from synthir.data.records import Document, content_hash
from synthir.data.synthetic import SyntheticQuery

logger = logging.getLogger(__name__)


class QueryStore:
    """Stored generated rows under ``root`` (a local path or any fsspec URL)."""

    def __init__(self, root: str, storage_options: dict[str, Any] | None = None):
        import fsspec

        self.root = str(root).rstrip("/")
        self.fs, self.path = fsspec.core.url_to_fs(self.root, **(storage_options or {}))

    def _folder(self, key: str) -> str:
        return f"{self.path}/{key}"

    def lookup(self, key: str, documents: list[Document]) -> dict[str, list[SyntheticQuery]]:
        """doc id -> its stored rows (ids and texts set to the document's current ones), for the
        documents whose content was generated for under ``key``."""
        wanted = {content_hash(d): d for d in documents}
        found: dict[str, list[SyntheticQuery]] = {}
        folder = self._folder(key)
        if not self.fs.exists(folder):
            return found
        for part in sorted(self.fs.glob(f"{folder}/part-*.parquet")):
            with self.fs.open(part, "rb") as handle:
                frame = pd.read_parquet(handle)
            for doc_hash, row in zip(frame["doc_hash"], frame["row"]):
                document = wanted.get(doc_hash)
                if document is None:
                    continue
                stored = SyntheticQuery(**json.loads(row))
                stored.doc_id, stored.doc_text = document.doc_id, document.contents
                rows = found.setdefault(document.doc_id, [])
                if all(r.extra.get("index", 0) != stored.extra.get("index", 0) for r in rows):
                    rows.append(stored)  # two runs that raced store the same rows twice: keep one
        return found

    def add(self, key: str, documents: dict[str, Document], rows: list[SyntheticQuery]) -> str | None:
        """Store ``rows`` (their documents by id in ``documents``) as one new part; returns its path."""
        if not rows:
            return None
        frame = pd.DataFrame({"doc_hash": [content_hash(documents[r.doc_id]) for r in rows],
                              "row": [json.dumps(asdict(r), ensure_ascii=False) for r in rows]})
        folder = self._folder(key)
        self.fs.makedirs(folder, exist_ok=True)
        name = f"part-{pd.Timestamp.now('UTC').strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.parquet"
        temporary, final = f"{folder}/.{name}.tmp", f"{folder}/{name}"
        with self.fs.open(temporary, "wb") as handle:
            frame.to_parquet(handle, index=False)
        self.fs.mv(temporary, final)  # a reader never sees a part before it is whole
        logger.info("Query store: %d rows for %d documents added to %s", len(rows), len({r.doc_id for r in rows}), final)
        return final
