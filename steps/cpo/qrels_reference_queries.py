from typing import Annotated

from zenml import log_metadata, step

from synthir.cpo import references_from_qrels
from synthir.data import Corpus, Qrels, Queries
from synthir.data.errors import require_judgments
from synthir.data.synthetic import SyntheticQueries


@step
def qrels_reference_queries(corpus: Corpus, queries: Queries, qrels: Qrels) -> Annotated[SyntheticQueries, "reference_queries"]:
    """Every judged-relevant (query, document) pair as a reference row for the preference data."""
    require_judgments(len(qrels), "cpo_pipeline with references: qrels", "use references: synthetic (filtered "
                      "synthetic queries as references) for a corpus-only collection")
    references = references_from_qrels(queries, qrels, corpus, name=f"qrels:{qrels.name}")
    log_metadata(metadata={"references": len(references), "documents": len({r.doc_id for r in references})})
    return references
