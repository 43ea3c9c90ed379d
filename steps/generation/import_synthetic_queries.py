from typing import Annotated

from zenml import step

from synthir.data import Corpus
from synthir.data.exchange import read_published_queries
from synthir.data.synthetic import SyntheticQueries
from synthir.tracking import log_metrics, log_params


@step(enable_cache=False, experiment_tracker=True)
def import_synthetic_queries(corpus: Corpus, path: str, generator: str = "imported") -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """Bring in published synthetic queries: InPars JSONL (e.g. the InPars authors' sets), a GPL/BEIR
    qgen folder, or a Hugging Face dataset saved with ``save_to_disk``; texts come from the corpus."""
    queries = read_published_queries(path, generator=generator)
    unknown = sorted({q.doc_id for q in queries if q.doc_id not in corpus})
    if unknown:
        raise ValueError(f"{path}: {len(unknown)} document id(s) are not in the corpus (first: {unknown[:5]}); "
                         "the queries were generated for another collection")
    for query in queries:
        query.doc_text = query.doc_text or corpus[query.doc_id].contents
    queries.corpus_fingerprint = corpus.fingerprint()
    log_params({"imported_from": path}, prefix="generation.")
    log_metrics({"queries": len(queries)}, prefix="generation.")
    return queries
