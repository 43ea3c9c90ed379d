from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries
from synthir.flow import training
from synthir.training import Triples


@step(experiment_tracker=True)
def build_training_triples(
    queries: SyntheticQueries, corpus: Corpus, negatives_per_query: int = 1, depth: int = 100, seed: int = 42,
    dev_fraction: float = 0.0, dev_depth: int = 20, negative_miner: str = "bm25", negative_skip: int = 0,
    negative_margin: float = 0.05, miner_model: str = "package:all-minilm-l6-v2",
) -> Annotated[Triples, "triples"]:
    """``synthir.flow.training.build_training_triples``: (query, positive, negative), the negatives from
    BM25 or a miner, positives excluded; with ``dev_fraction``, a dev set beside them."""
    built = training.build_training_triples(queries, corpus, negatives_per_query, depth, seed, dev_fraction, dev_depth,
                                            negative_miner, negative_skip, negative_margin, miner_model)
    log_metadata(metadata=built.metadata)
    return built.value
