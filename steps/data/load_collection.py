from typing import Annotated, Optional, Tuple

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Queries
from synthir.flow import data
from synthir.orchestration.abandoned import record_process
from synthir.preparation import DocumentsConfig


# Never cached: the parameter is a location, and the files behind it may have changed.
@step(enable_cache=False, experiment_tracker=True)
def load_collection(
    collection: str,
    split: str = "test",
    unknown_ids: str = "raise",
    on_bad_line: str = "raise",
    max_queries: Optional[int] = None,
    queries_file: Optional[str] = None,
    documents: DocumentsConfig = DocumentsConfig(),
) -> Tuple[Annotated[Corpus, "corpus"], Annotated[Queries, "queries"], Annotated[Qrels, "qrels"]]:
    """``synthir.flow.data.load_collection``: a collection, labelled or corpus-only, its documents
    prepared (``documents``: boilerplate, duplicates, passages)."""
    record_process()  # which process runs this pipeline: the next run marks it failed if it dies
    loaded = data.load_collection(collection, split, unknown_ids, on_bad_line, max_queries, queries_file, documents)
    log_metadata(metadata=loaded.metadata)
    return loaded.corpus, loaded.queries, loaded.qrels
