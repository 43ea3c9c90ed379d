"""ZenML materializers for synthir's domain types (registered when this package is imported)."""

from materializers.records import (
    CorpusMaterializer,
    EvaluationResultMaterializer,
    FilteredQueriesMaterializer,
    QrelsMaterializer,
    QuarantinedQueriesMaterializer,
    QueriesMaterializer,
    RerankerModelMaterializer,
    RunMaterializer,
    SyntheticQueriesMaterializer,
    TriplesMaterializer,
    ValidationReportMaterializer,
)

__all__ = [
    "CorpusMaterializer", "EvaluationResultMaterializer", "QrelsMaterializer", "QueriesMaterializer", "RunMaterializer",
    "SyntheticQueriesMaterializer", "FilteredQueriesMaterializer", "QuarantinedQueriesMaterializer",
    "ValidationReportMaterializer", "TriplesMaterializer", "RerankerModelMaterializer",
]
