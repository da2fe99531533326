"""Evidence that an event loop is blocked, told apart from a loop merely slowed by a busy machine.

A heartbeat task on the loop records when it runs, with the loop thread's CPU time and (on
Linux) its time waiting for a CPU. While a beat is late, a sampler thread reads the loop
thread's stack every millisecond and classifies its innermost frames: a blocking wait
(``time.sleep``, a lock, a socket in blocking mode, ``select``) reached from the provider's
code, ordinary work, or the loop's own selector. Only a blocking frame fails a provider; a
stall with no such frame is explained by CPU contention (the loop ran or waited for a CPU)
or, when nothing explains it, left inconclusive. CONC-004 and ASYNC-005 share this module.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import dis
import inspect
import linecache
import os
import select
import socket
import ssl
import sys
import sysconfig
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import CodeType, FrameType, TracebackType
from typing import Any

_SAMPLE_EVERY = 0.001
#: Samples of one frame at one instruction that make a blocking wait evidence, not a glimpse.
_PERSISTENT = 2
_KIT = "chatmodels.conformance"
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_SOCKET_WAITS = frozenset(
    {"recv", "recv_into", "recvfrom", "recvfrom_into", "send", "sendall", "sendto", "connect"}
    | {"accept", "read", "write", "do_handshake"}
)
#: Waits that last only until the OS schedules a new thread: a busy machine, not a blocked loop
#: (``run_in_executor`` starts its workers this way).
_HANDSHAKES = frozenset({"threading.Thread.start", "threading.start"})  # 3.10: no co_qualname
_LIBRARY_DIRS = tuple(
    os.path.realpath(p)
    for p in {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
)


@dataclass(frozen=True, slots=True)
class Blocking:
    """A blocking wait on the loop thread: what was called, and where the provider called it."""

    call: str
    where: str
    waiting_in: str

    def __str__(self) -> str:
        inner = f" (waiting in {self.waiting_in})" if self.waiting_in != self.call else ""
        return f"{self.call} at {self.where}{inner}"


@dataclass(slots=True)
class Stall:
    """One late heartbeat: how long the loop was away, and what the sampler saw meanwhile."""

    seconds: float
    nominal: float
    cpu: float
    runqueue: float | None
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def explained(self) -> bool:
        """The loop ran or waited for a CPU: a busy machine, not a blocked loop."""
        if self.kinds["running"] or self.kinds["selector"]:
            return True
        on_cpu = self.cpu + (self.runqueue or 0.0)
        return on_cpu >= (self.seconds - self.nominal) / 2


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one watch saw: the largest heartbeat gap, the blocking waits, the stalls."""

    largest_gap: float
    blocking: tuple[tuple[Blocking, int], ...]
    stalls: tuple[Stall, ...]

    def over(self, bound: float) -> list[Stall]:
        """The stalls longer than *bound* seconds."""
        return [s for s in self.stalls if s.seconds > bound]

    def blocking_summary(self) -> str:
        """The blocking waits, most often seen first, each with its sample count."""
        return "; ".join(f"{b} ({n} samples)" for b, n in self.blocking)

    def unexplained_summary(self, bound: float) -> str:
        """Why stalls over *bound* are neither a blocking wait nor a busy machine."""
        over = self.over(bound)
        bad = [s for s in over if not s.explained]
        longest = max(s.seconds for s in bad)
        seen = sum((s.kinds for s in bad), Counter[str]())
        return (
            f"{len(bad)} of {len(over)} stalls over {bound * 1000:.0f} ms (longest "
            f"{longest * 1000:.0f} ms) had no blocking frame, the loop thread was mostly off "
            f"the CPU without waiting for one, and the sampler saw {dict(seen) or 'nothing'}"
        )


def _schedstat_path() -> str | None:
    path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
    return path if os.path.exists(path) else None


def _runqueue_seconds(path: str | None) -> float | None:
    """Seconds this thread has waited runnable for a CPU (Linux schedstat), if known."""
    if path is None:
        return None
    try:
        with open(path, "rb") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def runqueue_now() -> float | None:
    """Seconds the calling thread has waited runnable for a CPU so far (Linux), if known."""
    return _runqueue_seconds(_schedstat_path())


class LoopWatch:
    """An async context manager: heartbeat on the running loop plus a stack sampler thread."""

    def __init__(self, heartbeat: float, stall_after: float) -> None:
        self._heartbeat = heartbeat
        self._stall_after = stall_after
        self._beats: list[tuple[float, float, float | None]] = []
        self._samples: dict[int, list[tuple[str, tuple[int, int] | None, Blocking | None]]] = {}
        self._stop = threading.Event()
        self._positions: dict[object, dict[int, Any]] = {}
        self._beater: asyncio.Task[None] | None = None
        self._sampler: threading.Thread | None = None
        self._loop_thread = 0
        self._stat: str | None = None

    async def __aenter__(self) -> LoopWatch:
        self._loop_thread = threading.get_ident()
        self._stat = _schedstat_path()
        # The sampler starts before the first beat: starting a thread waits for the OS to run it.
        self._sampler = threading.Thread(target=self._sample, name="loop-watch", daemon=True)
        self._sampler.start()
        self._beat()
        self._beater = asyncio.ensure_future(self._beat_forever())
        await asyncio.sleep(2 * self._heartbeat)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._beater is not None:
            self._beater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beater
        self._beat()
        if self._sampler is not None:
            self._sampler.join(1.0)

    def _beat(self) -> None:
        self._beats.append((time.perf_counter(), time.thread_time(), _runqueue_seconds(self._stat)))

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._heartbeat)
            self._beat()

    def _sample(self) -> None:
        late_after = self._heartbeat + self._stall_after
        while not self._stop.wait(_SAMPLE_EVERY):
            beat = len(self._beats) - 1
            if beat < 0 or time.perf_counter() - self._beats[beat][0] < late_after:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is not None and len(self._beats) - 1 == beat:
                self._samples.setdefault(beat, []).append(self._classify(frame))

    def evidence(self) -> Evidence:
        """The heartbeat gaps and blocking waits seen while the watch ran."""
        stalls: list[Stall] = []
        gaps = [0.0]
        found: Counter[Blocking] = Counter()
        for index, ((t0, c0, r0), (t1, c1, r1)) in enumerate(
            zip(self._beats, self._beats[1:], strict=False)
        ):
            gaps.append(t1 - t0)
            samples = self._samples.get(index, [])
            seen = Counter(key for _, key, _ in samples if key is not None)
            for _, key, blocking in samples:
                if blocking is not None and key is not None and seen[key] >= _PERSISTENT:
                    found[blocking] += 1
            if samples or t1 - t0 > self._heartbeat + self._stall_after:
                runqueue = None if r0 is None or r1 is None else r1 - r0
                stall = Stall(t1 - t0, self._heartbeat, c1 - c0, runqueue)
                stall.kinds.update(kind for kind, _, _ in samples)
                stalls.append(stall)
        return Evidence(max(gaps), tuple(found.most_common()), tuple(stalls))

    # -- classifying one stack ----------------------------------------------------------------

    def _classify(self, frame: FrameType) -> tuple[str, tuple[int, int] | None, Blocking | None]:
        # Positions first: reading sources may release the GIL and let the loop thread move on.
        stack: list[tuple[FrameType, int, int | None]] = []
        f: FrameType | None = frame
        while f is not None:
            stack.append((f, f.f_lasti, f.f_lineno))
            f = f.f_back
        frames = [f for f, _, _ in stack]
        if _in_loop_selector(frames):
            return "selector", None, None
        innermost, lasti, _ = stack[0]
        waiting_in = self._blocking_call(innermost, lasti)
        if waiting_in is None:
            return "running", None, None
        site = next((i for i, f in enumerate(frames) if _is_provider_frame(f)), None)
        if site is None:
            return "running", None, None
        if any(_qualified(f) in _HANDSHAKES for f in frames[:site]):
            return "running", None, None
        call = waiting_in if site == 0 else _qualified(frames[site - 1])
        where = f"{os.path.basename(frames[site].f_code.co_filename)}:{stack[site][2]}"
        return "blocking", (id(innermost), lasti), Blocking(call, where, waiting_in)

    def _blocking_call(self, frame: FrameType, lasti: int) -> str | None:
        """The blocking primitive *frame* is calling at instruction *lasti*, or None."""
        target = self._callee(frame, lasti)
        if target is None:
            return None
        owner, attr, value, node = target
        if value is time.sleep:
            return "time.sleep"
        if value is select.select:
            return None if _zero(_argument(node, 3, "timeout"), frame) else "select.select"
        if attr in ("poll", "control") and type(owner).__module__ == "select":
            timeout = _argument(node, 0 if attr == "poll" else 2, "timeout")
            return None if _zero(timeout, frame) else f"select.{type(owner).__name__}.{attr}"
        if attr in ("acquire", "__enter__") and isinstance(owner, _LOCK_TYPES):
            probe = _argument(node, 0, "blocking"), _argument(node, 1, "timeout")
            if attr == "acquire" and any(_zero(arg, frame) for arg in probe):
                return None  # acquire(False) or acquire(timeout=0) only probes the lock
            return f"threading.{type(owner).__name__.lstrip('_').capitalize()}.{attr}"
        if attr in _SOCKET_WAITS and isinstance(owner, socket.socket | ssl.SSLSocket):
            with contextlib.suppress(OSError):
                if owner.gettimeout() != 0.0:
                    return f"{type(owner).__module__}.{type(owner).__name__}.{attr}"
        return None

    def _callee(self, frame: FrameType, lasti: int) -> tuple[object, str, object, ast.Call] | None:
        """(owner, attribute, callable) of the call *frame* makes, resolved without running code."""
        node = self._call_node(frame.f_code, lasti, frame.f_lineno)
        if node is None:
            return None
        chain: list[str] = []
        expr: ast.expr = node.func
        while isinstance(expr, ast.Attribute):
            chain.append(expr.attr)
            expr = expr.value
        if not isinstance(expr, ast.Name):
            return None
        scopes = (frame.f_locals, frame.f_globals, frame.f_builtins)
        owner: object = None
        value: object = None
        for scope in scopes:
            if expr.id in scope:
                value = scope[expr.id]
                break
        else:
            return None
        attr = expr.id
        try:
            for attr in reversed(chain):
                owner, value = value, inspect.getattr_static(value, attr)
        except AttributeError:
            return None
        return owner, attr, value, node

    def _call_node(self, code: CodeType, lasti: int, lineno: int | None) -> ast.Call | None:
        """The call expression at instruction *lasti* of *code*, parsed from its source."""
        positions = self._positions.get(code)
        if positions is None:
            instructions = dis.get_instructions(code)
            positions = {i.offset: getattr(i, "positions", None) for i in instructions}
            self._positions[code] = positions
        where = positions.get(lasti)
        lines = linecache.getlines(code.co_filename)
        if where is None or where.lineno is None or where.col_offset is None or not lines:
            return _only_call(lines, lineno)
        first, last = where.lineno - 1, (where.end_lineno or where.lineno) - 1
        if last >= len(lines) or where.end_col_offset is None:
            return None
        if first == last:
            text = lines[first][where.col_offset : where.end_col_offset]
        else:
            middle = "".join(lines[first + 1 : last])
            text = lines[first][where.col_offset :] + middle + lines[last][: where.end_col_offset]
        try:
            tree = ast.parse(f"({text})", mode="eval")
        except SyntaxError:
            return None
        return tree.body if isinstance(tree.body, ast.Call) else None


def _only_call(lines: list[str], lineno: int | None) -> ast.Call | None:
    """Python 3.10 has no column positions: the call on the line, when there is exactly one."""
    if lineno is None or not 0 < lineno <= len(lines):
        return None
    try:
        tree = ast.parse(lines[lineno - 1].strip().removeprefix("await ").removeprefix("return "))
    except SyntaxError:
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    return calls[0] if len(calls) == 1 else None


def _argument(node: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The expression passed as *keyword* (or at *position*) in the call *node*."""
    for given in node.keywords:
        if given.arg == keyword:
            return given.value
    return node.args[position] if len(node.args) > position else None


def _zero(expr: ast.expr | None, frame: FrameType) -> bool:
    """Whether *expr* is 0 or False: a zero timeout, which polls instead of waiting."""
    value: object = None
    if isinstance(expr, ast.Constant):
        value = expr.value
    elif isinstance(expr, ast.Name):
        value = frame.f_locals.get(expr.id, frame.f_globals.get(expr.id))
    return isinstance(value, int | float) and value == 0


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", ""))


def _in_loop_selector(stack: list[FrameType]) -> bool:
    """The loop waiting in its own selector for the next event (idle, or woken late)."""
    return any(
        f.f_code.co_name == "_run_once" and _module(f).startswith("asyncio") for f in stack[:3]
    ) and _module(stack[0]) in ("selectors", "asyncio.base_events")


def _is_provider_frame(frame: FrameType) -> bool:
    """Code the provider's author wrote or chose: not the kit, the stdlib or an installed library,
    except the library's own bundled providers and base classes."""
    module = _module(frame)
    if module.startswith(_KIT):
        return False
    if module == "chatmodels" or module.startswith("chatmodels."):
        return True
    if module.partition(".")[0] in sys.stdlib_module_names:
        return False
    path = os.path.realpath(frame.f_code.co_filename)
    return not any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS)


def _qualified(frame: FrameType) -> str:
    code = frame.f_code
    name = getattr(code, "co_qualname", code.co_name)
    module = _module(frame)
    return f"{module}.{name}" if module else name
