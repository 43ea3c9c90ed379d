"""ZenML materializers for synthir's domain types (registered when this package is imported)."""

from materializers.records import (
    CorpusMaterializer,
    EvaluationResultMaterializer,
    FilteredQueriesMaterializer,
    QrelsMaterializer,
    QuarantinedQueriesMaterializer,
    QueriesMaterializer,
    RunMaterializer,
    SyntheticQueriesMaterializer,
    ValidationReportMaterializer,
)

__all__ = [
    "CorpusMaterializer", "EvaluationResultMaterializer", "QrelsMaterializer", "QueriesMaterializer", "RunMaterializer",
    "SyntheticQueriesMaterializer", "FilteredQueriesMaterializer", "QuarantinedQueriesMaterializer",
    "ValidationReportMaterializer",
]
