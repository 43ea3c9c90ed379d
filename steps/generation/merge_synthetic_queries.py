from typing import Annotated, List

from zenml import step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.generation.shards import merge_shards
from synthir.tracking import record_figures


@step(experiment_tracker=True)
def merge_synthetic_queries(parts: List[SyntheticQueries], corpus: Corpus) -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """The generation shards' queries as one set, in the seeded sample's order."""
    merged = merge_shards(parts, corpus.fingerprint())
    record_figures({"queries": len(merged), "shards": len(parts)}, prefix="generation.merged.")
    return merged
