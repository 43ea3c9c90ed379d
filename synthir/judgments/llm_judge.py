"""An LLM as the judge: UMBRELA-style 0-3 grades for the pooled top-k documents of every compared system.

The prompt is UMBRELA's (Upadhyay et al., 2024, "UMBRELA: UMbrela is the (Open-Source Reproduction
of the) Bing RELevance Assessor"), which reproduces Thomas et al.'s Bing assessor prompt; the grade is
the first digit 0-3 of the greedy continuation after ``##final score:``. A reply without one is
graded 0 and counted (``unparsed``), never guessed.

Judgments are cached in SQLite by (judge, query text, document id, document content): re-runs and
later candidates reuse every grade already paid for, and a changed document is judged again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from collections.abc import Callable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from synthir.data.records import Corpus, Qrels, Run

logger = logging.getLogger(__name__)

UMBRELA_INSTRUCTIONS = (
    "Given a query and a passage, you must provide a score on an integer scale of 0 to 3 with the following meanings:\n"
    "0 = represent that the passage has nothing to do with the query,\n"
    "1 = represents that the passage seems related to the query but does not answer it,\n"
    "2 = represents that the passage has some answer for the query, but the answer may be a bit unclear, or hidden "
    "amongst extraneous information and\n"
    "3 = represents that the passage is dedicated to the query and contains the exact answer.\n\n"
    "Important Instruction: Assign category 1 if the passage is somewhat related to the topic but not completely, "
    "category 2 if passage presents something very important related to the entire topic but also has some extra "
    "information and category 3 if the passage only and entirely refers to the topic. If none of the above satisfies "
    "give it category 0.\n\n"
)
UMBRELA_TASK = (
    "Query: {query}\nPassage: {passage}\n\n"
    "Split this problem into steps:\nConsider the underlying intent of the search.\n"
    "Measure how well the content matches a likely intent of the query (M).\n"
    "Measure how trustworthy the passage is (T).\n"
    "Consider the aspects above and the relative importance of each, and decide on a final score (O). "
    "Final score must be an integer value only.\n"
    "Do not provide any code in result. Provide each score in the format of: ##final score: score without providing "
    "any reasoning.\n##final score:"
)
_GRADE = re.compile(r"[0-3]")


def pool(runs: Mapping[str, Run], depth: int) -> dict[str, list[str]]:
    """query id -> the union of every run's top ``depth`` documents (first-seen order)."""
    pooled: dict[str, dict[str, None]] = {}
    for run in runs.values():
        for query_id in run.scores:
            pooled.setdefault(query_id, {}).update(dict.fromkeys(doc for doc, _ in run.ranked(query_id)[:depth]))
    return {q: list(docs) for q, docs in pooled.items()}


def parse_grade(text: str) -> int | None:
    match = _GRADE.search(text)
    return int(match.group()) if match else None


class JudgmentCache:
    """Grades by (judge, query text hash, document id, document content hash) in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS judgments (judge TEXT, query TEXT, doc_id TEXT, doc TEXT, "
                       "grade INTEGER, PRIMARY KEY (judge, query, doc_id, doc))")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)  # waits for another writer instead of failing

    @staticmethod
    def key(judge: str, query: str, doc_id: str, contents: str) -> tuple[str, str, str, str]:
        digest = lambda text: hashlib.sha256(text.encode()).hexdigest()[:20]  # noqa: E731
        return judge, digest(query), doc_id, digest(contents)

    def get(self, keys: list[tuple[str, str, str, str]]) -> dict[tuple[str, str, str, str], int]:
        found = {}
        with closing(self._connect()) as db:
            for key in keys:
                row = db.execute("SELECT grade FROM judgments WHERE judge=? AND query=? AND doc_id=? AND doc=?",
                                 key).fetchone()
                if row is not None:
                    found[key] = int(row[0])
        return found

    def put(self, graded: dict[tuple[str, str, str, str], int]) -> None:
        with closing(self._connect()) as db, db:  # one transaction: all of a batch or none
            db.executemany("INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?, ?)",
                           [(*key, grade) for key, grade in graded.items()])


class LLMJudge:
    """Grades pooled (query, document) pairs with a generator backend; ``__call__`` fits
    ``compare_rerankers(judge=...)``: runs in, graded qrels out (``figures`` says what it cost)."""

    def __init__(self, backend, cache: JudgmentCache, depth: int = 10, max_doc_tokens: int = 256,
                 batch: int = 64):
        self.backend, self.cache, self.depth = backend, cache, depth
        self.max_doc_tokens, self.batch = max_doc_tokens, batch
        self.figures: dict[str, float] = {}

    def __call__(self, runs: Mapping[str, Run], queries: Mapping[str, str], corpus: Corpus) -> Qrels:
        from synthir.generation.backends.base import DecodingParams

        pooled = pool(runs, self.depth)
        judge = self.backend.name
        pairs = [(q, d) for q, docs in pooled.items() for d in docs]
        keys = {pair: JudgmentCache.key(judge, queries[pair[0]], pair[1], corpus[pair[1]].contents) for pair in pairs}
        cached = self.cache.get(list(keys.values()))
        todo = [pair for pair in pairs if keys[pair] not in cached]
        params = DecodingParams(max_new_tokens=4, stop=["\n"])
        unparsed = 0
        for start in range(0, len(todo), self.batch):
            chunk = todo[start:start + self.batch]
            targets = [UMBRELA_TASK.format(query=queries[q],
                                           passage=self.backend.truncate(corpus[d].contents, self.max_doc_tokens))
                       for q, d in chunk]
            graded = {}
            for pair, outs in zip(chunk, self.backend.generate(UMBRELA_INSTRUCTIONS, targets, params)):
                grade = parse_grade(outs[0].text)
                unparsed += grade is None
                graded[keys[pair]] = 0 if grade is None else grade
            self.cache.put(graded)  # per batch: a killed run keeps what it paid for
            cached.update(graded)
            logger.info("LLM judge %s: %d of %d new judgments", judge, min(start + self.batch, len(todo)), len(todo))
        judgments = {q: {d: cached[keys[q, d]] for d in docs} for q, docs in pooled.items()}
        grades = [g for docs in judgments.values() for g in docs.values()]
        self.figures = {"judgments": len(pairs), "new_judgments": len(todo), "cached_judgments": len(pairs) - len(todo),
                        "unparsed": unparsed, "pool_depth": self.depth,
                        "relevant_share": sum(g >= 2 for g in grades) / max(1, len(grades))}
        if todo and unparsed == len(todo):
            raise RuntimeError(f"LLM judge {judge}: none of {len(todo)} replies held a grade 0-3; the judge model "
                               "does not follow the UMBRELA format (use a stronger or instruction-tuned judge)")
        return Qrels(judgments, name=f"llm-judge:{judge}")


def make_llm_judge(config: Any, cache_dir: str | Path) -> LLMJudge:
    """An ``LLMJudge`` from an ``evaluation.llm_judge`` block (``synthir.judgments.config.LLMJudgeConfig``)."""
    from synthir.generation import make_backend
    from synthir.generation.backends import as_generator_spec

    return LLMJudge(make_backend(as_generator_spec(config.generator)), JudgmentCache(Path(cache_dir) / "llm_judge.sqlite"),
                    depth=config.pool_depth, max_doc_tokens=config.max_doc_tokens)


JudgeFunction = Callable[[Mapping[str, Run], Mapping[str, str], Corpus], Qrels]
