"""Faults suite, retries and timeouts: counted and timed with the fault server's request log."""

from __future__ import annotations

import pytest

from chatmodels.conformance.faults import Fault
from chatmodels.conformance.fixtures import RecordFigure
from chatmodels.conformance.outcomes import UNSUPPORTED
from chatmodels.conformance.suites._faults_support import (
    FaultKit,
    assert_no_problems,
    call_kinds,
    error_problem,
    fault_kit,
    fault_server,
)
from chatmodels.errors import ErrorCode
from chatmodels.options import OptionsLike
from chatmodels.provider import Capability

__all__ = ["fault_kit", "fault_server"]

#: Retries the suite asks for where the provider declares ``max_retries``.
MAX_RETRIES = 2
_FAST_BACKOFF = {"backoff_base": 0.01, "backoff_max": 0.05}


def _retry_bound(kit: FaultKit) -> tuple[int, str]:
    """The most requests one call may send, and where that bound comes from."""
    if "max_retries" in kit.declared:
        return 1 + MAX_RETRIES, f"1 + max_retries={MAX_RETRIES}"
    bound = kit.settings.int("fault_max_attempts")
    return bound, f"fault_max_attempts={bound} (the provider declares no max_retries)"


@pytest.mark.requirement("FAULT-006")
def test_retries_of_a_persistent_failure_are_bounded(
    fault_kit: FaultKit, chatmodels_record_figure: RecordFigure
) -> None:
    """Against a server that answers 503 forever, each call sends a bounded number of requests."""
    bound, source = _retry_bound(fault_kit)
    model = fault_kit.model(max_retries=MAX_RETRIES, **_FAST_BACKOFF)
    problems: list[str] = []
    most = 0
    for kind in call_kinds(fault_kit.metadata):
        fault_kit.play(Fault.http_status(503))
        outcome = fault_kit.call(model, kind, "FAULT-006 probe")
        sent = len(fault_kit.posts())
        most = max(most, sent)
        if sent > bound:
            problems.append(
                f"{kind} sent {sent} requests for one call against a persistent 503; "
                f"expected at most {bound} ({source})"
            )
        if outcome.ok:
            problems.append(f"{outcome.describe()}; every request was answered 503")
    chatmodels_record_figure(
        "requests per call under a persistent 503", most, "requests", budget=bound
    )
    assert_no_problems(problems, "unbounded retry loops")


@pytest.mark.requirement("FAULT-007")
def test_retry_waits_for_retry_after(
    fault_kit: FaultKit, chatmodels_record_figure: RecordFigure
) -> None:
    """A 429 with Retry-After: 0.3 is retried no sooner than 0.3 s later (minus clock slack)."""
    wait = fault_kit.settings.float("fault_retry_after")
    slack = fault_kit.settings.float("fault_slack")
    model = fault_kit.model(max_retries=MAX_RETRIES, backoff_base=0.01)
    problems: list[str] = []
    shortest = float("inf")
    for kind in ("invoke", "ainvoke"):
        fault_kit.play(None)
        fault_kit.server.script(Fault.http_status(429, retry_after=wait))
        outcome = fault_kit.call(model, kind, "FAULT-007 probe")
        posts = fault_kit.posts()
        if len(posts) >= 2:
            gap = posts[1].time - posts[0].time
            shortest = min(shortest, gap)
            if gap < wait - slack:
                problems.append(
                    f"{kind} retried {gap:.3f}s after a 429 with Retry-After: {wait:g}; "
                    f"expected a wait of at least {wait:g}s"
                )
            continue
        retry_after = getattr(outcome.error, "retry_after", None)
        if retry_after is None or retry_after < wait - slack:
            problems.append(
                f"{kind} did not retry and reported {outcome.describe()}; expected a retry "
                f"after {wait:g}s, or a rate_limit error carrying retry_after={wait:g}"
            )
    if shortest != float("inf"):
        chatmodels_record_figure(
            "shortest retry gap after Retry-After",
            shortest,
            "s",
            budget=wait - slack,
            higher_is_better=True,  # a lower bound: waiting longer than asked is fine
        )
    assert_no_problems(problems, "retries that ignored Retry-After")


@pytest.mark.requirement("FAULT-008")
def test_non_retryable_errors_are_sent_once(fault_kit: FaultKit) -> None:
    """HTTP 400, 401, 403 and 404 each cost exactly one request, even with retries enabled."""
    model = fault_kit.model(max_retries=MAX_RETRIES, **_FAST_BACKOFF)
    problems: list[str] = []
    for status in (400, 401, 403, 404):
        for kind in ("invoke", "ainvoke"):
            fault_kit.play(Fault.http_status(status))
            fault_kit.call(model, kind, "FAULT-008 probe")
            sent = len(fault_kit.posts())
            if sent != 1:
                problems.append(
                    f"HTTP {status}: {kind} sent {sent} requests; expected exactly 1, since "
                    "repeating a refused request cannot succeed"
                )
    assert_no_problems(problems, "non-retryable errors were retried")


def _timeout_setup(kit: FaultKit, timeout: float) -> tuple[OptionsLike, dict[str, object]]:
    """Per-call options and provider options that set a *timeout* with no retries."""
    if "timeout" in kit.declared:
        return None, {"timeout": timeout, "max_retries": 0}
    if kit.metadata.supports(Capability.TIMEOUT):
        return {"timeout": timeout}, {"max_retries": 0}
    name = kit.metadata.name
    pytest.skip(f"{UNSUPPORTED}provider {name!r} declares neither a timeout option nor TIMEOUT")


@pytest.mark.requirement("FAULT-009")
def test_timeout_fires_within_its_bound(
    fault_kit: FaultKit, chatmodels_record_figure: RecordFigure
) -> None:
    """With the server 2 s late and a 0.2 s timeout, calls raise timeout well before 2 s."""
    timeout = fault_kit.settings.float("fault_timeout")
    latency = fault_kit.settings.float("fault_latency")
    ratio = fault_kit.settings.float("fault_timeout_ratio")
    per_call, provider_options = _timeout_setup(fault_kit, timeout)
    model = fault_kit.model(**provider_options)
    problems: list[str] = []
    slowest = 0.0
    for kind in call_kinds(fault_kit.metadata)[:3]:
        fault_kit.play(Fault.latency(latency))
        outcome = fault_kit.call(model, kind, "FAULT-009 probe", per_call)
        slowest = max(slowest, outcome.elapsed)
        share = outcome.elapsed / latency
        problem = error_problem(outcome, (ErrorCode.TIMEOUT,), f"timeout={timeout:g}s")
        if problem:
            problems.append(f"{problem} (server latency {latency:g}s)")
        elif share > ratio:
            problems.append(
                f"{kind} raised timeout only after {outcome.elapsed:.3f}s, {share:.0%} of the "
                f"{latency:g}s server latency; expected about {timeout:g}s, at most {ratio:.0%}"
            )
    chatmodels_record_figure("slowest timed-out call", slowest / latency, "x latency", budget=ratio)
    assert_no_problems(problems, "timeouts that did not fire in time")


@pytest.mark.requirement("FAULT-016")
def test_one_transient_fault_is_retried(fault_kit: FaultKit) -> None:
    """A single 503, 429 (Retry-After: 0) or reset followed by normal answers ends in success."""
    model = fault_kit.model(max_retries=MAX_RETRIES, **_FAST_BACKOFF)
    problems: list[str] = []
    for fault in (Fault.http_status(503), Fault.http_status(429, retry_after=0), Fault.reset()):
        for kind in ("invoke", "ainvoke"):
            fault_kit.play(None)
            fault_kit.server.script(fault)
            outcome = fault_kit.call(model, kind, "FAULT-016 probe")
            if not outcome.ok:
                problems.append(
                    f"{fault.header()} once, then normal answers: {outcome.describe()}; "
                    "expected a retry that succeeds"
                )
    assert_no_problems(problems, "transient faults surfaced instead of being retried")
