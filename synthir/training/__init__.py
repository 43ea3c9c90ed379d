"""Reranker training: hard-negative triples and the trainers (scoring: ``synthir.retrieval.reranker``)."""

from synthir.lazy import lazy_members

# name -> the module defining it
_EXPORTS = {
    "RerankerTrainingConfig": "synthir.training.config",
    "TrainingResult": "synthir.training.rerankers",
    "Triples": "synthir.training.triples",
    "add_teacher_margins": "synthir.training.teacher",
    "build_triples": "synthir.training.triples",
    "NegativeMiner": "synthir.training.triples",
    "train_reranker": "synthir.training.rerankers",
}
__getattr__, __all__ = lazy_members(__name__, _EXPORTS)
