"""ZenML materializers for synthir's domain types (registered when this package is imported)."""

from materializers.records import (
    CompiledQueryProgramMaterializer,
    CorpusMaterializer,
    EvaluationResultMaterializer,
    FilteredQueriesMaterializer,
    GeneratorModelMaterializer,
    PreferencePairsMaterializer,
    QrelsMaterializer,
    QuarantinedQueriesMaterializer,
    QueriesMaterializer,
    RerankerComparisonMaterializer,
    RerankerModelMaterializer,
    RunMaterializer,
    SyntheticQueriesMaterializer,
    TriplesMaterializer,
    ValidationReportMaterializer,
)

__all__ = [
    "CompiledQueryProgramMaterializer",
    "CorpusMaterializer", "EvaluationResultMaterializer", "QrelsMaterializer", "QueriesMaterializer", "RunMaterializer",
    "SyntheticQueriesMaterializer", "FilteredQueriesMaterializer", "QuarantinedQueriesMaterializer",
    "ValidationReportMaterializer", "TriplesMaterializer", "RerankerModelMaterializer", "RerankerComparisonMaterializer",
    "GeneratorModelMaterializer", "PreferencePairsMaterializer",
]
