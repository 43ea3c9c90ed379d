"""ZenML materializers for synthir's domain types (registered when this package is imported)."""

from materializers.records import (
    CorpusMaterializer,
    EvaluationResultMaterializer,
    QrelsMaterializer,
    QueriesMaterializer,
    RunMaterializer,
    SyntheticQueriesMaterializer,
)

__all__ = [
    "CorpusMaterializer", "EvaluationResultMaterializer", "QrelsMaterializer", "QueriesMaterializer", "RunMaterializer",
    "SyntheticQueriesMaterializer",
]
