"""Reranker training: hard-negative triples and the trainers."""

from synthir.training.rerankers import Reranker, RerankerTrainingConfig, TrainingResult, train_reranker
from synthir.training.triples import Triples, build_triples

__all__ = ["Reranker", "RerankerTrainingConfig", "TrainingResult", "Triples", "build_triples", "train_reranker"]
