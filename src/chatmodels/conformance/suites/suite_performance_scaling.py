"""Performance: throughput at 1, 4, 16 and 64 concurrent callers, threads and asyncio.

The verdict flags a provider that serialises its callers, judged against a baseline measured
side by side in the same run on the same target (``_scaling_baseline``: a raw httpx client
against the same server, or the in-process reference provider waiting as long as one call).
The provider must reach the geometric mean of 1x and the baseline's speedup at 16 callers,
capped at the PERF-005 budget (2x) and at what its own CPU per call allows
(``perfstats.scaling_floor``: a call of latency L that spends C on CPU in this process can
overlap only while it waits). A global lock around a 5 ms call gives about 1x where the
baseline gives about 16x, and fails. When the baseline itself reaches under 2x, the machine or
the server is saturated and the verdict is inconclusive, never a guess.
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
from chatmodels.conformance.perfstats import SCALING_MIN_LATENCY, PerfPlan, scaling_floor
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._bounded import run_async
from chatmodels.conformance.suites._scaling_baseline import AsyncCall, baseline_for
from chatmodels.provider import ChatModel

PROMPT = "Say hello."
LEVELS = (1, 4, 16, 64)
JUDGED = 16
#: How long callers may still be inside a call after the window closes: fixed + per caller.
GRACE_SECONDS, GRACE_PER_CALLER = 5.0, 0.05
WARM_UP_CALLS = 5
#: A baseline that reaches less than this at 16 callers means a saturated machine or server.
SATURATED = 2.0


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


def _grace(concurrency: int) -> float:
    return GRACE_SECONDS + GRACE_PER_CALLER * concurrency


def _thread_level(
    call: Callable[[], object], concurrency: int, window: float, what: str = "invoke()"
) -> Level:
    """Run *concurrency* threads making *call* in a loop for *window* seconds."""
    barrier = threading.Barrier(concurrency + 1)
    counts = [0] * concurrency
    errors: list[str] = []
    box = {"end": 0.0}

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=_grace(concurrency))
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
    barrier.wait(timeout=_grace(concurrency))
    give_up = box["end"] + _grace(concurrency)
    for thread in threads:
        thread.join(timeout=max(0.0, give_up - time.perf_counter()))
    cpu = time.process_time() - cpu
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        pytest.fail(
            f"{stuck} of {concurrency} threads were still inside {what} "
            f"{_grace(concurrency):.1f}s after the measuring window closed; expected every "
            "call to return"
        )
    if errors:
        pytest.fail(f"{what} raised under {concurrency} concurrent threads: {errors[0]}")
    return Level(concurrency, sum(counts), window, cpu)


async def _async_level(
    call: AsyncCall, concurrency: int, window: float, what: str = "ainvoke()"
) -> Level:
    """Run *concurrency* tasks awaiting *call* in a loop for *window* seconds."""
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
            timeout=window + _grace(concurrency),
        )
    except asyncio.TimeoutError:
        pytest.fail(
            f"{concurrency} tasks were still inside {what} {_grace(concurrency):.1f}s after "
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
    baseline: str,
    how: str,
    budget: float,
    record_figure: RecordFigure,
) -> None:
    by_n = {level.concurrency: level for level in levels}
    one = by_n[1]
    if one.calls == 0:
        pytest.fail(f"no call completed within {one.seconds:.2f}s with one caller ({how})")
    latency = one.seconds / one.calls
    cpu = one.cpu_seconds / one.calls
    record_figure(f"{how}: single-caller latency", latency * 1e3, "ms")
    record_figure(f"{how}: CPU per call in this process", cpu * 1e6, "us")
    _figures(levels, how, record_figure)
    speedup = by_n[JUDGED].throughput / one.throughput
    base_speedup = base[1].throughput / base[0].throughput if base[0].calls else 0.0
    record_figure(
        f"{how}: baseline speedup at {JUDGED}",
        base_speedup,
        "x",
        higher_is_better=True,
        detail=f"{baseline}, measured beside the provider",
    )
    cpu_floor = scaling_floor(latency, cpu, JUDGED, budget)
    floor = None if cpu_floor is None else min(cpu_floor, math.sqrt(max(base_speedup, 1.0)))
    record_figure(
        f"{how}: speedup at {JUDGED}",
        speedup,
        "x",
        budget=floor,
        higher_is_better=True,
        detail="floor = min(budget, sqrt(baseline speedup), min(16, latency / CPU per call) / 2)",
    )
    if floor is None:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}one call takes {latency * 1e3:.3f} ms, under "
            f"{SCALING_MIN_LATENCY * 1e3:g} ms: too short to tell waiting from hand-off cost, "
            f"so serialisation cannot be judged (speedup at {JUDGED}: {speedup:.2f}x)"
        )
    if base_speedup < SATURATED:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}{how}: the baseline ({baseline}) itself reached only "
            f"{base_speedup:.2f}x at {JUDGED} callers in the same run, so the machine or the "
            f"server is saturated and the provider's {speedup:.2f}x cannot be judged; expected "
            f"the baseline to reach {SATURATED:g}x"
        )
    assert speedup >= floor, (
        f"{how}: throughput at {JUDGED} callers is {speedup:.2f}x that of one caller "
        f"({one.throughput:.0f} -> {by_n[JUDGED].throughput:.0f} calls/s), while the baseline "
        f"({baseline}) reached {base_speedup:.2f}x in the same run and a call spends only "
        f"{cpu * 1e6:.0f} us of its {latency * 1e3:.2f} ms on CPU here; expected at least "
        f"{floor:.2f}x: callers appear serialised (a lock held across the call, or a blocking "
        "wait on the event loop)"
    )


def _warm_up(call: Callable[[], object]) -> None:
    for _ in range(WARM_UP_CALLS):
        call()


def _latency(level: Level) -> float:
    return level.seconds / level.calls if level.calls else SCALING_MIN_LATENCY


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


@pytest.mark.requirement("PERF-005")
def test_thread_scaling(
    chatmodels_chat_model: ChatModel,
    chatmodels_subject: Subject,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """Threads calling one shared model overlap their waits as well as a baseline does."""
    plan = PerfPlan.from_settings(chatmodels_settings)
    budget = chatmodels_settings.budget("PERF-005")
    assert budget is not None
    window = plan.throughput_seconds

    def call() -> object:
        return chatmodels_chat_model.invoke(PROMPT)

    _warm_up(call)
    levels = [_thread_level(call, 1, window)]
    with baseline_for(chatmodels_subject, PROMPT, _latency(levels[0])) as baseline:
        what = baseline.what

        def base_level(n: int) -> Level:
            return _of_baseline(what, lambda: _thread_level(baseline.call, n, window, what))

        _of_baseline(what, lambda: _warm_up(baseline.call))
        base_one = base_level(1)
        levels += [_thread_level(call, n, window) for n in LEVELS[1:3]]
        base_many = base_level(JUDGED)
    levels.append(_thread_level(call, LEVELS[3], window))
    _judge(levels, (base_one, base_many), what, "threads", budget, chatmodels_record_figure)


@pytest.mark.requirement("PERF-005")
@pytest.mark.capability("async")
def test_asyncio_scaling(
    chatmodels_chat_model: ChatModel,
    chatmodels_subject: Subject,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """Tasks awaiting one shared model overlap their waits as well as a baseline does."""
    plan = PerfPlan.from_settings(chatmodels_settings)
    budget = chatmodels_settings.budget("PERF-005")
    assert budget is not None
    window = plan.throughput_seconds

    async def call() -> object:
        return await chatmodels_chat_model.ainvoke(PROMPT)

    async def measure() -> tuple[list[Level], tuple[Level, Level], str]:
        for _ in range(WARM_UP_CALLS):
            await call()
        levels = [await _async_level(call, 1, window)]
        with baseline_for(chatmodels_subject, PROMPT, _latency(levels[0])) as baseline:
            what = baseline.what
            async with baseline.async_calls() as base_call:

                async def warm() -> None:
                    for _ in range(WARM_UP_CALLS):
                        await base_call()

                await _of_async_baseline(what, warm())
                base_one = await _of_async_baseline(what, _async_level(base_call, 1, window, what))
                for n in LEVELS[1:3]:
                    levels.append(await _async_level(call, n, window))
                base_many = await _of_async_baseline(
                    what, _async_level(base_call, JUDGED, window, what)
                )
        levels.append(await _async_level(call, LEVELS[3], window))
        return levels, (base_one, base_many), what

    # One watchdog thread for the whole measurement, bounded by what is left of the run budget.
    levels, base, what = run_async(measure, "the asyncio scaling measurement", math.inf)
    _judge(levels, base, what, "asyncio", budget, chatmodels_record_figure)
