from zenml.logger import get_logger

from pipelines.checked import checked_pipeline
from pipelines.inpars import inpars_stages, pipeline_config_hash
from steps.data.load_collection import load_collection
from steps.retraining.check_corpus_change import check_corpus_change
from synthir.inpars_config import InParsConfig
from synthir.judgments.config import resolve_source
from synthir.parameters import Collection, Force
from synthir.retraining import RetrainingPolicy

logger = get_logger(__name__)


@checked_pipeline(dynamic=True)
def retraining_pipeline(collection: Collection = "data/demo", force: Force = False, inpars: InParsConfig = InParsConfig(),
                        policy: RetrainingPolicy = RetrainingPolicy()) -> None:
    """Retrain when the corpus at ``collection`` is new or changed enough (``policy``): its fingerprint
    and manifest are compared with those of ``inpars-reranker@production``, and a corpus and config
    the gate already refused are not retried. Otherwise the run ends after the check, successfully,
    with the reason logged (and tagged in MLflow). Changed: the InPars stages run (reusing the stored
    queries of unchanged documents) and promotion goes through the usual gate.

    ``inpars`` holds the InPars stage parameters (as in ``inpars_pipeline``'s config); a dynamic
    pipeline, so the decision is made at run time, on the orchestrator."""
    inpars = InParsConfig.from_dict(inpars)
    corpus, queries, qrels = load_collection(collection=collection, queries_file=inpars.evaluation.queries_file,
                                             documents=inpars.documents)
    decision = check_corpus_change(corpus, registry_name=inpars.registry_name, force=force, policy=policy,
                                   config_hash=pipeline_config_hash(inpars)).load()
    if not decision.retrain:
        logger.info("Nothing to retrain: %s", decision.reason)
        return
    logger.info("Retraining: %s", decision.reason)
    inpars_stages(corpus, queries, qrels, inpars, collection, resolve_source(inpars.evaluation, collection))
