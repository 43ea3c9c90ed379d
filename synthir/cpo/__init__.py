"""Preference-tuning of the query generator (InPars+'s CPO): QueryEval scores, ALMA preference pairs,
CPO + LoRA training with TRL, held-out evaluation. Registration and the copy-guarded promotion gate
live in ``synthir.registry``."""

from synthir.lazy import lazy_members

# name -> the module defining it
_EXPORTS = {
    "CPOTrainingConfig": "synthir.cpo.config",
    "Candidate": "synthir.cpo.preferences",
    "GeneratorEvaluation": "synthir.cpo.evaluation",
    "GeneratorTrainingResult": "synthir.cpo.training",
    "PreferenceConfig": "synthir.cpo.preferences",
    "PreferencePairs": "synthir.cpo.preferences",
    "QueryEvalConfig": "synthir.cpo.query_eval",
    "QueryEvalScorer": "synthir.cpo.query_eval",
    "QueryScore": "synthir.cpo.query_eval",
    "alma_select": "synthir.cpo.preferences",
    "bm25_softmax": "synthir.cpo.query_eval",
    "build_preference_pairs": "synthir.cpo.preferences",
    "evaluate_generator": "synthir.cpo.evaluation",
    "held_out_documents": "synthir.cpo.evaluation",
    "references_from_qrels": "synthir.cpo.preferences",
    "train_generator": "synthir.cpo.training",
}
__getattr__, __all__ = lazy_members(__name__, _EXPORTS)
