from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.tracking import log_metrics, log_params
from synthir.training import Triples, build_triples


@step(experiment_tracker=True)
def build_training_triples(
    queries: SyntheticQueries, corpus: Corpus, negatives_per_query: int = 1, depth: int = 100, seed: int = 42
) -> Annotated[Triples, "triples"]:
    """(query, positive, negative) with negatives from BM25 top ``depth``, positives excluded."""
    triples = build_triples(queries, corpus, negatives_per_query=negatives_per_query, depth=depth, seed=seed)
    require_output("build_training_triples", len(triples), len(queries), "triples",
                   f"no query had a BM25 negative within depth {depth}")
    log_params({"negatives_per_query": negatives_per_query, "negative_depth": depth, "seed": seed}, prefix="triples.")
    log_metrics({"triples": len(triples), "queries": len(queries)}, prefix="triples.")
    log_metadata(metadata={"triples": len(triples)})
    return triples
