from pipelines.checked import checked_pipeline
from steps.data.load_corpus import load_corpus
from steps.validation.check_synthetic_queries import check_synthetic_queries
from steps.validation.enforce_validation_policy import enforce_validation_policy
from steps.validation.filter_synthetic_queries import filter_synthetic_queries
from steps.validation.load_synthetic_queries import load_synthetic_queries
from synthir.parameters import Artifact, ArtifactVersion, Collection
from synthir.quality.checks import ChecksConfig
from synthir.quality.filters import Filters, ScoresFilter


@checked_pipeline
def validation_pipeline(
    collection: Collection = "data/demo",
    artifact: Artifact = "synthetic_queries",
    artifact_version: ArtifactVersion = None,
    checks: ChecksConfig = ChecksConfig(),
    filters: Filters = (ScoresFilter(keep=0.8),),
) -> None:
    """Check the latest (or a given) synthetic_queries artifact, quarantine bad rows, filter the rest."""
    corpus = load_corpus(collection=collection)
    queries = load_synthetic_queries(artifact=artifact, version=artifact_version)
    checked, _, check_report = check_synthetic_queries(queries=queries, corpus=corpus, checks=checks)
    enforce_validation_policy(check_report)
    filter_synthetic_queries(queries=checked, corpus=corpus, check_report=check_report, filters=filters,
                             after="enforce_validation_policy")
