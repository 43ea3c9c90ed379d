"""Whether a corpus warrants retraining (the ``check_corpus_change`` step's twin), and ``run_retraining``,
what ``retraining_pipeline`` runs: that check, then the InPars flow when it says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Optional

from synthir.data import Corpus
from synthir.flow.inpars import InParsResult, load_for, pipeline_config_hash, run_inpars_on
from synthir.flow.stage import Staged
from synthir.inpars_config import InParsConfig
from synthir.retraining import RetrainingDecision, RetrainingPolicy, decide_retraining
from synthir.tracking import run_of_its_own, set_tags

logger = logging.getLogger(__name__)


def check_corpus_change(corpus: Corpus, registry_name: str = "inpars-reranker", force: bool = False,
                        policy: RetrainingPolicy | dict | None = None, config_hash: Optional[str] = None) -> Staged:
    """Compare the corpus with the one the production reranker was trained on (fingerprint, then the
    per-document manifest against ``policy``), and skip a corpus and config the gate already refused."""
    decision = decide_retraining(corpus.fingerprint(), registry_name, force=force, manifest=corpus.manifest(),
                                 policy=RetrainingPolicy.from_dict(policy), config_hash=config_hash)
    logger.info("%s: %s", "Retraining" if decision.retrain else "Not retraining", decision.reason)
    set_tags({"retraining.decision": "retrain" if decision.retrain else "skip", "retraining.reason": decision.reason})
    return Staged(decision, {k: v for k, v in decision.model_dump().items() if v is not None})


@dataclass
class RetrainingResult:
    """The retraining flow's outputs: the check's decision, and the InPars run when it retrained."""

    decision: RetrainingDecision
    inpars: Optional[InParsResult]


def run_retraining(collection: str, config: InParsConfig | dict | None = None,
                   policy: RetrainingPolicy | dict | None = None, force: bool = False, query_store: Any = None,
                   on_registered=None) -> RetrainingResult:
    """``retraining_pipeline`` without ZenML: the collection is loaded once and compared with production's
    corpus (``check_corpus_change``); when it is new or changed enough (or ``force``), the InPars flow runs
    on it (``run_inpars``'s stages, generation reusing ``query_store``'s queries of unchanged
    documents) and promotion goes through the gate. Figures go to the active MLflow run, else to one of its own."""
    config = InParsConfig.from_dict(config)
    with run_of_its_own(f"retraining {collection}"):
        loaded = load_for(collection, config)
        decision = check_corpus_change(loaded.corpus, config.registry_name, force, policy,
                                       pipeline_config_hash(config)).value
        if not decision.retrain:
            return RetrainingResult(decision, None)
        return RetrainingResult(decision, run_inpars_on(loaded, collection, config, query_store, on_registered))
