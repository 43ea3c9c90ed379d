from typing import Annotated

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries

logger = get_logger(__name__)


@step
def keep_training_documents(queries: SyntheticQueries, training_corpus: Corpus,
                            collection_corpus: Corpus) -> Annotated[SyntheticQueries, "training_queries"]:
    """Drop the queries written for documents held out for evaluation (queries generated before the
    hold-out, e.g. an earlier run's artifact): a held-out document is never a positive. Queries
    written for another collection (documents not in ``collection_corpus``) are refused."""
    from dataclasses import replace

    queries.require_documents_in(collection_corpus)
    kept = [q for q in queries if q.doc_id in training_corpus]
    dropped = len(queries) - len(kept)
    if dropped:
        logger.warning("Dropped %d of %d training queries whose document is held out for evaluation (first: %s)",
                       dropped, len(queries), [q.doc_id for q in queries if q.doc_id not in training_corpus][:5])
    log_metadata(metadata={"dropped_held_out": dropped, "kept": len(kept)})
    return replace(queries, queries=kept)
