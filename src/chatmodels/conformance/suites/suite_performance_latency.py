"""Performance: registry resolution, model creation, call latency and time to first chunk.

Every figure lands in the report with its unit and budget. Verdicts use medians and
documented tail rules, never one timing, so a noisy machine moves figures, not verdicts.
Calls are timed on ``perfstats.UnloadedClock``: a call preempted by another process is not a
stall of the provider's, while its own waits (a sleep, a reconnect) still count. A loopback
server's preemption is not subtracted, so for a provider with a ``base_url``, on a saturated
machine (``perfstats.CpuPressure``), a miss smaller than ``GROSS`` times the limit is
inconclusive.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from chatmodels.conformance.fixtures import RecordFigure
from chatmodels.conformance.perfstats import (
    CpuPressure,
    PerfPlan,
    Spread,
    UnloadedClock,
    spread,
    time_each,
)
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._evidence import unless_saturated
from chatmodels.provider import Capability, ChatModel, ProviderMetadata
from chatmodels.registry import ProviderRegistry

PROMPT = "Say hello."
#: Calls timed one by one for a setup figure: at least, at most, and the time aimed for.
SETUP_LEAST, SETUP_MOST, SETUP_SECONDS = 20, 300, 0.3
#: Calls in the latency sample, whatever perf_latency_seconds asks for.
LATENCY_LEAST, LATENCY_MOST = 50, 2000
#: Absolute allowance of the first-chunk rule, for calls too fast for a ratio to mean much.
FIRST_CHUNK_SLACK = 0.001
MS = 1e3
#: On a saturated machine a latency rule still fails when missed by more than this factor:
#: contention stretches tails a few times, a stall or a buffered stream far more.
GROSS = 3.0


def _record_spread(
    record_figure: RecordFigure, what: str, values: Spread, *, budget_p99: float | None = None
) -> None:
    for name, value in (("p50", values.p50), ("p95", values.p95), ("p99", values.p99)):
        budget = budget_p99 if name == "p99" else None
        record_figure(
            f"{what} {name}", value * MS, "ms", budget=budget, detail=f"{values.count} calls"
        )


def _median_verdict(
    record_figure: RecordFigure, what: str, timings: list[float], budget_ms: float
) -> None:
    values = spread(timings)
    record_figure(
        f"{what} median", values.p50 * MS, "ms", budget=budget_ms, detail=f"{values.count} calls"
    )
    record_figure(f"{what} p99", values.p99 * MS, "ms", detail=f"{values.count} calls")
    assert values.p50 * MS <= budget_ms, (
        f"{what} took {values.p50 * MS:.3f} ms (median of {values.count}, p99 "
        f"{values.p99 * MS:.3f} ms); expected at most {budget_ms:g} ms"
    )


@pytest.mark.requirement("PERF-001")
def test_registry_resolution(
    chatmodels_subject: Subject,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """Building the provider by name from a registry is cheap enough to do on every request."""
    maker = chatmodels_subject.maker
    if maker is None:
        pytest.skip("the provider came from a fixture instance; there is no factory to resolve")
    registry = ProviderRegistry(entry_point_group=None)
    name = chatmodels_provider_metadata.name
    registry.register(name, lambda options: maker(options), metadata=chatmodels_provider_metadata)
    options = dict(chatmodels_subject.options)
    registry.create(name, options)  # warm-up: imports and lazily built state
    timings = time_each(
        lambda: registry.create(name, options),
        least=SETUP_LEAST,
        most=SETUP_MOST,
        seconds=SETUP_SECONDS,
    )
    budget = chatmodels_settings.budget("PERF-001")
    assert budget is not None
    _median_verdict(chatmodels_record_figure, "registry resolution", timings, budget)


def _close(model: object) -> None:
    if isinstance(model, ChatModel):
        model.close()


@pytest.mark.requirement("PERF-002")
def test_model_creation(
    chatmodels_subject: Subject,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """create_chat_model only configures; it does not connect or load on the caller's time."""
    if chatmodels_subject.provider is None:
        pytest.skip("the chatmodels_provider fixture returned a ChatModel, not a Provider")
    _close(chatmodels_subject.create_chat_model())  # warm-up
    timings = time_each(
        chatmodels_subject.create_chat_model,
        least=SETUP_LEAST,
        most=SETUP_MOST,
        seconds=SETUP_SECONDS,
        cleanup=_close,
    )
    budget = chatmodels_settings.budget("PERF-002")
    assert budget is not None
    _median_verdict(chatmodels_record_figure, "create_chat_model", timings, budget)


@dataclass
class CallTimings:
    """Interleaved invoke and stream timings of the shared model, in seconds."""

    invoke: list[float] = field(default_factory=list)
    stream: list[float] = field(default_factory=list)
    first_chunk: list[float] = field(default_factory=list)
    chunk_rates: list[float] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)
    #: The machine's CPU pressure while they were taken; None when the provider runs in this
    #: process, whose preemption ``UnloadedClock`` already subtracts.
    pressure: CpuPressure | None = None


def _time_invoke(model: ChatModel, timings: CallTimings, clock: Callable[[], float]) -> None:
    start = clock()
    model.invoke(PROMPT)
    timings.invoke.append(clock() - start)


def _time_stream(model: ChatModel, timings: CallTimings, clock: Callable[[], float]) -> None:
    start = clock()
    first = last = start
    count = 0
    for _ in model.stream(PROMPT):
        last = clock()
        if count == 0:
            first = last
        count += 1
    if count == 0:
        return  # an empty stream breaks the contract suite's rules, not this one's
    timings.stream.append(last - start)
    timings.first_chunk.append(first - start)
    timings.chunks.append(count)
    if count > 1 and last > first:
        timings.chunk_rates.append((count - 1) / (last - first))


@pytest.fixture(scope="module")
def call_timings(
    chatmodels_subject: Subject,
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> CallTimings:
    """Invoke and stream in alternation, so machine load falls on both alike."""
    plan = PerfPlan.from_settings(chatmodels_settings)
    streams = Capability.STREAMING in chatmodels_provider_metadata.capabilities
    model = chatmodels_chat_model
    with UnloadedClock() as clock, CpuPressure() as pressure:
        warm = CallTimings()
        for _ in range(3):
            _time_invoke(model, warm, clock)
            if streams:
                _time_stream(model, warm, clock)
        per_round = min(warm.invoke) + (min(warm.stream) if warm.stream else 0.0)
        rounds = math.ceil(plan.latency_seconds / max(per_round, 1e-6))
        rounds = max(LATENCY_LEAST, min(LATENCY_MOST, rounds))
        timings = CallTimings(pressure=pressure if chatmodels_subject.remote else None)
        for _ in range(rounds):
            _time_invoke(model, timings, clock)
            if streams:
                _time_stream(model, timings, clock)
    return timings


def _unless_loaded(pressure: CpuPressure | None, observed: float, limit: float, what: str) -> None:
    """A miss of *limit* against a server is inconclusive on a saturated machine, unless gross."""
    if observed <= limit or pressure is None:
        return
    unless_saturated(
        pressure,
        observed > GROSS * limit,
        f"{what}: {observed * MS:.2f} ms against a limit of {limit * MS:.2f} ms "
        f"(a miss over {GROSS:g}x would still fail)",
    )


def _tail_verdict(
    record_figure: RecordFigure,
    what: str,
    values: list[float],
    settings: Settings,
    pressure: CpuPressure | None,
) -> None:
    budget = settings.budget("PERF-003")
    assert budget is not None
    slack = settings.float("perf_tail_slack_ms") / MS
    found = spread(values)
    limit = max(budget * found.p50, found.p50 + slack)
    _record_spread(record_figure, what, found, budget_p99=limit * MS)
    _unless_loaded(pressure, found.p99, limit, f"{what} p99")
    assert found.p99 <= limit, (
        f"{what} p99 is {found.p99 * MS:.2f} ms against a median of {found.p50 * MS:.2f} ms "
        f"(p95 {found.p95 * MS:.2f} ms, {found.count} calls); expected p99 <= "
        f"max({budget:g} x p50, p50 + {slack * MS:g} ms) = {limit * MS:.2f} ms: some calls stall"
    )


@pytest.mark.requirement("PERF-003")
def test_invoke_latency(
    call_timings: CallTimings, chatmodels_settings: Settings, chatmodels_record_figure: RecordFigure
) -> None:
    """invoke's slowest calls stay within a small multiple of its median."""
    _tail_verdict(
        chatmodels_record_figure,
        "invoke latency",
        call_timings.invoke,
        chatmodels_settings,
        call_timings.pressure,
    )


@pytest.mark.requirement("PERF-003")
@pytest.mark.capability("streaming")
def test_stream_latency(
    call_timings: CallTimings, chatmodels_settings: Settings, chatmodels_record_figure: RecordFigure
) -> None:
    """A whole stream's slowest runs stay within a small multiple of its median."""
    if not call_timings.stream:
        pytest.fail("every stream ended without a chunk; expected at least one chunk per stream")
    _tail_verdict(
        chatmodels_record_figure,
        "stream latency",
        call_timings.stream,
        chatmodels_settings,
        call_timings.pressure,
    )


@pytest.mark.requirement("PERF-004")
def test_time_to_first_chunk(
    call_timings: CallTimings, chatmodels_settings: Settings, chatmodels_record_figure: RecordFigure
) -> None:
    """The first chunk of a stream comes about when a whole invoke answer would."""
    if not call_timings.first_chunk:
        pytest.fail("every stream ended without a chunk; expected at least one chunk per stream")
    budget = chatmodels_settings.budget("PERF-004")
    assert budget is not None
    first = spread(call_timings.first_chunk)
    invoke = statistics.median(call_timings.invoke)
    limit = budget * invoke + FIRST_CHUNK_SLACK
    _record_spread(chatmodels_record_figure, "time to first chunk", first)
    chatmodels_record_figure(
        "time to first chunk / invoke (median)",
        first.p50 / invoke,
        "x",
        budget=limit / invoke,
        detail=f"limit {budget:g} x invoke p50 + {FIRST_CHUNK_SLACK * MS:g} ms",
    )
    if call_timings.chunk_rates:
        chatmodels_record_figure(
            "chunks per second (after the first)",
            statistics.median(call_timings.chunk_rates),
            "chunks/s",
            higher_is_better=True,
            detail=f"median over {len(call_timings.chunk_rates)} streams of "
            f"{statistics.median(call_timings.chunks):g} chunks",
        )
    _unless_loaded(call_timings.pressure, first.p50, limit, "the first chunk")
    assert first.p50 <= limit, (
        f"the first chunk took {first.p50 * MS:.2f} ms (median of {first.count} streams) while "
        f"a whole invoke answer took {invoke * MS:.2f} ms; expected at most {budget:g} x invoke "
        f"+ {FIRST_CHUNK_SLACK * MS:g} ms = {limit * MS:.2f} ms"
    )
