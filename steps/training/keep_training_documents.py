from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import training


@step
def keep_training_documents(queries: SyntheticQueries, training_corpus: Corpus,
                            collection_corpus: Corpus) -> Annotated[SyntheticQueries, "training_queries"]:
    """``synthir.flow.training.keep_training_documents``: the queries less those of held-out documents."""
    kept = training.keep_training_documents(queries, training_corpus, collection_corpus)
    log_metadata(metadata=kept.metadata)
    return kept.value
