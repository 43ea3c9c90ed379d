"""Every pipeline users run, by its config folder (``configs/<folder>/<preset>.yaml``): the one list
the command line (``synthir run``), the configuration reference and the tests read."""

from pipelines.cpo import cpo_pipeline
from pipelines.evaluation import evaluation_pipeline
from pipelines.generation import generation_pipeline
from pipelines.inpars import inpars_pipeline
from pipelines.optimise_prompt import optimise_prompt_pipeline
from pipelines.retraining import retraining_pipeline
from pipelines.training import training_pipeline
from pipelines.validation import validation_pipeline

PIPELINES = {"inpars": inpars_pipeline, "retraining": retraining_pipeline, "generation": generation_pipeline,
             "optimise_prompt": optimise_prompt_pipeline, "validation": validation_pipeline,
             "training": training_pipeline, "evaluation": evaluation_pipeline, "cpo": cpo_pipeline}


def source(pipeline) -> str:
    """What ``zenml pipeline run`` takes for ``pipeline``: ``pipelines.<module>.<name>``."""
    return f"{pipeline.entrypoint.__module__}.{pipeline.name}"
