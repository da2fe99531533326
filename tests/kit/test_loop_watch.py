"""The loop watch tells a blocked event loop from a busy one, and names the blocking call."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable

from chatmodels.conformance.suites._loop_watch import Evidence, LoopWatch

STALL = 0.03


def _watch(work: Callable[[], Awaitable[None]]) -> Evidence:
    async def main() -> Evidence:
        async with LoopWatch(0.005, 0.003) as watch:
            await work()
        return watch.evidence()

    return asyncio.run(main())


def _line_of(marker: str) -> int:
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1) if marker in line)


class TestLoopWatch:
    def test_time_sleep_is_quoted_with_its_line(self) -> None:
        """A time.sleep on the loop is found and quoted as 'time.sleep at file:line'."""

        async def work() -> None:
            for _ in range(3):
                time.sleep(STALL)  # sleeps-on-the-loop
                await asyncio.sleep(0.001)

        evidence = _watch(work)
        where = f"time.sleep at test_loop_watch.py:{_line_of('# sleeps-on-the-loop')}"
        assert where in evidence.blocking_summary(), evidence

    def test_busy_cpu_is_not_blocking(self) -> None:
        """Stalls spent computing on the loop are explained, never a blocking call."""

        async def work() -> None:
            for _ in range(3):
                end = time.perf_counter() + STALL
                while time.perf_counter() < end:
                    pass
                await asyncio.sleep(0.001)

        evidence = _watch(work)
        assert not evidence.blocking, evidence.blocking_summary()
        assert all(stall.explained for stall in evidence.over(0.01)), evidence.stalls

    def test_lock_and_blocking_socket_waits_are_found(self) -> None:
        """A held threading.Lock and a blocking socket recv are both blocking waits."""
        lock = threading.Lock()
        left, right = socket.socketpair()

        async def work() -> None:
            lock.acquire()
            threading.Timer(STALL, lock.release).start()
            lock.acquire()  # waits-for-the-lock
            lock.release()
            threading.Timer(STALL, lambda: right.send(b"x")).start()
            left.recv(1)  # waits-for-the-socket

        try:
            summary = _watch(work).blocking_summary()
        finally:
            left.close()
            right.close()
        assert f"test_loop_watch.py:{_line_of('# waits-for-the-lock')}" in summary, summary
        assert f"socket.socket.recv at test_loop_watch.py:{_line_of('# waits-for-the-socket')}" in (
            summary
        ), summary

    def test_zero_timeout_probes_are_not_blocking(self) -> None:
        """poll(0), select(..., 0) and acquire(False) only probe, as httpcore's readiness check."""
        import select

        lock = threading.Lock()
        left, right = socket.socketpair()

        async def work() -> None:
            end = time.perf_counter() + 3 * STALL
            probe = select.poll()
            probe.register(left.fileno(), select.POLLIN)
            while time.perf_counter() < end:
                probe.poll(0)
                select.select([left], [], [], 0)
                if lock.acquire(False):
                    lock.release()

        try:
            evidence = _watch(work)
        finally:
            left.close()
            right.close()
        assert not evidence.blocking, evidence.blocking_summary()

    def test_awaiting_is_not_blocking(self) -> None:
        """A loop that awaits asyncio.sleep has no stall and no blocking call."""

        async def work() -> None:
            await asyncio.sleep(0.1)

        evidence = _watch(work)
        assert not evidence.blocking, evidence.blocking_summary()
