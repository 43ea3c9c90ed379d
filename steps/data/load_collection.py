from typing import Annotated, Optional, Tuple

from zenml import log_metadata, step
from zenml.logger import get_logger

from synthir.data import Corpus, Qrels, Queries
from synthir.data import load_collection as load
from synthir.tracking import log_params, set_tags

logger = get_logger(__name__)


# Never cached: the parameter is a location, and the files behind it may have changed.
@step(enable_cache=False, experiment_tracker=True)
def load_collection(
    collection: str,
    split: str = "test",
    unknown_ids: str = "raise",
    on_bad_line: str = "raise",
    max_queries: Optional[int] = None,
) -> Tuple[Annotated[Corpus, "corpus"], Annotated[Queries, "queries"], Annotated[Qrels, "qrels"]]:
    """Read a labelled collection (BEIR folder or ir_datasets id); keep the queries the split judges."""
    loaded = load(collection, split=split, unknown_ids=unknown_ids, on_bad_line=on_bad_line)
    if loaded.qrels is None:
        raise ValueError(
            f"collection {collection!r} has no judgments for split {split!r}; evaluation needs qrels/{split}.tsv"
        )
    queries = loaded.judged_queries()
    qrels = loaded.qrels
    if max_queries is not None and len(queries) > max_queries:
        queries = queries.subset(list(queries.queries)[:max_queries])
        qrels = type(qrels)({q: qrels.judgments[q] for q in queries.queries}, name=qrels.name, source=qrels.source)
    fingerprint = loaded.corpus.fingerprint()
    logger.info(
        "Collection %s: %d documents (fingerprint %s), %d judged queries, %d judgments",
        loaded.name, len(loaded.corpus), fingerprint, len(queries), len(qrels),
    )
    log_params({"collection": collection, "split": split, "corpus_fingerprint": fingerprint,
                "documents": len(loaded.corpus), "queries": len(queries)}, prefix="data.")
    set_tags({"corpus_fingerprint": fingerprint, "collection": loaded.name})
    log_metadata(metadata={"collection": loaded.name, "corpus_fingerprint": fingerprint,
                           "read_stats": loaded.corpus.stats.as_dict()})
    return loaded.corpus, queries, qrels
