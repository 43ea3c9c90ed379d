"""Document expansion for the first stage (doc2query, filtered in the spirit of Doc2Query--).

Each passage is indexed with synthetic queries written for it, so BM25 also matches the words a
searcher would use and the passage does not. Queries are generated for every passage of the
collection (a partly expanded index would favour the expanded passages), scored for relevance to
their passage by a bi-encoder, and the least relevant share is dropped before indexing: Doc2Query--
(Gospodinov, MacAvaney and Macdonald, ECIR 2023) showed that the hallucinated expansions hurt and
that filtering them by a relevance model helps. The expansion lives on the corpus (``Corpus.expansions``): every BM25
index built from it (training negatives, the teacher's pools, the gate's first stage) uses it, while
rerankers, generators and the served model read only the passage itself.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np
from pydantic import Field

from synthir.config import ConfigBlock, ModelName
from synthir.data.io import atomic_write
from synthir.data.records import Corpus
from synthir.data.synthetic import SyntheticQueries

logger = logging.getLogger(__name__)


class ExpansionConfig(ConfigBlock):
    """``expansion:``: index each passage with its filtered synthetic queries for the first stage."""

    yaml_path = "inpars.expansion"
    enabled: bool = Field(False, description="expand every passage of the training and evaluation corpora before "
                                             "BM25 indexes them (training negatives, the teacher, the gate)")
    queries_per_document: int = Field(3, ge=1, description="queries generated per passage for its expansion (sampled "
                                                           "when more than one), by the run's generator and prompt")
    keep: float = Field(0.7, gt=0, le=1, description="Doc2Query--: the share of expansion queries kept, the most "
                                                     "relevant to their passage under `filter_model` (1: all)")
    filter_model: Optional[ModelName] = Field("package:all-minilm-l6-v2", description="the bi-encoder that scores "
                                              "each query's relevance to its passage; null: the generator's mean "
                                              "log-probability instead")
    temperature: float = Field(1.0, gt=0, description="sampling temperature of the expansion queries")
    batch_size: int = Field(64, ge=1, description="filter_model batch size")


def relevance_scores(queries: SyntheticQueries, corpus: Corpus, config: ExpansionConfig) -> np.ndarray:
    """Each query's relevance to its passage: the cosine under ``filter_model``, else its mean log-prob."""
    if config.filter_model is None:
        return np.array([q.mean_log_prob for q in queries.queries], dtype=float)
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model
    from synthir.runtime import pick_device

    model = SentenceTransformer(str(resolve_model(config.filter_model)), device=pick_device("auto"))
    doc_ids = list(dict.fromkeys(q.doc_id for q in queries.queries))
    row_of = {d: i for i, d in enumerate(doc_ids)}
    encode = dict(batch_size=config.batch_size, normalize_embeddings=True, convert_to_numpy=True)
    documents = model.encode([corpus[d].contents for d in doc_ids], show_progress_bar=True, **encode)
    texts = model.encode([q.query for q in queries.queries], show_progress_bar=False, **encode)
    return np.einsum("ij,ij->i", texts, documents[[row_of[q.doc_id] for q in queries.queries]])


def select_expansions(queries: SyntheticQueries, corpus: Corpus, config: ExpansionConfig | dict | None = None
                      ) -> tuple[dict[str, str], dict[str, float]]:
    """passage id -> its expansion (its kept queries, most relevant first, each once) and the figures:
    queries scored, kept, passages expanded, and the share of the corpus they are. Queries that are
    empty, repeat another of the same passage, or are about passages not in ``corpus`` are left out
    before the ``keep`` share is taken."""
    config = ExpansionConfig.from_dict(config)
    seen: set[tuple[str, str]] = set()
    candidates = []
    for query in queries.queries:
        text = " ".join(query.query.split())
        key = (query.doc_id, text.lower())
        if text and query.doc_id in corpus and key not in seen:
            seen.add(key)
            candidates.append(query)
    usable = SyntheticQueries(candidates, generator=queries.generator, prompt_id=queries.prompt_id)
    scores = relevance_scores(usable, corpus, config) if candidates else np.array([])
    kept = max(1, round(config.keep * len(candidates))) if candidates else 0
    order = np.argsort(-scores, kind="stable")[:kept]
    chosen: dict[str, list[tuple[float, str]]] = {}
    for i in order:
        chosen.setdefault(candidates[i].doc_id, []).append((float(scores[i]), " ".join(candidates[i].query.split())))
    expansions = {doc_id: " ".join(text for _, text in sorted(rows, key=lambda row: -row[0]))
                  for doc_id, rows in chosen.items()}
    threshold = float(scores[order[-1]]) if kept else float("nan")
    figures = {"queries": float(len(queries.queries)), "candidates": float(len(candidates)), "kept": float(kept),
               "passages_expanded": float(len(expansions)), "coverage": len(expansions) / max(1, len(corpus)),
               "threshold": threshold}
    logger.info("Expansion: kept %d of %d distinct queries (relevance >= %.3f); %d of %d passages expanded",
                kept, len(candidates), threshold, len(expansions), len(corpus))
    return expansions, figures


def write_expansions(expansions: dict[str, str], path: str | Path) -> Path:
    """The expansions as JSON lines (``{"_id": passage id, "expansion": text}``), written atomically: what a
    production first stage indexes with each passage (append it to the passage's contents)."""
    path = Path(path)
    with atomic_write(path) as handle:
        for doc_id, text in expansions.items():
            handle.write(json.dumps({"_id": doc_id, "expansion": text}, ensure_ascii=False) + "\n")
    return path
