from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus, Qrels, Queries
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import cpo


@step
def qrels_reference_queries(corpus: Corpus, queries: Queries, qrels: Qrels) -> Annotated[SyntheticQueries, "reference_queries"]:
    """``synthir.flow.cpo.qrels_reference_queries``: every judged-relevant pair as a reference row."""
    references = cpo.qrels_reference_queries(corpus, queries, qrels)
    log_metadata(metadata=references.metadata)
    return references.value
