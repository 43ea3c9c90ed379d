"""A stage that produces nothing from non-empty input fails, naming itself and what to change."""

import pytest

from synthir.data.errors import EmptyStageError, require_output
from synthir.quality import ValidationReport


def test_nothing_from_something_is_a_failure_and_nothing_from_nothing_is_not():
    with pytest.raises(EmptyStageError, match=r"^filter_synthetic_queries: produced no queries from 12 input\(s\); loosen keep$"):
        require_output("filter_synthetic_queries", 0, 12, "queries", "loosen keep")
    require_output("filter_synthetic_queries", 0, 0, "queries")  # an empty shard stays empty
    require_output("filter_synthetic_queries", 3, 12, "queries")


def test_a_fully_quarantined_run_fails_after_the_report_is_saved():
    from steps.validation.enforce_validation_policy import enforce_validation_policy

    everything_quarantined = ValidationReport(total=5, after_checks=0, kept=0, checks={})
    with pytest.raises(EmptyStageError, match=r"check_synthetic_queries: produced no queries that pass the checks from 5"):
        enforce_validation_policy.entrypoint(everything_quarantined)
    enforce_validation_policy.entrypoint(ValidationReport(total=5, after_checks=4, kept=4, checks={}))
