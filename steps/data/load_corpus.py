from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.flow import data
from synthir.orchestration.abandoned import record_process
from synthir.preparation import DocumentsConfig


# Never cached: the parameter is a location, and the files behind it may have changed.
@step(enable_cache=False, experiment_tracker=True)
def load_corpus(collection: str, on_bad_line: str = "raise",
                documents: DocumentsConfig = DocumentsConfig()) -> Annotated[Corpus, "corpus"]:
    """The corpus of ``synthir.flow.data.load_collection`` (any form of collection; its documents
    prepared as ``documents`` says); queries and judgments, if any, are not needed here."""
    record_process()  # which process runs this pipeline: the next run marks it failed if it dies
    loaded = data.load_collection(collection, on_bad_line=on_bad_line, documents=documents)
    log_metadata(metadata=loaded.metadata)
    return loaded.corpus
