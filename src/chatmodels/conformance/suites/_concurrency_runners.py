"""Bounded runners of the concurrency suite: threads, event loops, loads and resource probes.

Every runner takes a :class:`Limits` and returns when its deadline passes, whatever the provider
does: threads are daemons joined with a timeout, and a load's event loop runs on a watchdog
thread of ``_bounded`` (one for the whole load, never one per call), so a provider that hangs,
blocks its loop or ignores cancellation gets a verdict instead of stalling the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from chatmodels.conformance.suites._bounded import abounded
from chatmodels.conformance.suites._concurrency_support import (
    Call,
    Limits,
    LoadOutcome,
    call_async,
    call_sync,
    hung,
    plan,
)
from chatmodels.provider import ChatModel

T = TypeVar("T")

_GRACE = 2.0
_POLL = 0.001


# -- bounded runners -----------------------------------------------------------------------


def meet(barrier: threading.Barrier, limits: Limits) -> None:
    """Wait at *barrier*; if a party never comes, go on so the verdict still sees the work."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(limits.left())


def start_threads(
    count: int, work: Callable[[int], None], barrier: threading.Barrier, limits: Limits
) -> list[threading.Thread]:
    """Start *count* daemon threads that wait at *barrier*, so their work really overlaps."""

    def target(index: int) -> None:
        meet(barrier, limits)
        work(index)

    threads = [
        threading.Thread(target=target, args=(i,), name=f"conc-caller-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads


def join_threads(threads: Sequence[threading.Thread], limits: Limits) -> list[int]:
    """Join *threads* until the deadline; return the indices of those still running."""
    for thread in threads:
        thread.join(limits.left())
    return [i for i, thread in enumerate(threads) if thread.is_alive()]


def run_threads(count: int, work: Callable[[int], None], limits: Limits) -> list[int]:
    """Run *work(i)* on *count* threads started together; return the indices still running."""
    threads = start_threads(count, work, threading.Barrier(count), limits)
    return join_threads(threads, limits)


def run_loop(main: Callable[[], Coroutine[Any, Any, T]], limits: Limits) -> T:
    """Run *main()* on a fresh event loop in a watchdog thread, failing as hung at the deadline."""
    what = "the event loop running the async calls"
    outcome = abounded(main, what, limits.left() + _GRACE)
    if outcome.timed_out:
        raise hung(limits, what)
    return outcome.get()


def wait_until(ready: Callable[[], bool], limits: Limits) -> bool:
    """Poll *ready* until it holds or the deadline passes; tell whether it held."""
    while not ready():
        if limits.left() <= 0:
            return False
        time.sleep(_POLL)
    return True


async def await_until(ready: Callable[[], bool], limits: Limits) -> bool:
    """Like :func:`wait_until` without blocking the loop."""
    while not ready():
        if limits.left() <= 0:
            return False
        await asyncio.sleep(_POLL)
    return True


# -- loads ----------------------------------------------------------------------------------


def thread_calls(
    model: ChatModel, calls: Sequence[Sequence[Call]], limits: Limits, barrier: threading.Barrier
) -> Callable[[], list[LoadOutcome]]:
    """Start one thread per call list; the returned function joins them and gives the outcomes."""
    slots: list[list[LoadOutcome | None]] = [[None] * len(row) for row in calls]

    def work(index: int) -> None:
        for position, call in enumerate(calls[index]):
            slots[index][position] = call_sync(model, call)

    threads = start_threads(len(calls), work, barrier, limits)

    def finish() -> list[LoadOutcome]:
        join_threads(threads, limits)
        return [
            slot if slot is not None else LoadOutcome(call, hung=True)
            for row, calls_row in zip(slots, calls, strict=True)
            for slot, call in zip(row, calls_row, strict=True)
        ]

    return finish


def thread_load(
    model: ChatModel, calls: Sequence[Sequence[Call]], limits: Limits
) -> list[LoadOutcome]:
    """Run each call list on its own thread, all started together."""
    return thread_calls(model, calls, limits, threading.Barrier(len(calls)))()


async def task_load(model: ChatModel, calls: Sequence[Call], limits: Limits) -> list[LoadOutcome]:
    """Run every call as a task on the running loop at once; tasks left at the deadline hung."""
    tasks = [asyncio.ensure_future(call_async(model, call)) for call in calls]
    if not tasks:
        return []
    await asyncio.wait(tasks, timeout=limits.left())
    outcomes = []
    for call, task in zip(calls, tasks, strict=True):
        if not task.done():
            task.cancel()
            outcomes.append(LoadOutcome(call, hung=True))
        elif task.cancelled():
            outcomes.append(LoadOutcome(call, error=asyncio.CancelledError()))
        else:
            outcomes.append(task.result())
    return outcomes


def mixed_load(
    model: ChatModel, rows: Sequence[Sequence[Call]], tasks: Sequence[Call], limits: Limits
) -> list[LoadOutcome]:
    """Threads call the sync API while the loop runs async calls, all started together."""
    barrier = threading.Barrier(len(rows) + 1)
    finish = thread_calls(model, rows, limits, barrier)

    async def main() -> list[LoadOutcome]:
        meet(barrier, limits)  # releases the threads together with the tasks
        return await task_load(model, tasks, limits)

    async_outcomes = run_loop(main, limits)
    return finish() + async_outcomes


def thread_rows(
    threads: int, per_thread: int, methods: Sequence[str], limits: Limits
) -> list[list[Call]]:
    """One call list per thread; thread *t* asks prompts t*per_thread onwards."""
    return [
        plan(
            range(t * per_thread, (t + 1) * per_thread),
            methods,
            limits.seed,
            functools.partial("thread {} call {}".format, t),
        )
        for t in range(threads)
    ]


# -- resources -------------------------------------------------------------------------------


def open_fds() -> int | None:
    """The number of open file descriptors, where the platform lists them (Linux)."""
    path = "/proc/self/fd"
    return len(os.listdir(path)) if os.path.isdir(path) else None


def settle(probe: Callable[[], int], target: int, seconds: float) -> int:
    """Poll *probe* until it is at most *target* or *seconds* pass; return the last reading."""
    end = time.monotonic() + seconds
    value = probe()
    while value > target and time.monotonic() < end:
        time.sleep(0.02)
        value = probe()
    return value


def steady(probe: Callable[[], int], seconds: float = 0.5) -> int:
    """Read *probe* until two readings 20 ms apart agree, or *seconds* pass."""
    end = time.monotonic() + seconds
    value = probe()
    while time.monotonic() < end:
        time.sleep(0.02)
        again = probe()
        if again == value:
            break
        value = again
    return value
