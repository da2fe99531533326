"""A user's fixtures named like the kit's common ones cannot reach the suites."""

from __future__ import annotations

import pytest

from conftest import RunConformance

#: A quick subset touching every injected fixture: the shared model, fresh models, the
#: provider, its metadata, the settings, telemetry and figures.
SUBSET = "CORE-001,STREAM-006,HEALTH-001,ERR-003,CONC-012,OTEL-001,PERF-001"

USER_CONFTEST = """
import pytest

@pytest.fixture(scope="session")
def chat_model():
    return "the user's chat_model"

@pytest.fixture(scope="session")
def provider():
    return "the user's provider"

@pytest.fixture
def make_chat_model():
    return "the user's make_chat_model"

@pytest.fixture
def provider_metadata():
    return "the user's provider_metadata"

@pytest.fixture
def record_figure():
    return "the user's record_figure"
"""


def test_user_fixtures_change_no_verdict(
    pytester: pytest.Pytester, run_conformance: RunConformance
) -> None:
    """A rootdir conftest of same-named fixtures leaves the reference's verdicts as they were."""
    baseline = run_conformance(None, "--chatmodels-requirements", SUBSET)
    assert set(baseline.statuses) == set(SUBSET.split(",")), baseline.output
    assert not baseline.failing, baseline.statuses
    assert list(baseline.statuses.values()).count("passed") >= 5, baseline.statuses
    pytester.makeconftest(USER_CONFTEST)
    shadowed = run_conformance(None, "--chatmodels-requirements", SUBSET)
    assert shadowed.statuses == baseline.statuses, shadowed.output
