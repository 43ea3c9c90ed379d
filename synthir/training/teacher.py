"""Teacher margins for MarginMSE distillation when no cross-encoder is at hand: the untrained base
model fused with BM25.

GPL distils a cross-encoder's margins into a bi-encoder. Offline there is no cross-encoder, but the
base model fused with BM25 (evaluation's ``fuse``: min-max per query, then a weighted sum) ranks better
than either alone, so it is a teacher that knows more than the student. For each query the teacher
scores its BM25 top ``depth`` plus the triple's own documents. Each triple is labelled with the
teacher's margin between its positive and its negative, in the base model's own score units (the
fused score mapped onto the query's range of dot products: MarginMSE's similarity, the cosine for a
model that normalises, as all-MiniLM-L6-v2 does), so MarginMSE compares like with like.

With ``anchor_positive`` the positive counts as the best candidate, because the query was written from
it. Negatives keep the teacher's grade, so a negative the teacher rates as relevant (a likely false
negative) gets a small margin and costs little.

Where a cross-encoder is at hand (``training.teacher_model``; GPL's recipe, e.g.
``hf:cross-encoder/ms-marco-MiniLM-L6-v2`` on a GPU stack), ``add_cross_encoder_margins`` grades the
triples' own pairs with it instead. Its logits are rescaled to the base model's margins (the same
standard deviation over the triples), so MarginMSE keeps one scale for every teacher.

The fused teacher can be an ensemble (``training.teacher_encoders``, e.g. all-mpnet-base-v2 beside
all-MiniLM-L6-v2): every encoder grades the same pool, their cosines are averaged min-max per query
(``average``), then BM25 is fused in. Two encoders that know different things rank better than either,
which is GPL's condition for distillation to teach the student something it did not know.

The fused teacher can take query likelihood under a causal LM (``training.teacher_likelihood_model``,
UPR) as a third opinion. It is costly, a forward pass of the LM per pair, so it grades each query's pool
only: the teacher's top ``teacher_likelihood_depth`` plus the triples' own documents. There it is fused
into the teacher's grades as evaluation fuses, min-max per query at ``teacher_likelihood_share``, and put
back on the pool's range. ``teach`` runs what the ``training:`` block asks for.
"""

from __future__ import annotations

import logging

from synthir.data.records import Corpus, Queries, Run
from synthir.retrieval import BM25Index
from synthir.retrieval.rerank import average, fuse
from synthir.training.config import RerankerTrainingConfig
from synthir.training.triples import Triples

logger = logging.getLogger(__name__)

def add_teacher_margins(triples: Triples, corpus: Corpus, base_model: str, weight: float = 0.5, depth: int = 100,
                        anchor_positive: bool = True, index: BM25Index | None = None, batch_size: int = 32,
                        likelihood_model: str | None = None, likelihood_share: float = 0.5,
                        likelihood_depth: int = 10, encoders: tuple[str, ...] | list[str] = ()) -> Triples:
    """``triples`` with ``pos_teacher``, ``neg_teacher`` and ``teacher_margin`` columns.

    ``weight`` is the base model's share of the fused teacher (as ``fusion_weight`` in evaluation);
    ``base_model`` is a model reference (``package:``, ``hf:``, a folder). With ``likelihood_model`` (a causal
    LM), query likelihood grades each query's pool, the teacher's top ``likelihood_depth`` plus the triples'
    own documents, and is fused into the teacher there at ``likelihood_share`` (min-max per query). With
    ``encoders`` (more bi-encoders), each grades the same pool and their cosines are averaged with the base
    model's, min-max per query, before BM25 is fused in."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"training.teacher_weight must be in [0, 1], got {weight}")
    if likelihood_model and not (0.0 < likelihood_share <= 1.0 and likelihood_depth >= 0):
        raise ValueError("training.teacher_likelihood_share must be in (0, 1] and teacher_likelihood_depth >= 0, got "
                         f"{likelihood_share} and {likelihood_depth}")
    frame = triples.frame.copy()
    if frame.empty:
        return triples.with_frame(frame)
    index = index or BM25Index.build(corpus)
    queries = dict(zip(frame["query_id"], frame["query"]))
    bm25 = index.search(Queries(queries), k=depth, show_progress=False)
    candidates = {qid: list(dict.fromkeys([*bm25.scores.get(qid, {}), *group["pos_id"], *group["neg_id"]]))
                  for qid, group in frame.groupby("query_id", sort=False)}
    doc_ids = sorted({d for ids in candidates.values() for d in ids})
    logger.info("Teacher: %s fused with BM25 (weight %.2f) over %d queries and %d documents (BM25 top %d each)",
                " + ".join([base_model, *encoders]), weight, len(queries), len(doc_ids), depth)
    cosines = _encoder_cosines(base_model, candidates, queries, doc_ids, corpus, batch_size)
    neural = Run(cosines)
    if encoders:  # an ensemble of equals: each encoder's cosines min-max per query, averaged
        neural = average([neural, *(Run(_encoder_cosines(ref, candidates, queries, doc_ids, corpus, batch_size))
                                    for ref in encoders)])
    fused = fuse(neural, bm25, weight).scores  # evaluation's own fusion: min-max per query, weighted sum
    if likelihood_model:
        pools = {qid: list(dict.fromkeys([*sorted(fused[qid], key=fused[qid].get, reverse=True)[:likelihood_depth],
                                          *group["pos_id"], *group["neg_id"]]))
                 for qid, group in frame.groupby("query_id", sort=False)}
        _fuse_likelihood(fused, pools, queries, corpus, likelihood_model, likelihood_share)
    teacher: dict[str, dict[str, float]] = {}
    for qid, cosine in cosines.items():  # the fused score mapped onto the query's cosine range
        low, high = min(cosine.values()), max(cosine.values())
        teacher[qid] = {d: low + (high - low) * f for d, f in fused[qid].items()}
    frame["pos_teacher"] = [max(teacher[q].values()) if anchor_positive else teacher[q][p]
                            for q, p in zip(frame["query_id"], frame["pos_id"])]
    frame["neg_teacher"] = [teacher[q][n] for q, n in zip(frame["query_id"], frame["neg_id"])]
    frame["teacher_margin"] = frame["pos_teacher"] - frame["neg_teacher"]
    return triples.with_frame(frame)


def _encoder_cosines(model_ref: str, candidates: dict[str, list[str]], queries: dict[str, str], doc_ids: list[str],
                     corpus: Corpus, batch_size: int) -> dict[str, dict[str, float]]:
    """query id -> {document id: dot product} under the bi-encoder ``model_ref`` (each document encoded once)."""
    from sentence_transformers import SentenceTransformer

    from synthir.models import resolve_model
    from synthir.runtime import pick_device

    model = SentenceTransformer(str(resolve_model(model_ref)), device=pick_device("auto"))
    doc_vectors = encode_with_estimate(model, [corpus[d].contents for d in doc_ids], batch_size, f"Teacher ({model_ref})")
    row_of = {d: i for i, d in enumerate(doc_ids)}
    query_ids = list(candidates)
    query_vectors = model.encode([queries[q] for q in query_ids], batch_size=batch_size, normalize_embeddings=False,
                                 convert_to_numpy=True, show_progress_bar=False)
    return {qid: dict(zip(candidates[qid], (doc_vectors[[row_of[d] for d in candidates[qid]]] @ vector).tolist()))
            for qid, vector in zip(query_ids, query_vectors)}


ESTIMATE_FROM_BATCHES = 40  # pools up to 40 batches (1,280 documents at 32) take a minute or so on 2 cores


def encode_with_estimate(model, texts: list[str], batch_size: int, label: str):
    """``model.encode(texts)``, saying first how long it will take: the first batches are timed and the
    rest estimated from them. The texts are then encoded in one call, as without the estimate (a
    split call batches and pads them differently, which moves the embeddings in the last digits), so
    the timed batches are encoded twice: only a pool of more than ``ESTIMATE_FROM_BATCHES`` batches,
    long enough for a wait to matter, is timed first."""
    import time

    encode = dict(batch_size=batch_size, normalize_embeddings=False, convert_to_numpy=True)
    if len(texts) <= ESTIMATE_FROM_BATCHES * batch_size:
        logger.info("%s: encoding %d documents", label, len(texts))
        return model.encode(texts, show_progress_bar=len(texts) > batch_size, **encode)
    head = 4 * batch_size
    started = time.perf_counter()
    model.encode(texts[:head], show_progress_bar=False, **encode)
    rate = head / max(time.perf_counter() - started, 1e-9)
    logger.info("%s: encoding %d documents, about %.0f s at %.0f documents/s (measured on the first %d)",
                label, len(texts), len(texts) / rate, rate, head)
    return model.encode(texts, show_progress_bar=True, **encode)


def add_cross_encoder_margins(triples: Triples, corpus: Corpus, teacher_model: str, base_model: str,
                              anchor_positive: bool = True, batch_size: int = 32) -> Triples:
    """``triples`` with ``pos_teacher``, ``neg_teacher`` and ``teacher_margin`` from a cross-encoder
    (``teacher_model``, a model reference) grading each (query, positive) and (query, negative) pair,
    rescaled so the margins' spread matches the base model's (dot-product) margins on the same triples."""
    import numpy as np
    from sentence_transformers import CrossEncoder, SentenceTransformer

    from synthir.models import resolve_model
    from synthir.runtime import pick_device

    frame = triples.frame.copy()
    if frame.empty:
        return triples.with_frame(frame)
    device = pick_device("auto")
    teacher = CrossEncoder(str(resolve_model(teacher_model)), device=device)
    logger.info("Teacher: cross-encoder %s over %d triples", teacher_model, len(frame))
    pairs = list(zip(frame["query"], frame["positive"])) + list(zip(frame["query"], frame["negative"]))
    logits = np.asarray(teacher.predict(pairs, batch_size=batch_size, show_progress_bar=True), dtype=float).reshape(-1)
    positive, negative = logits[: len(frame)], logits[len(frame):]
    student = SentenceTransformer(str(resolve_model(base_model)), device=device)
    encode = lambda texts: student.encode(list(texts), batch_size=batch_size, normalize_embeddings=False,  # noqa: E731
                                          convert_to_numpy=True, show_progress_bar=False)
    queries = encode(frame["query"])
    base_margins = ((queries * encode(frame["positive"])).sum(1) - (queries * encode(frame["negative"])).sum(1))
    spread = float(np.std(positive - negative))
    scale = float(np.std(base_margins)) / spread if spread > 0 else 1.0
    frame["pos_teacher"], frame["neg_teacher"] = positive * scale, negative * scale
    if anchor_positive:  # the query was written from its positive: the teacher's best candidate at least
        best = frame.groupby("query_id")[["pos_teacher", "neg_teacher"]].transform("max").max(axis=1)
        frame["pos_teacher"] = best
    frame["teacher_margin"] = frame["pos_teacher"] - frame["neg_teacher"]
    return triples.with_frame(frame)


def _fuse_likelihood(fused: dict[str, dict[str, float]], pools: dict[str, list[str]], queries: dict[str, str],
                     corpus: Corpus, likelihood_model: str, share: float) -> None:
    """Query likelihood (``QueryLikelihood``, UPR) fused into the teacher's grades of each query's pool, in place:
    evaluation's fusion over the pool, put back on the pool's own range of the teacher's grades."""
    from synthir.training.query_likelihood import QueryLikelihood

    logger.info("Teacher: query likelihood under %s (share %.2f) over %d pairs of %d queries", likelihood_model, share,
                sum(map(len, pools.values())), len(pools))
    likelihood = QueryLikelihood(likelihood_model).run(pools, queries, corpus)
    pooled = {qid: {d: fused[qid][d] for d in pool} for qid, pool in pools.items()}
    blended = fuse(Run(pooled), likelihood, 1 - share).scores
    for qid, grades_in_pool in pooled.items():
        low, high = min(grades_in_pool.values()), max(grades_in_pool.values())
        fused[qid].update({d: low + (high - low) * b for d, b in blended[qid].items()})


def teach(triples: Triples, corpus: Corpus, training: RerankerTrainingConfig, depth: int = 100,
          index: BM25Index | None = None) -> tuple[Triples, str]:
    """The teacher the ``training:`` block asks for, and a line naming it: the cross-encoder
    ``teacher_model``, or else the base model fused with BM25 and, where set, query likelihood under
    ``teacher_likelihood_model``."""
    if training.teacher_model:
        taught = add_cross_encoder_margins(triples, corpus, training.teacher_model, training.base_model,
                                           anchor_positive=training.teacher_anchor_positive)
        return taught, f"cross-encoder {training.teacher_model}"
    taught = add_teacher_margins(triples, corpus, training.base_model, weight=training.teacher_weight,
                                 depth=training.teacher_depth or depth,
                                 anchor_positive=training.teacher_anchor_positive, index=index,
                                 likelihood_model=training.teacher_likelihood_model,
                                 likelihood_share=training.teacher_likelihood_share,
                                 likelihood_depth=training.teacher_likelihood_depth,
                                 encoders=training.teacher_encoders)
    teacher = " + ".join([training.base_model, *training.teacher_encoders])
    teacher = f"{teacher} fused with BM25 (weight {training.teacher_weight})"
    if training.teacher_likelihood_model:
        teacher += (f" and query likelihood under {training.teacher_likelihood_model} (share "
                    f"{training.teacher_likelihood_share}, top {training.teacher_likelihood_depth})")
    return taught, teacher
