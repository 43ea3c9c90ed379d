from typing import Annotated

from zenml import log_metadata, step

from synthir.data import Corpus
from synthir.data.errors import require_output
from synthir.data.synthetic import SyntheticQueries
from synthir.tracking import log_metrics, log_params
from synthir.training import NegativeMiner, Triples, build_triples


@step(experiment_tracker=True)
def build_training_triples(
    queries: SyntheticQueries, corpus: Corpus, negatives_per_query: int = 1, depth: int = 100, seed: int = 42,
    dev_fraction: float = 0.0, dev_depth: int = 20, negative_miner: str = "bm25", negative_skip: int = 0,
    negative_margin: float = 0.05, miner_model: str = "package:all-minilm-l6-v2",
) -> Annotated[Triples, "triples"]:
    """(query, positive, negative) with negatives from BM25 top ``depth`` (or mined by ``miner_model``),
    positives excluded; with ``dev_fraction``, that share of the documents' queries is the dev set
    instead. The last six parameters are ``RerankerTrainingConfig.triples_options()``."""
    miner = NegativeMiner.configured(negative_miner, negative_skip, negative_margin, miner_model)
    triples = build_triples(queries, corpus, negatives_per_query=negatives_per_query, depth=depth, seed=seed,
                            dev_fraction=dev_fraction, dev_depth=dev_depth, miner=miner)
    require_output("build_training_triples", len(triples), len(queries), "triples",
                   f"no query had a {'mined' if miner else 'BM25'} negative within depth {depth}")
    dev_queries = 0 if triples.dev is None else int(triples.dev["query_id"].nunique())
    log_params({"negatives_per_query": negatives_per_query, "negative_depth": depth, "seed": seed,
                "dev_fraction": dev_fraction, "dev_depth": dev_depth, "negative_miner": negative_miner,
                "negative_skip": negative_skip, "negative_margin": negative_margin}, prefix="triples.")
    log_metrics({"triples": len(triples), "queries": len(queries), "dev_queries": dev_queries}, prefix="triples.")
    log_metadata(metadata={"triples": len(triples), "dev_queries": dev_queries})
    return triples
