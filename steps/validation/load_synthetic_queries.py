from typing import Annotated, Optional

from zenml import step
from zenml.client import Client
from zenml.logger import get_logger

from synthir.data.synthetic import SyntheticQueries
from synthir.orchestration.abandoned import record_process

logger = get_logger(__name__)


@step(enable_cache=False)
def load_synthetic_queries(
    artifact: str = "synthetic_queries", version: Optional[str] = None
) -> Annotated[SyntheticQueries, "synthetic_queries"]:
    """The latest ``synthetic_queries`` artifact (from the generation pipeline), or a given name/id and version."""
    record_process()  # which process runs this pipeline: the next run marks it failed if it dies
    found = Client().get_artifact_version(artifact, version)
    logger.info("Validating artifact %s version %s (%s)", found.name, found.version, found.id)
    queries = found.load()
    if not isinstance(queries, SyntheticQueries):
        raise TypeError(f"artifact {artifact!r} holds {type(queries).__name__}, expected SyntheticQueries")
    return queries
