from typing import Annotated

from zenml import step

from synthir.data import Corpus
from synthir.data.exchange import attach_to_corpus, read_published_queries
from synthir.data.synthetic import SyntheticQueries
from synthir.tracking import log_metrics, log_params


@step(enable_cache=False, experiment_tracker=True)
def import_synthetic_queries(corpus: Corpus, path: str, generator: str = "imported") -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """Bring in published synthetic queries: InPars JSONL (e.g. the InPars authors' sets), a GPL/BEIR
    qgen folder, or a Hugging Face dataset saved with ``save_to_disk``; texts come from the corpus."""
    queries = attach_to_corpus(read_published_queries(path, generator=generator), corpus, path)
    log_params({"imported_from": path}, prefix="generation.")
    log_metrics({"queries": len(queries)}, prefix="generation.")
    return queries
