"""Contract suite, part two: health checks (HEALTH) answer in time, well formed and truly."""

from __future__ import annotations

import math
import socket
from typing import Any

import pytest

from chatmodels.conformance.faults import Fault
from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.suites._bounded import CallOutcome, bounded
from chatmodels.conformance.suites._faults_support import FaultKit, fault_kit, fault_server
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.provider import (
    ChatModel,
    HealthState,
    HealthStatus,
    Provider,
    ProviderMetadata,
)

__all__ = ["fault_kit", "fault_server"]


def _health(
    target: ChatModel | Provider, timeout: float, what: str
) -> tuple[CallOutcome[Any], str]:
    name = f"{what}.health_check()"
    return bounded(target.health_check, name, timeout), name


@pytest.fixture(params=["model", "provider"])
def health_target(
    request: pytest.FixtureRequest, chatmodels_chat_model: ChatModel
) -> tuple[ChatModel | Provider, str]:
    """The model, or the provider, whose health check is probed."""
    if request.param == "model":
        return chatmodels_chat_model, "model"
    provider: Provider = request.getfixturevalue("chatmodels_provider_under_test")
    return provider, "provider"


@pytest.mark.requirement("HEALTH-001")
def test_health_check_answers_within_its_timeout(
    health_target: tuple[ChatModel | Provider, str], chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """health_check returns (or raises) within metadata.health_timeout."""
    target, what = health_target
    timeout = chatmodels_provider_metadata.health_timeout
    outcome, label = _health(target, timeout, what)
    assert outcome.finished, (
        f"{label} did not answer within health_timeout={timeout:g}s; expected a HealthStatus"
    )
    assert outcome.error is None, (
        f"{label} raised {outcome.error!r}; expected a HealthStatus, UNHEALTHY on failure"
    )


@pytest.mark.requirement("HEALTH-002")
def test_health_check_gives_a_well_formed_status(
    health_target: tuple[ChatModel | Provider, str], chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """health_check returns a HealthStatus with a HealthState and a float latency >= 0."""
    target, what = health_target
    outcome, label = _health(target, chatmodels_provider_metadata.health_timeout, what)
    if not outcome.finished or outcome.error is not None:
        pytest.skip(f"{INCONCLUSIVE}{label} gave no status to check; see HEALTH-001")
    status = outcome.value
    assert isinstance(status, HealthStatus), f"{label} returned {status!r}; expected a HealthStatus"
    assert isinstance(status.status, HealthState), (
        f"{label} returned status {status.status!r}; expected a HealthState member"
    )
    latency = status.latency
    well_formed = isinstance(latency, float) and math.isfinite(latency) and latency >= 0
    assert well_formed, f"{label} returned latency {latency!r}; expected a finite float >= 0 (s)"


def _unreachable_url() -> str:
    """A loopback URL nothing listens on: a port the system just handed out and took back."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.requirement("HEALTH-003")
def test_health_of_a_closed_model_is_not_healthy(
    chatmodels_make_chat_model: Any, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """After close(), health_check says UNHEALTHY or DEGRADED (or raises code closed)."""
    model: ChatModel = chatmodels_make_chat_model()
    closing = bounded(model.close, "close()")
    if not closing.finished or closing.error is not None:
        pytest.skip(f"{INCONCLUSIVE}close() did not return, so nothing is closed; see LIFE-001")
    outcome, label = _health(model, chatmodels_provider_metadata.health_timeout, "closed model")
    if not outcome.finished:
        pytest.skip(f"{INCONCLUSIVE}{label} gave no status to check; see HEALTH-001")
    if outcome.error is not None:
        closed = (
            isinstance(outcome.error, ChatModelError) and outcome.error.code is ErrorCode.CLOSED
        )
        assert closed, f"{label} raised {outcome.error!r}; expected a status that is not HEALTHY"
        return
    status = getattr(outcome.value, "status", None)
    assert status is not HealthState.HEALTHY, (
        f"{label} after close() returned {outcome.value!r}; expected UNHEALTHY or DEGRADED, "
        "since every call now fails with code closed"
    )


@pytest.mark.requirement("HEALTH-004")
def test_health_follows_an_unreachable_or_failing_server(
    fault_kit: FaultKit, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Against a dead port, a server answering 500 and one resetting, health is not HEALTHY."""
    timeout = chatmodels_provider_metadata.health_timeout
    cases = (
        ("a dead port", _unreachable_url(), None),
        ("a server answering HTTP 500", None, Fault.http_status(500)),
        ("a server resetting every connection", None, Fault.reset()),
    )
    problems: list[str] = []
    unjudged: list[str] = []
    for backend, url, fault in cases:
        fault_kit.play(fault)
        targets = (
            ("model", fault_kit.model(url, max_retries=0)),
            ("provider", fault_kit.provider(url, max_retries=0)),
        )
        for what, target in targets:
            outcome, label = _health(target, timeout, f"{what} on {backend}:")
            status = outcome.value if outcome.finished and outcome.error is None else None
            if not isinstance(status, HealthStatus):
                unjudged.append(label)
            elif status.status is HealthState.HEALTHY:
                problems.append(f"{label} said {status!r}")
    fault_kit.play(None)
    assert not problems, (
        "; ".join(problems) + "; expected UNHEALTHY or DEGRADED while no call can succeed"
    )
    if unjudged:
        pytest.skip(f"{INCONCLUSIVE}{', '.join(unjudged)} gave no status; see HEALTH-001/002")
