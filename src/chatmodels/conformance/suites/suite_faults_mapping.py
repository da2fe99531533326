"""Faults suite, error mapping: each fault the server plays becomes the right ChatModelError."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence

import pytest

from chatmodels.conformance.faults import Fault
from chatmodels.conformance.outcomes import UNSUPPORTED
from chatmodels.conformance.suites._faults_support import (
    FaultKit,
    FaultOutcome,
    assert_no_problems,
    call_kinds,
    error_problem,
    fault_kit,
    fault_server,
)
from chatmodels.errors import ChatModelError, ErrorCode

__all__ = ["fault_kit", "fault_server"]

E = ErrorCode


def _mapping_problems(
    kit: FaultKit, cases: Sequence[tuple[Fault, tuple[ErrorCode, ...]]], label: str
) -> list[str]:
    """Play each fault on every attempt, with no retries where the provider allows it."""
    model = kit.model(max_retries=0, backoff_base=0.01, backoff_max=0.05)
    problems: list[str] = []
    for fault, codes in cases:
        kit.play(fault)
        for kind in call_kinds(kit.metadata):
            outcome = kit.call(model, kind, f"{label} probe: {fault.header()}")
            problem = error_problem(outcome, codes, fault.header())
            if problem:
                problems.append(problem)
    return problems


@pytest.mark.requirement("FAULT-001")
def test_client_error_statuses_map_to_their_codes(fault_kit: FaultKit) -> None:
    """HTTP 400/401/403/404 raise invalid_input/authentication/permission/model_not_found."""
    cases = [
        (Fault.http_status(400), (E.INVALID_INPUT,)),
        (Fault.http_status(401), (E.AUTHENTICATION,)),
        (Fault.http_status(403), (E.PERMISSION,)),
        (Fault.http_status(404), (E.MODEL_NOT_FOUND,)),
    ]
    problems = _mapping_problems(fault_kit, cases, "FAULT-001")
    assert_no_problems(problems, "client-error statuses mapped wrongly")


@pytest.mark.requirement("FAULT-002")
def test_rate_limit_carries_retry_after(fault_kit: FaultKit) -> None:
    """HTTP 429 with Retry-After: 1 raises rate_limit, retryable, with retry_after == 1.0."""
    fault = Fault.http_status(429, retry_after=1)
    model = fault_kit.model(max_retries=0, backoff_base=0.01, backoff_max=0.05)
    fault_kit.play(fault)
    problems: list[str] = []
    for kind in call_kinds(fault_kit.metadata):
        outcome = fault_kit.call(model, kind, "FAULT-002 probe")
        problem = error_problem(outcome, (E.RATE_LIMIT,), "HTTP 429 (Retry-After: 1)")
        if problem is None:
            assert isinstance(outcome.error, ChatModelError)
            got = outcome.error.retry_after
            if got is None or abs(got - 1.0) > 0.01:
                problem = (
                    f"HTTP 429 (Retry-After: 1): {kind} raised rate_limit with retry_after="
                    f"{got!r}; expected 1.0 seconds, read from the Retry-After header"
                )
        if problem:
            problems.append(problem)
    assert_no_problems(problems, "rate-limit errors reported wrongly")


@pytest.mark.requirement("FAULT-003")
def test_server_errors_and_408_are_retryable(fault_kit: FaultKit) -> None:
    """HTTP 500, 502, 503 and 504 raise server_error and HTTP 408 raises timeout, all retryable."""
    cases = [(Fault.http_status(s), (E.SERVER_ERROR,)) for s in (500, 502, 503, 504)]
    cases.append((Fault.http_status(408), (E.TIMEOUT,)))
    problems = _mapping_problems(fault_kit, cases, "FAULT-003")
    assert_no_problems(problems, "server-error statuses mapped wrongly")


@pytest.mark.requirement("FAULT-004")
def test_connection_reset_maps_to_network(fault_kit: FaultKit) -> None:
    """A connection aborted before any answer raises network, retryable."""
    problems = _mapping_problems(fault_kit, [(Fault.reset(), (E.NETWORK,))], "FAULT-004")
    assert_no_problems(problems, "connection resets mapped wrongly")


@pytest.mark.requirement("FAULT-005")
def test_malformed_bodies_map_to_invalid_response(fault_kit: FaultKit) -> None:
    """Malformed JSON, an HTML page and an empty 200 raise invalid_response."""
    cases = [
        (Fault.malformed_json(), (E.INVALID_RESPONSE,)),
        (Fault.wrong_content_type(), (E.INVALID_RESPONSE,)),
        (Fault.empty_200(), (E.INVALID_RESPONSE,)),
    ]
    problems = _mapping_problems(fault_kit, cases, "FAULT-005")
    assert_no_problems(problems, "malformed answers mapped wrongly")


# -- FAULT-015: the key never leaks -----------------------------------------------------

_LEAK_FAULTS = (
    *(Fault.http_status(s) for s in (400, 401, 403, 404, 408, 429, 500, 503)),
    Fault.reset(),
    Fault.malformed_json(),
    Fault.wrong_content_type(),
    Fault.empty_200(),
    Fault.cut_stream(after_chunks=1),
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < 16:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _leak(outcome: FaultOutcome, canary: str) -> str | None:
    if outcome.error is None:
        return None
    for error in _chain(outcome.error):
        for form, text in (("str", str(error)), ("repr", repr(error)), ("args", repr(error.args))):
            if canary in text:
                return f"the {form}() of {type(error).__name__} from {outcome.kind}"
    return None


@pytest.mark.requirement("FAULT-015")
def test_api_key_never_appears_in_errors(fault_kit: FaultKit) -> None:
    """Under every fault, no error in the raised chain quotes the API key, nor does any repr."""
    if "api_key" not in fault_kit.declared:
        pytest.skip(f"{UNSUPPORTED}provider {fault_kit.metadata.name!r} takes no api_key option")
    canary = f"sk-chatmodels-canary-{secrets.token_hex(12)}"
    model = fault_kit.model(api_key=canary, max_retries=0, backoff_base=0.01, backoff_max=0.05)
    problems: list[str] = []
    for fault in _LEAK_FAULTS:
        fault_kit.play(fault)
        for kind in call_kinds(fault_kit.metadata):
            where = _leak(fault_kit.call(model, kind, "FAULT-015 probe"), canary)
            if where:
                problems.append(f"{fault.header()}: {where} contains the API key")
    provider = fault_kit.provider(api_key=canary)
    for label, text in (("repr(model)", repr(model)), ("repr(provider)", repr(provider))):
        if canary in text:
            problems.append(f"{label} contains the API key: {text.replace(canary, '<KEY>')!r}")
    assert_no_problems(problems, "places quote the API key; expected it redacted everywhere")
