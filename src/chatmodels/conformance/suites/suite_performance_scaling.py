"""Performance: throughput at 1, 4, 16 and 64 concurrent callers, threads and asyncio.

The verdict flags a provider that serialises its callers, judged against a baseline measured
side by side in the same run on the same target (``_scaling_baseline``: a raw httpx client
against the same server; in process the reference waiting as long as a call, or, for a call
that hardly waits, a call of the provider's own profile). The profile (mean CPU per call in
this process, and the least wall time beyond CPU of any call, which load never shortens)
comes from one caller first; then the provider and the baseline alternate (A B B A) at 1 and
at 16 callers, so load that comes and goes hits both alike.

A call that waits (latency over ``WAITS_LITTLE`` times its CPU) must reach the geometric mean
of 1x and the baseline's speedup at 16 callers, capped at the PERF-005 budget (2x) and at half
of what its profile allows (``perfstats.scaling_floor``: only waits overlap). A global lock
around a 5 ms call gives about 1x where the baseline gives about 16x, and fails. When the
baseline itself reaches under 2x, or load stretches one in-process call past ``LOADED`` times
its own latency, the machine or the server is saturated: inconclusive; so is, against a
server on a machine whose CPU pressure is high (``perfstats.CpuPressure``), a shortfall that
is not gross; on such a machine a pass must clear the floor by ``CLEAR_PASS``. A call that
hardly waits (a fast in-process model, latency under ``WAITS_LITTLE`` times its CPU)
cannot gain from callers under the GIL, and how much CPU a busy machine gives the process
swings its throughput; its CPU per call at 16 callers over one may grow at most ``CONTENDED``
times as much as the same-profile baseline's (a caller spinning for a lock burns CPU, fails).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import pytest

from chatmodels.conformance import outcomes
from chatmodels.conformance.fixtures import RecordFigure
from chatmodels.conformance.perfstats import (
    CallProfile,
    CpuPressure,
    PerfPlan,
    profile_calls,
    scaling_floor,
)
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._bounded import run_async
from chatmodels.conformance.suites._evidence import inconclusive, unless_saturated
from chatmodels.conformance.suites._scaling_baseline import AsyncCall, Baseline, baseline_for
from chatmodels.provider import ChatModel

PROMPT = "Say hello."
LEVELS = (1, 4, 16, 64)
JUDGED = 16
#: The fewest calls one caller must fit in a level's window for its throughput to mean much.
WINDOW_CALLS = 3
#: How long callers may still be inside a call after the window closes: fixed, plus per caller
#: the larger of a floor and twice one call's latency.
GRACE_SECONDS, GRACE_PER_CALLER = 5.0, 0.05
WARM_UP_CALLS = 5
#: A baseline that reaches less than this at 16 callers means a saturated machine or server.
SATURATED = 2.0
#: A call that hardly waits may cost at most this many times the baseline's CPU growth per
#: call at 16 callers: correct fast providers measured 0.1-1.5x under busy, a spinning lock 50x.
CONTENDED = 4.0
#: Below this single-call latency, a raw HTTP client's hand-offs cost as much as the call.
HTTP_MIN_LATENCY = 0.001
#: Against a server on a saturated machine (``perfstats.CpuPressure``) a shortfall still fails
#: when callers gained at most ``NO_GAIN`` while the raw client beside them reached
#: ``GROSS_BASELINE``; a smaller one is inconclusive, as the server's share of CPU set it.
NO_GAIN, GROSS_BASELINE = 1.25, 6.0
#: On a saturated machine a pass must clear the floor by this factor: load that hits the one-
#: and many-caller windows unevenly can lift a serialised provider's speedup above the floor.
CLEAR_PASS = 1.5
#: A single caller's latency over this many times the call's own (CPU + least wait) means the
#: machine, not the call, set the pace: an in-process wait's serialisation cannot be told.
LOADED = 4.0


@dataclass(frozen=True, slots=True)
class Level:
    """Calls completed by *concurrency* callers inside one window."""

    concurrency: int
    calls: int
    seconds: float
    cpu_seconds: float

    @property
    def throughput(self) -> float:
        """Completed calls per second."""
        return self.calls / self.seconds

    def __add__(self, other: Level) -> Level:
        return Level(
            self.concurrency,
            self.calls + other.calls,
            self.seconds + other.seconds,
            self.cpu_seconds + other.cpu_seconds,
        )


def _grace(concurrency: int, call_seconds: float) -> float:
    """Time for calls in flight to return: a server that answers one at a time drains a queue."""
    return GRACE_SECONDS + max(GRACE_PER_CALLER, 2 * call_seconds) * concurrency


def _thread_level(
    call: Callable[[], object],
    concurrency: int,
    window: float,
    what: str = "invoke()",
    *,
    call_seconds: float,
) -> Level:
    """Run *concurrency* threads making *call* in a loop for *window* seconds."""
    grace = _grace(concurrency, call_seconds)
    barrier = threading.Barrier(concurrency + 1)
    counts = [0] * concurrency
    errors: list[str] = []
    box = {"end": 0.0}

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=grace)
        except threading.BrokenBarrierError:
            return
        end = box["end"]
        done = 0
        try:
            while time.perf_counter() < end:
                call()
                if time.perf_counter() <= end:
                    done += 1
        except Exception as exc:  # reported as the verdict below
            errors.append(f"{type(exc).__name__}: {exc}")
        counts[index] = done

    threads = [
        threading.Thread(target=worker, args=(i,), name=f"perf-caller-{i}", daemon=True)
        for i in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    box["end"] = time.perf_counter() + window
    barrier.wait(timeout=grace)
    give_up = box["end"] + grace
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.perf_counter()))
    cpu = time.process_time() - cpu
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        pytest.fail(
            f"{stuck} of {concurrency} threads were still inside {what} "
            f"{grace:.1f}s after the measuring window closed; expected every "
            "call to return"
        )
    if errors:
        pytest.fail(f"{what} raised under {concurrency} concurrent threads: {errors[0]}")
    return Level(concurrency, sum(counts), window, cpu)


async def _async_level(
    call: AsyncCall,
    concurrency: int,
    window: float,
    what: str = "ainvoke()",
    *,
    call_seconds: float,
) -> Level:
    """Run *concurrency* tasks awaiting *call* in a loop for *window* seconds."""
    grace = _grace(concurrency, call_seconds)
    end = time.perf_counter() + window

    async def worker() -> int:
        done = 0
        while time.perf_counter() < end:
            await call()
            if time.perf_counter() <= end:
                done += 1
        return done

    cpu = time.process_time()
    try:
        counts = await asyncio.wait_for(
            asyncio.gather(*(worker() for _ in range(concurrency))),
            timeout=window + grace,
        )
    except asyncio.TimeoutError:
        pytest.fail(
            f"{concurrency} tasks were still inside {what} {grace:.1f}s after "
            "the measuring window closed; expected every call to return"
        )
    except Exception as exc:
        pytest.fail(
            f"{what} raised under {concurrency} concurrent tasks: {type(exc).__name__}: {exc}"
        )
    return Level(concurrency, sum(counts), window, time.process_time() - cpu)


def _figures(levels: list[Level], how: str, record_figure: RecordFigure) -> None:
    for level in levels:
        record_figure(
            f"{how}: throughput at {level.concurrency}",
            level.throughput,
            "calls/s",
            higher_is_better=True,
            detail=f"{level.calls} calls in {level.seconds:.2f}s",
        )
        if level.concurrency > 1:
            record_figure(
                f"{how}: scaling efficiency at {level.concurrency}",
                level.throughput / levels[0].throughput / level.concurrency,
                "ratio",
                higher_is_better=True,
            )


def _judge(
    levels: list[Level],
    base: tuple[Level, Level],
    profile: CallProfile,
    baseline: Baseline,
    how: str,
    budget: float,
    record_figure: RecordFigure,
    pressure: CpuPressure,
) -> None:
    by_n = {level.concurrency: level for level in levels}
    one = by_n[1]
    if one.calls == 0:
        pytest.fail(f"no call completed within {one.seconds:.2f}s with one caller ({how})")
    latency = one.seconds / one.calls
    record_figure(f"{how}: single-caller latency", latency * 1e3, "ms")
    record_figure(f"{how}: CPU per call in this process", profile.cpu * 1e6, "us")
    record_figure(
        f"{how}: least wait per call", profile.wait * 1e3, "ms", detail="wall time beyond CPU"
    )
    _figures(levels, how, record_figure)
    speedup = by_n[JUDGED].throughput / one.throughput
    base_speedup = base[1].throughput / base[0].throughput if base[0].calls else 0.0
    record_figure(
        f"{how}: baseline speedup at {JUDGED}",
        base_speedup,
        "x",
        higher_is_better=True,
        detail=f"{baseline.what}, measured beside the provider",
    )
    if baseline.kind == "same_profile":
        _judge_hardly_waiting(levels, base, profile, baseline, how, record_figure)
        return
    if baseline.kind == "http":
        # A server's work is a wait to the client: its whole latency beyond CPU counts.
        profile = CallProfile(profile.cpu, max(0.0, latency - profile.cpu))
        if latency < HTTP_MIN_LATENCY:
            pytest.skip(
                f"{outcomes.INCONCLUSIVE}one call takes {latency * 1e3:.3f} ms, under "
                f"{HTTP_MIN_LATENCY * 1e3:g} ms: too short to tell waiting from hand-off "
                f"cost, so serialisation cannot be judged (speedup at {JUDGED}: {speedup:.2f}x)"
            )
    elif latency > LOADED * profile.latency:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}{how}: one call took {latency * 1e3:.2f} ms at one caller, "
            f"{latency / profile.latency:.0f}x its own {profile.latency * 1e3:.2f} ms (CPU and "
            f"least wait): machine load, not the provider, set the pace, so whether callers "
            f"are serialised cannot be judged (speedup at {JUDGED}: {speedup:.2f}x); expected "
            f"under {LOADED:g}x"
        )
    floor = min(scaling_floor(profile, JUDGED, budget), math.sqrt(max(base_speedup, 1.0)))
    record_figure(
        f"{how}: speedup at {JUDGED}",
        speedup,
        "x",
        budget=floor,
        higher_is_better=True,
        detail="floor = min(budget, sqrt(baseline speedup), min(16, (CPU + wait) / CPU) / 2)",
    )
    if base_speedup < SATURATED:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}{how}: the baseline ({baseline.what}) itself reached only "
            f"{base_speedup:.2f}x at {JUDGED} callers in the same run, so the machine or the "
            f"server is saturated and the provider's {speedup:.2f}x cannot be judged; expected "
            f"the baseline to reach {SATURATED:g}x"
        )
    if speedup < floor and baseline.kind == "http":
        gross = speedup <= NO_GAIN and base_speedup >= GROSS_BASELINE
        unless_saturated(
            pressure,
            gross,
            f"{how}: {speedup:.2f}x at {JUDGED} callers against a floor of {floor:.2f}x "
            f"(baseline {base_speedup:.2f}x)",
        )
    assert speedup >= floor, (
        f"{how}: throughput at {JUDGED} callers is {speedup:.2f}x that of one caller "
        f"({one.throughput:.0f} -> {by_n[JUDGED].throughput:.0f} calls/s), while the baseline "
        f"({baseline.what}) reached {base_speedup:.2f}x in the same run and a call spends "
        f"{profile.cpu * 1e6:.0f} us on CPU here and waits {profile.wait * 1e3:.2f} ms; "
        f"expected at least {floor:.2f}x: callers appear serialised (a lock held across the "
        "call, or a blocking wait on the event loop)"
    )
    if pressure.saturated and speedup < CLEAR_PASS * floor:
        inconclusive(
            f"{how}: {speedup:.2f}x at {JUDGED} callers clears the {floor:.2f}x floor by less "
            f"than {CLEAR_PASS:g}x while some task on this machine waited for a CPU "
            f"{pressure.share:.0%} of the time (Linux PSI): the 1- and {JUDGED}-caller windows "
            "met different load, so a serialised provider could score this too"
        )


def _cpu_per_call(level: Level) -> float:
    return level.cpu_seconds / level.calls if level.calls else math.inf


def _judge_hardly_waiting(
    levels: list[Level],
    base: tuple[Level, Level],
    profile: CallProfile,
    baseline: Baseline,
    how: str,
    record_figure: RecordFigure,
) -> None:
    """A call that is mostly CPU cannot gain from callers under the GIL; it must not lose.

    Judged on CPU per call at 16 callers against one caller, beside the same-profile
    baseline: load changes how much CPU the process gets, never what a call costs.
    """
    by_n = {level.concurrency: level for level in levels}
    many = by_n[JUDGED]
    speedup = many.throughput / by_n[1].throughput
    record_figure(f"{how}: speedup at {JUDGED}", speedup, "x", higher_is_better=True)
    if min(base[0].calls, base[1].calls) == 0:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}{how}: the baseline ({baseline.what}) completed no call "
            f"in a {many.seconds:.2f}s window, so the provider cannot be compared with it"
        )
    contend = (
        f"{JUDGED} callers cannot gain under the GIL, but they must not lose: callers appear "
        "to contend (spinning for a lock, or a busy wait)"
    )
    if many.calls == 0:
        pytest.fail(
            f"{how}: no call completed in {many.seconds:.2f}s with {JUDGED} callers, while one "
            f"caller completed {by_n[1].calls}; a call spends {profile.cpu * 1e6:.0f} us on CPU "
            f"here and hardly waits, so {contend}"
        )
    cost = _cpu_per_call(many) / _cpu_per_call(by_n[1])
    base_cost = _cpu_per_call(base[1]) / _cpu_per_call(base[0])
    relative = cost / base_cost
    record_figure(
        f"{how}: CPU per call at {JUDGED} callers over one, relative to the baseline",
        relative,
        "x",
        budget=CONTENDED,
        detail=f"provider {cost:.2f}x, baseline {base_cost:.2f}x; a call that hardly waits "
        "cannot gain from callers under the GIL",
    )
    assert relative <= CONTENDED, (
        f"{how}: a call spends {profile.cpu * 1e6:.0f} us on CPU here and waits at least "
        f"{profile.wait * 1e3:.3f} ms; at {JUDGED} callers each call cost {cost:.2f}x the CPU "
        f"it costs one caller, while the baseline ({baseline.what}) cost {base_cost:.2f}x "
        f"beside it; expected at most {CONTENDED:g}x the baseline's: {contend}"
    )


def _window_holds_calls(profile: CallProfile, window: float) -> None:
    """Inconclusive when one caller cannot finish ``WINDOW_CALLS`` calls in a level's window."""
    if profile.latency * WINDOW_CALLS <= window:
        return
    needed = 2 * WINDOW_CALLS * profile.latency
    pytest.skip(
        f"{outcomes.INCONCLUSIVE}one call takes {profile.latency * 1e3:.0f} ms, so a "
        f"{window:.2f}s measuring window holds fewer than {WINDOW_CALLS} calls of one caller "
        f"and throughput cannot be compared; set --chatmodels-setting "
        f"perf_throughput_seconds={needed:.1f} or more to judge it"
    )


def _warm_up(call: Callable[[], object]) -> None:
    for _ in range(WARM_UP_CALLS):
        call()


T = TypeVar("T")


def _unmeasurable(baseline: str, exc: BaseException) -> NoReturn:
    pytest.skip(f"{outcomes.INCONCLUSIVE}the baseline ({baseline}) could not be measured: {exc}")


def _of_baseline(baseline: str, measure: Callable[[], T]) -> T:
    """Run a baseline measurement; a baseline that fails makes the verdict inconclusive."""
    try:
        return measure()
    except (pytest.fail.Exception, Exception) as exc:
        _unmeasurable(baseline, exc)


async def _of_async_baseline(baseline: str, measure: Awaitable[T]) -> T:
    """Like :func:`_of_baseline`, for an awaited measurement."""
    try:
        return await measure
    except (pytest.fail.Exception, Exception) as exc:
        _unmeasurable(baseline, exc)


def _side_by_side(
    provider: Callable[[], Level], baseline: Callable[[], Level]
) -> tuple[Level, Level]:
    """Provider, baseline, baseline, provider: drift and passing load hit both alike."""
    first = provider()
    base = baseline() + baseline()
    return first + provider(), base


async def _aside_by_side(
    provider: Callable[[], Awaitable[Level]], baseline: Callable[[], Awaitable[Level]]
) -> tuple[Level, Level]:
    """Like :func:`_side_by_side`, awaited."""
    first = await provider()
    base = await baseline() + await baseline()
    return first + await provider(), base


def _level_seconds_and_budget(settings: Settings) -> tuple[float, float]:
    """How long one level is run (half the throughput window) and PERF-005's budget."""
    budget = settings.budget("PERF-005")
    assert budget is not None
    return PerfPlan.from_settings(settings).throughput_seconds / 2, budget


@pytest.mark.requirement("PERF-005")
def test_thread_scaling(
    chatmodels_chat_model: ChatModel,
    chatmodels_subject: Subject,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """Threads calling one shared model overlap their waits as well as a baseline does."""
    half, budget = _level_seconds_and_budget(chatmodels_settings)

    def call() -> object:
        return chatmodels_chat_model.invoke(PROMPT)

    _warm_up(call)
    profile = profile_calls(call, half)
    _window_holds_calls(profile, half)
    with (
        CpuPressure() as pressure,
        baseline_for(chatmodels_subject, PROMPT, profile, JUDGED) as baseline,
    ):
        what = baseline.what

        def level(n: int) -> Callable[[], Level]:
            return lambda: _thread_level(call, n, half, call_seconds=profile.latency)

        def base_level(n: int) -> Callable[[], Level]:
            return lambda: _of_baseline(
                what,
                lambda: _thread_level(baseline.call, n, half, what, call_seconds=profile.latency),
            )

        _of_baseline(what, lambda: _warm_up(baseline.call))
        one, base_one = _side_by_side(level(1), base_level(1))
        four = level(4)()
        many, base_many = _side_by_side(level(JUDGED), base_level(JUDGED))
    levels = [one, four, many, level(LEVELS[3])()]
    base = (base_one, base_many)
    _judge(levels, base, profile, baseline, "threads", budget, chatmodels_record_figure, pressure)


@pytest.mark.requirement("PERF-005")
@pytest.mark.capability("async")
def test_asyncio_scaling(
    chatmodels_chat_model: ChatModel,
    chatmodels_subject: Subject,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """Tasks awaiting one shared model overlap their waits as well as a baseline does."""
    half, budget = _level_seconds_and_budget(chatmodels_settings)

    async def call() -> object:
        return await chatmodels_chat_model.ainvoke(PROMPT)

    async def profiled() -> CallProfile:
        walls: list[float] = []
        cpus: list[float] = []
        stop = time.perf_counter() + half
        while not walls or time.perf_counter() < stop:
            wall, cpu = time.perf_counter(), time.process_time()
            await call()
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        return CallProfile.of(walls, cpus)

    async def measure() -> tuple[list[Level], tuple[Level, Level], CallProfile, Baseline]:
        for _ in range(WARM_UP_CALLS):
            await call()
        profile = await profiled()
        _window_holds_calls(profile, half)
        with baseline_for(chatmodels_subject, PROMPT, profile, JUDGED) as baseline:
            what = baseline.what
            async with baseline.async_calls() as base_call:

                async def warm() -> None:
                    for _ in range(WARM_UP_CALLS):
                        await base_call()

                def level(n: int) -> Callable[[], Awaitable[Level]]:
                    return lambda: _async_level(call, n, half, call_seconds=profile.latency)

                def base_level(n: int) -> Callable[[], Awaitable[Level]]:
                    return lambda: _of_async_baseline(
                        what, _async_level(base_call, n, half, what, call_seconds=profile.latency)
                    )

                await _of_async_baseline(what, warm())
                one, base_one = await _aside_by_side(level(1), base_level(1))
                four = await level(4)()
                many, base_many = await _aside_by_side(level(JUDGED), base_level(JUDGED))
        levels = [one, four, many, await level(LEVELS[3])()]
        return levels, (base_one, base_many), profile, baseline

    # One watchdog thread for the whole measurement, bounded by what is left of the run budget.
    with CpuPressure() as pressure:
        levels, base, profile, baseline = run_async(
            measure, "the asyncio scaling measurement", math.inf
        )
    _judge(levels, base, profile, baseline, "asyncio", budget, chatmodels_record_figure, pressure)
