from typing import Annotated

from zenml import step

from synthir.data import Corpus
from synthir.data.synthetic import SyntheticQueries, read_inpars_jsonl
from synthir.tracking import log_metrics, log_params


@step(enable_cache=False, experiment_tracker=True)
def import_inpars_queries(corpus: Corpus, path: str, generator: str = "imported") -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """Bring synthetic queries in InPars JSONL format (e.g. the InPars authors' published sets)."""
    queries = read_inpars_jsonl(path, generator=generator)
    unknown = sorted({q.doc_id for q in queries if q.doc_id not in corpus})
    if unknown:
        raise ValueError(f"{path}: {len(unknown)} document id(s) are not in the corpus (first: {unknown[:5]}); "
                         "the queries were generated for another collection")
    queries.corpus_fingerprint = corpus.fingerprint()
    log_params({"imported_from": path}, prefix="generation.")
    log_metrics({"queries": len(queries)}, prefix="generation.")
    return queries
