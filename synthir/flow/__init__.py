"""The InPars flow in plain Python: one typed function per stage, the steps' twins one to one.

``run_inpars(collection, config)`` runs generation -> checks -> filters -> triples -> (teacher) ->
training -> evaluation -> registration and the gate without ZenML; the ZenML steps are adapters that
call the same stage functions and add what only an orchestrator has (artifacts, step metadata, the
model view). ``run_training(collection, queries, config)`` is ``training_pipeline``'s flow (triples
from given queries onwards), ``run_retraining`` ``retraining_pipeline``'s and ``run_evaluation``
``evaluation_pipeline``'s. Benchmarks and tests call these functions, so they measure what the
pipelines run.

Each stage returns its outputs and ``metadata`` (figures for the orchestrator's step view); figures
go to the active MLflow run, if any (``synthir.tracking``).
"""

from synthir.flow.inpars import InParsResult, TrainingResult, run_inpars, run_training
from synthir.flow.retraining import RetrainingResult, run_retraining
from synthir.flow.retrieval import EvaluationRunResult, run_evaluation

__all__ = ["EvaluationRunResult", "InParsResult", "RetrainingResult", "TrainingResult", "run_evaluation", "run_inpars",
           "run_retraining", "run_training"]
