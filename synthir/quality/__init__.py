"""Query quality: copy detection, Great Expectations checks with policies, filters, the report."""

from synthir.quality.checks import ChecksConfig
from synthir.quality.filters import apply_filters, validate_filter_specs
from synthir.quality.validate import (
    FilteredQueries,
    QuarantinedQueries,
    ValidationFailed,
    ValidationReport,
    check_queries,
    filter_queries,
)

__all__ = [
    "ChecksConfig", "FilteredQueries", "QuarantinedQueries", "ValidationFailed", "ValidationReport",
    "apply_filters", "check_queries", "filter_queries", "validate_filter_specs",
]
