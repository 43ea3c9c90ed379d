"""Scoring (query, document) pairs with a trained or zero-shot reranker: bi-encoder (cosine of
sentence embeddings, documents embedded once and cached by id), cross-encoder, or monoT5 (the
log-probability of "true" against "false" at the first decoder step). Training lives in
``synthir.training``; this is what evaluation, the filters, the registered pyfunc and
``synthir rerank`` use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from synthir.models import DEFAULT_MAX_LENGTH, RERANKER_TYPES, read_reranker_marker
from synthir.runtime import pick_device, pick_dtype

if TYPE_CHECKING:  # torch is imported when a model is loaded, not when this module is
    import torch

MONOT5_TEMPLATE = "Query: {query} Document: {document} Relevant:"


class Reranker:
    """Scores (query, document) pairs with a trained or zero-shot model.

    ``model_type`` and ``max_length`` default to what the folder's marker records (the type and the
    length it was trained at); a folder without one is a zero-shot bi-encoder at 256 tokens."""

    def __init__(self, path: str | Path, model_type: str | None = None, max_length: int | None = None,
                 batch_size: int = 64):
        path = Path(path)
        marker = read_reranker_marker(path)
        self.model_type = model_type or (marker.model_type if marker else "bi-encoder")
        max_length = max_length or (marker.max_length if marker else DEFAULT_MAX_LENGTH)
        self.max_length = max_length
        self.batch_size = batch_size
        device = pick_device("auto")
        dtype = pick_dtype("auto", device)  # bf16 inference where supported (~2.5x on this CPU)
        if self.model_type == "bi-encoder":
            from sentence_transformers import SentenceTransformer

            self.model = SentenceTransformer(str(path), device=device, model_kwargs={"dtype": dtype})
            self.model.max_seq_length = max_length
        elif self.model_type == "cross-encoder":
            from sentence_transformers.cross_encoder import CrossEncoder

            self.model = CrossEncoder(str(path), max_length=max_length, device=device, model_kwargs={"dtype": dtype})
        elif self.model_type == "monot5":
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            self.model = AutoModelForSeq2SeqLM.from_pretrained(str(path)).to(device).eval()
            # first token of each word: "▁true"/"▁false" for T5's vocabulary, "t"/"f" for byte-level ones
            self.true_false = [self.tokenizer(word, add_special_tokens=False).input_ids[0] for word in ("true", "false")]
        else:
            raise ValueError(f"unknown reranker type {self.model_type!r}; expected one of {RERANKER_TYPES}")
        self._doc_cache: dict[str, torch.Tensor] = {}

    def precompute(self, doc_ids: Sequence[str], documents: Sequence[str]) -> None:
        """Embed many documents in one call (sorted by length inside sentence-transformers): far faster
        than per-query batches when reranking a whole run. A no-op for pairwise models."""
        if self.model_type != "bi-encoder":
            return
        todo = [(d, t) for d, t in dict(zip(doc_ids, documents)).items() if d not in self._doc_cache]
        if todo:
            embedded = self.model.encode([t for _, t in todo], batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_tensor=True, show_progress_bar=False)
            self._doc_cache.update(zip((d for d, _ in todo), embedded))

    def score(self, queries: Sequence[str], documents: Sequence[str], doc_ids: Sequence[str] | None = None) -> list[float]:
        """Scores for aligned (query, document) pairs; bi-encoder document embeddings are cached by id."""
        if self.model_type == "monot5":
            return self._score_monot5(queries, documents)
        if self.model_type == "cross-encoder":
            return [float(s) for s in self.model.predict(list(zip(queries, documents)), batch_size=self.batch_size,
                                                         show_progress_bar=False)]
        # a reranked query repeats once per document: encode each distinct query once
        distinct = list(dict.fromkeys(queries))
        encoded = self.model.encode(distinct, batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_tensor=True, show_progress_bar=False)
        row = {text: i for i, text in enumerate(distinct)}
        q = encoded[[row[text] for text in queries]]
        keys = list(doc_ids) if doc_ids is not None else list(documents)
        missing = [i for i, key in enumerate(keys) if key not in self._doc_cache]
        if missing:
            unique = list(dict.fromkeys(keys[i] for i in missing))
            text = {keys[i]: documents[i] for i in missing}
            embedded = self.model.encode([text[k] for k in unique], batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_tensor=True, show_progress_bar=False)
            self._doc_cache.update(zip(unique, embedded))
        import torch

        d = torch.stack([self._doc_cache[k] for k in keys])
        return (q * d).sum(dim=1).float().tolist()

    def _score_monot5(self, queries: Sequence[str], documents: Sequence[str]) -> list[float]:
        import torch

        scores: list[float] = []
        start_id = self.model.config.decoder_start_token_id
        with torch.inference_mode():
            for begin in range(0, len(queries), self.batch_size):
                texts = [MONOT5_TEMPLATE.format(query=q, document=d)
                         for q, d in zip(queries[begin : begin + self.batch_size], documents[begin : begin + self.batch_size])]
                inputs = self.tokenizer(texts, max_length=self.max_length, truncation=True, padding=True,
                                        return_tensors="pt").to(self.model.device)
                decoder = torch.full((len(texts), 1), start_id, dtype=torch.long, device=self.model.device)
                logits = self.model(**inputs, decoder_input_ids=decoder).logits[:, 0, self.true_false]
                scores.extend(torch.log_softmax(logits.float(), dim=-1)[:, 0].tolist())
        return scores
