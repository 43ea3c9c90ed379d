from typing import Annotated

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.abandoned import record_process
from synthir.data import Corpus, load_collection
from synthir.tracking import log_params, set_tags

logger = get_logger(__name__)


# Never cached: the parameter is a location, and the files behind it may have changed.
@step(enable_cache=False, experiment_tracker=True)
def load_corpus(collection: str, on_bad_line: str = "raise") -> Annotated[Corpus, "corpus"]:
    """Read the corpus of a collection, in any form ``synthir.data.load_collection`` takes (queries and
    judgments, if any, are not needed here)."""
    record_process()  # which process runs this pipeline: the next run marks it failed if it dies
    corpus = load_collection(collection, on_bad_line=on_bad_line).corpus
    fingerprint = corpus.fingerprint()
    logger.info("Corpus %s: %d documents, fingerprint %s", corpus.name, len(corpus), fingerprint)
    log_params({"collection": collection, "corpus_fingerprint": fingerprint, "documents": len(corpus)}, prefix="data.")
    set_tags({"corpus_fingerprint": fingerprint, "collection": corpus.name})
    log_metadata(metadata={"corpus_fingerprint": fingerprint, "documents": len(corpus),
                           "read_stats": corpus.stats.as_dict()})
    return corpus
