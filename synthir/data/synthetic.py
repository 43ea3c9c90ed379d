"""Synthetic queries: one generated query per row, with the lineage needed downstream.

InPars JSONL import/export uses the field names of the InPars toolkit's output
(``doc_id``, ``doc_text``, ``query``, ``log_probs``, ``prompt_text``, ``fewshot_examples``), so data
the InPars authors published can be brought in, and ours read by their scripts. ``text`` is accepted
as a synonym of ``doc_text`` on import.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from synthir.data.errors import DataFormatError
from synthir.data.io import atomic_write, iter_json_lines, pick_field, require_file
from synthir.data.records import ReadStats


@dataclass
class SyntheticQuery:
    doc_id: str
    query: str
    log_probs: list[float] = field(default_factory=list)
    prompt_id: str = ""
    generator: str = ""
    doc_text: str = ""
    prompt_text: str = ""
    fewshot_examples: list[str] = field(default_factory=list)  # ids of the examples shown (query ids for promptagator)
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the bad question of inpars-gbq

    @property
    def query_id(self) -> str:
        """Stable id: document id plus the index of this query among the document's queries."""
        return f"{self.doc_id}-{self.extra.get('index', 0)}"

    @property
    def mean_log_prob(self) -> float:
        return sum(self.log_probs) / len(self.log_probs) if self.log_probs else -math.inf


@dataclass
class SyntheticQueries:
    """Generated queries plus lineage: which generator, prompt and corpus produced them."""

    queries: list[SyntheticQuery]
    generator: str = ""
    prompt_id: str = ""
    corpus_fingerprint: str = ""
    config_hash: str = ""
    # Query ids of the target collection shown as few-shot examples (promptagator): evaluations must
    # exclude them.
    fewshot_query_ids: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    filters: list[str] = field(default_factory=list)  # validation filters applied, in order, e.g. "scores(keep=0.8)"

    def __len__(self) -> int:
        return len(self.queries)

    def __iter__(self):
        return iter(self.queries)

    def require_documents_in(self, corpus, artifact: str = "the queries artifact") -> None:
        """Refuse queries written for another corpus (their documents are not in ``corpus``), naming both
        fingerprints and how to pick the right artifact, instead of failing later on a missing id."""
        missing = sorted({q.doc_id for q in self.queries} - set(corpus.documents))
        if missing:
            raise ValueError(f"{len(missing)} document(s) the queries were written for are not in the corpus (e.g. "
                             f"{missing[:3]}): the queries belong to corpus {self.corpus_fingerprint or '(unknown)'}, "
                             f"the collection's is {corpus.fingerprint()}; pick {artifact} of this collection by its "
                             "version (`zenml artifact version list --name <artifact>`, then artifact_version: <version>) "
                             "or run the pipeline that writes it on this collection first")

    def lineage(self) -> dict[str, str]:
        return {"generator": self.generator, "prompt_id": self.prompt_id,
                "corpus_fingerprint": self.corpus_fingerprint, "config_hash": self.config_hash,
                "filters": ",".join(self.filters)}

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for q in self.queries:
            row = asdict(q)
            row["extra"] = json.dumps(q.extra)
            rows.append(row)
        columns = [f.name for f in SyntheticQuery.__dataclass_fields__.values()]
        return pd.DataFrame(rows, columns=columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, **meta: Any) -> SyntheticQueries:
        queries = [
            SyntheticQuery(
                doc_id=str(row["doc_id"]), query=row["query"], log_probs=[float(x) for x in row["log_probs"]],
                prompt_id=row["prompt_id"], generator=row["generator"], doc_text=row["doc_text"],
                prompt_text=row["prompt_text"], fewshot_examples=[str(x) for x in row["fewshot_examples"]],
                extra=json.loads(row["extra"]) if row["extra"] else {},
            )
            for row in frame.to_dict("records")
        ]
        return cls(queries, **meta)

    def meta(self) -> dict[str, Any]:
        return {"generator": self.generator, "prompt_id": self.prompt_id, "corpus_fingerprint": self.corpus_fingerprint,
                "config_hash": self.config_hash, "fewshot_query_ids": self.fewshot_query_ids, "stats": self.stats,
                "filters": self.filters}


def write_inpars_jsonl(queries: SyntheticQueries, path: str | Path) -> Path:
    fewshot_queries = set(queries.fewshot_query_ids)
    with atomic_write(path) as out:
        for q in queries:
            record = {"doc_id": q.doc_id, "doc_text": q.doc_text, "query": q.query, "log_probs": q.log_probs,
                      "prompt_text": q.prompt_text, "fewshot_examples": q.fewshot_examples}
            ours = {**q.extra}
            if fewshot_queries:  # judged example queries (promptagator): evaluation must leave them out
                ours["fewshot_query_ids"] = [x for x in q.fewshot_examples if x in fewshot_queries]
            if ours:
                record["synthir"] = {"prompt_id": q.prompt_id, "generator": q.generator, **ours}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return Path(path)


def read_inpars_jsonl(path: str | Path, generator: str = "", prompt_id: str = "inpars",
                      on_bad_line: str = "raise") -> SyntheticQueries:
    """Read InPars-format synthetic queries (ours or the ones the InPars authors published).

    Our files carry a ``synthir`` block per row; its ``fewshot_query_ids`` (the judged queries a
    promptagator prompt showed) come back as ``fewshot_query_ids``, so evaluation still leaves them out."""
    path = require_file(Path(path), "InPars JSONL (doc_id, doc_text/text, query, log_probs, ...)")
    stats = ReadStats()
    queries: list[SyntheticQuery] = []
    per_doc: dict[str, int] = {}
    fewshot_query_ids: set[str] = set()
    for line, record in iter_json_lines(path, stats, on_bad_line):
        doc_id = str(pick_field(record, ("doc_id", "docid", "_id"), path, line, "document id"))
        query = pick_field(record, ("query", "question"), path, line, "query")
        if not isinstance(query, str):
            raise DataFormatError(path, line, f"query must be a string, got {type(query).__name__}")
        log_probs = record.get("log_probs") or []
        if not isinstance(log_probs, list) or not all(isinstance(x, (int, float)) for x in log_probs):
            raise DataFormatError(path, line, "log_probs must be a list of numbers")
        fewshot = record.get("fewshot_examples") or []
        ours = record.get("synthir") or {}
        extra = {k: v for k, v in ours.items() if k not in ("prompt_id", "generator", "fewshot_query_ids")}
        fewshot_query_ids.update(str(x) for x in ours.get("fewshot_query_ids") or [])
        extra["index"] = per_doc.get(doc_id, 0)
        per_doc[doc_id] = extra["index"] + 1
        queries.append(SyntheticQuery(
            doc_id=doc_id, query=query.strip(), log_probs=[float(x) for x in log_probs],
            prompt_id=ours.get("prompt_id", prompt_id), generator=ours.get("generator", generator),
            doc_text=record.get("doc_text") or record.get("text") or "", prompt_text=record.get("prompt_text") or "",
            fewshot_examples=[str(x) for x in fewshot] if isinstance(fewshot, list) else [str(fewshot)], extra=extra,
        ))
    if not queries:
        raise DataFormatError(path, None, "no synthetic queries found; expected one JSON object per line")
    return SyntheticQueries(queries, generator=generator or queries[0].generator, prompt_id=queries[0].prompt_id,
                            fewshot_query_ids=sorted(fewshot_query_ids),
                            stats={"skipped_bad_lines": stats.skipped_bad_lines})
