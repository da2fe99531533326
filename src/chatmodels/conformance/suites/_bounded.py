"""Bounded calls: every provider call a suite makes runs under a watchdog the provider cannot stall.

A sync call runs on a daemon thread and an async one runs its own event loop on a daemon
thread, so a provider that sleeps inside ``_ainvoke`` (blocking its loop) or waits for ever
is still stopped at the limit: the waiting side gives up, the thread is abandoned (it is a
daemon, so it never holds the interpreter at exit) and the requirement fails with
"<call> did not return within N s". A ``BaseException`` a provider raises (``KeyboardInterrupt``,
``SystemExit``, a custom one) is caught on that thread and becomes a plain failure, so the
run goes on. The limit is the ``call_timeout`` setting, set for each test by the plugin.
"""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import math
import sys
import sysconfig
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Generic, TypeVar

import pytest

from chatmodels.messages import ChatChunk

__all__ = [
    "DEFAULT_CALL_LIMIT",
    "MAX_CHUNKS",
    "THREAD_PREFIX",
    "CallOutcome",
    "abandoned_threads",
    "aread_stream",
    "bounded",
    "call_limit",
    "call_within",
    "abounded",
    "contained",
    "read_stream",
    "run_async",
    "reset_bounds",
    "use_bounds",
]

T = TypeVar("T")

#: Seconds one call may take when no run has set ``call_timeout`` (the catalogue default).
DEFAULT_CALL_LIMIT = 30.0
#: Every watchdog thread's name starts with this, so the run can list those it abandoned.
THREAD_PREFIX = "chatmodels-bounded"
#: Most chunks read from one stream; more is a runaway stream.
MAX_CHUNKS = 10_000

#: (per-call limit, monotonic deadline of the running test): set by the plugin for each test.
_BOUNDS: contextvars.ContextVar[tuple[float, float]] = contextvars.ContextVar(
    "chatmodels_bounds", default=(DEFAULT_CALL_LIMIT, math.inf)
)
_SEQUENCE = itertools.count(1)
_SUITES_DIR = Path(__file__).parent
_STDLIB = sysconfig.get_paths()["stdlib"]
#: pytest's own outcomes (skip, fail, xfail, exit) are BaseExceptions that must pass through.
_PYTEST_OUTCOMES: tuple[type[BaseException], ...] = (
    pytest.skip.Exception,
    pytest.fail.Exception,
    pytest.exit.Exception,
)


def call_limit() -> float:
    """The seconds one call may take in the running test (the ``call_timeout`` setting)."""
    return _BOUNDS.get()[0]


def use_bounds(call_limit: float, deadline: float = math.inf) -> contextvars.Token[Any]:
    """Set this context's per-call limit and the monotonic *deadline* no call may outlive."""
    return _BOUNDS.set((call_limit, deadline))


def reset_bounds(token: contextvars.Token[Any]) -> None:
    """Undo the :func:`use_bounds` that gave *token*."""
    _BOUNDS.reset(token)


@dataclass(frozen=True, slots=True)
class CallOutcome(Generic[T]):
    """How one bounded call ended: a value, an exception, or still running at the limit."""

    what: str
    limit: float
    elapsed: float
    value: T | None = None
    error: BaseException | None = None
    timed_out: bool = False
    thread: str = ""
    stuck_at: str = ""

    @property
    def finished(self) -> bool:
        """Tell whether the call returned or raised before the limit."""
        return not self.timed_out

    def hang_message(self) -> str:
        """The failure of a call still running at the limit, naming the call and its thread."""
        return (
            f"{self.what} did not return within {self.limit:.3g} s; expected an answer or an "
            f"error (its thread {self.thread!r} was abandoned{self.stuck_at})"
        )

    def get(self) -> T:
        """The value; re-raise the call's exception, or fail when it hung."""
        if self.timed_out:
            raise AssertionError(self.hang_message())
        if self.error is not None:
            raise contained(self.error, self.what)
        return self.value  # type: ignore[return-value]


def contained(error: BaseException, what: str) -> BaseException:
    """*error* itself when it may propagate, else an AssertionError saying what was raised.

    A provider's ``KeyboardInterrupt`` or ``SystemExit`` must fail its requirement, never
    stop the run as if the user pressed Ctrl-C.
    """
    if isinstance(error, (Exception, *_PYTEST_OUTCOMES)):
        return error
    msg = (
        f"{what} raised {error!r}{_origin(error)}, a BaseException that is not an Exception; "
        "expected a result or a ChatModelError (a provider must never raise KeyboardInterrupt, "
        "SystemExit or another BaseException to its caller)"
    )
    failure = AssertionError(msg)
    failure.__cause__ = error
    return failure


def bounded(call: Callable[[], T], what: str, limit: float | None = None) -> CallOutcome[T]:
    """Run *call* on a daemon thread (in a copy of this context) and wait at most *limit* s.

    No limit means ``call_timeout``; any limit is cut to what is left of the running test.
    """
    per_call, deadline = _BOUNDS.get()
    seconds = min(per_call if limit is None else limit, deadline - time.monotonic())
    box: list[tuple[T | None, BaseException | None]] = []
    done = threading.Event()
    context = contextvars.copy_context()

    def target() -> None:
        try:
            box.append((context.run(call), None))
        except BaseException as exc:  # contained: the verdict needs every outcome
            box.append((None, exc))
        finally:
            done.set()

    name = f"{THREAD_PREFIX}-{next(_SEQUENCE)}: {what}"
    thread = threading.Thread(target=target, name=name, daemon=True)
    start = time.perf_counter()
    thread.start()
    done.wait(None if math.isinf(seconds) else max(0.0, seconds))
    elapsed = time.perf_counter() - start
    if not box:
        return CallOutcome(
            what, seconds, elapsed, timed_out=True, thread=name, stuck_at=_where(thread)
        )
    value, error = box[0]
    return CallOutcome(what, seconds, elapsed, value, error)


def abounded(
    main: Callable[[], Awaitable[T]], what: str, limit: float | None = None
) -> CallOutcome[T]:
    """Run ``main()`` on an event loop of its own on a daemon thread, bounded like any call.

    The loop is the thread's own, so a provider that blocks it (``time.sleep`` inside
    ``_ainvoke``) stops only that thread, never the suite.
    """
    return bounded(lambda: asyncio.run(_coroutine(main)), what, limit)


def call_within(call: Callable[[], T], what: str, limit: float | None = None) -> T:
    """Return *call*'s value or re-raise its exception; fail the provider if it hangs."""
    return bounded(call, what, limit).get()


def run_async(main: Callable[[], Awaitable[T]], what: str, limit: float | None = None) -> T:
    """Return what ``main()`` gives on a bounded loop of its own; fail the provider if it hangs."""
    return abounded(main, what, limit).get()


async def _coroutine(main: Callable[[], Awaitable[T]]) -> T:
    return await main()


def read_stream(chunks: Iterable[ChatChunk], what: str = "stream") -> list[ChatChunk]:
    """Read a stream to its end, closing it; a runaway stream fails the provider."""
    got: list[ChatChunk] = []
    try:
        for chunk in chunks:
            got.append(chunk)
            if len(got) > MAX_CHUNKS:
                msg = f"{what} gave more than {MAX_CHUNKS} chunks; expected it to end"
                raise AssertionError(msg)
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    return got


async def aread_stream(chunks: AsyncIterator[ChatChunk], what: str = "astream") -> list[ChatChunk]:
    """Read an async stream to its end, closing it; a runaway stream fails the provider."""
    got: list[ChatChunk] = []
    try:
        async for chunk in chunks:
            got.append(chunk)
            if len(got) > MAX_CHUNKS:
                msg = f"{what} gave more than {MAX_CHUNKS} chunks; expected it to end"
                raise AssertionError(msg)
    finally:
        aclose = getattr(chunks, "aclose", None)
        if callable(aclose):
            await aclose()
    return got


def _origin(error: BaseException) -> str:
    """Where *error* was raised and the suite line that made the call, as far as known."""
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    if not frames:
        return ""
    raised = frames[-1]
    here = [f"at {_line(raised)}"]
    suite = [f for f in frames if Path(f.f_code.co_filename).parent == _SUITES_DIR]
    if suite and suite[-1] is not raised:
        here.append(f"called from {_line(suite[-1])}")
    return " (" + ", ".join(here) + ")"


def _line(frame: FrameType) -> str:
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno} in {frame.f_code.co_name}"


def abandoned_threads() -> list[str]:
    """Names of the watchdog threads still running: calls the run gave up waiting for."""
    return sorted(t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX))


def _where(thread: threading.Thread) -> str:
    """Where the hung *thread* is stuck, as ``file:line in function``, when it can be told."""
    frame = sys._current_frames().get(thread.ident) if thread.ident is not None else None
    if frame is None:
        return ""
    # The innermost frame outside the standard library is the provider's (or the suite's) line.
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_STDLIB):
        frame = frame.f_back
    return f"; stuck at {_line(frame)}"
