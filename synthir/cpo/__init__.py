"""Preference-tuning of the query generator (InPars+'s CPO): QueryEval scores, ALMA preference pairs,
CPO + LoRA training with TRL, held-out evaluation. Registration and the copy-guarded promotion gate
live in ``synthir.registry``."""

from synthir.cpo.evaluation import GeneratorEvaluation, evaluate_generator, held_out_documents
from synthir.cpo.preferences import (
    Candidate,
    PreferenceConfig,
    PreferencePairs,
    alma_select,
    build_preference_pairs,
    references_from_qrels,
)
from synthir.cpo.query_eval import QueryEvalConfig, QueryEvalScorer, QueryScore, bm25_softmax
from synthir.cpo.training import CPOTrainingConfig, GeneratorTrainingResult, train_generator

__all__ = [
    "CPOTrainingConfig", "Candidate", "GeneratorEvaluation", "GeneratorTrainingResult", "PreferenceConfig",
    "PreferencePairs", "QueryEvalConfig", "QueryEvalScorer", "QueryScore", "alma_select", "bm25_softmax",
    "build_preference_pairs", "evaluate_generator", "held_out_documents", "references_from_qrels", "train_generator",
]
