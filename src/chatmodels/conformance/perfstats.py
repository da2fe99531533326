"""Statistics behind the performance verdicts: calibrated samples, ABBA blocks, bootstrap intervals.

A single timing of a fast call on a shared machine swings by tens of percent, so no verdict
rests on one. The overhead of B over A is judged on paired blocks (A B B A: linear drift
cancels inside a block, load shared by the pair cancels in its ratio), summarised by the
median, with a percentile-bootstrap confidence interval from ``random.Random(seed)``. A verdict
is ``pass`` when the whole interval is under the limit, ``fail`` when it is all above, and
``inconclusive`` otherwise. Pure functions: no pytest, no globals, clocks passed in.
"""

from __future__ import annotations

import gc
import math
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "ABBA",
    "Block",
    "CallProfile",
    "CpuPressure",
    "Decision",
    "Estimate",
    "WAITS_LITTLE",
    "PerfPlan",
    "Spread",
    "UnloadedClock",
    "Verdict",
    "bootstrap_median",
    "calibrate",
    "decide",
    "excess_ratios",
    "paired_differences",
    "paired_ratios",
    "profile_calls",
    "quantile",
    "run_blocks",
    "sample_until_decided",
    "scaling_floor",
    "spread",
    "time_calls",
    "time_each",
]

Verdict = Literal["pass", "fail", "inconclusive"]
Clock = Callable[[], float]

#: The block order of the overhead comparison: arm 0 (A), arm 1 (B), B, A.
ABBA: tuple[int, ...] = (0, 1, 1, 0)

#: A call whose latency is under this many times its CPU waits too little for serialised
#: callers to cost throughput: its scaling is judged against a baseline of the same profile.
WAITS_LITTLE = 2.0


class _SettingsLike(Protocol):
    def int(self, key: str) -> int: ...
    def float(self, key: str) -> float: ...
    def bool(self, key: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PerfPlan:
    """How much to measure: the suite settings, scaled up when ``perf_long`` asks for rigour."""

    samples: int
    max_samples: int
    min_sample_seconds: float
    seed: int
    latency_seconds: float
    throughput_seconds: float
    resamples: int
    long: bool = False

    def __post_init__(self) -> None:
        if self.samples < 30:
            msg = f"perf_samples must be at least 30 paired samples, got {self.samples!r}"
            raise ValueError(msg)
        if self.max_samples < self.samples:
            msg = (
                f"perf_max_samples must be >= perf_samples ({self.samples}), "
                f"got {self.max_samples!r}"
            )
            raise ValueError(msg)
        for name in ("min_sample_seconds", "latency_seconds", "throughput_seconds"):
            value = getattr(self, name)
            if not value > 0:
                msg = f"perf_{name} must be a positive number of seconds, got {value!r}"
                raise ValueError(msg)
        if self.resamples < 200:
            msg = f"perf_bootstrap_resamples must be at least 200, got {self.resamples!r}"
            raise ValueError(msg)

    @classmethod
    def from_settings(cls, settings: _SettingsLike) -> PerfPlan:
        """Read the ``perf_*`` tunables; ``perf_long`` multiplies samples and durations by 4."""
        factor = 4 if settings.bool("perf_long") else 1
        return cls(
            samples=settings.int("perf_samples") * factor,
            max_samples=settings.int("perf_max_samples") * factor,
            min_sample_seconds=settings.float("perf_min_sample_seconds") * factor,
            seed=settings.int("perf_seed"),
            latency_seconds=settings.float("perf_latency_seconds") * factor,
            throughput_seconds=settings.float("perf_throughput_seconds") * factor,
            resamples=settings.int("perf_bootstrap_resamples"),
            long=factor > 1,
        )


# -- order statistics -----------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    """The *q*-quantile, interpolated like ``statistics.quantiles(method="inclusive")``."""
    if not values:
        msg = "quantile() needs at least one value, got an empty sequence"
        raise ValueError(msg)
    if not 0.0 <= q <= 1.0:
        msg = f"quantile q must be in [0, 1], got {q!r}"
        raise ValueError(msg)
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class Spread:
    """The median and tail of a latency sample, in seconds."""

    p50: float
    p95: float
    p99: float
    count: int


def spread(values: Sequence[float]) -> Spread:
    """Summarise *values* by p50, p95 and p99."""
    return Spread(
        statistics.median(values), quantile(values, 0.95), quantile(values, 0.99), len(values)
    )


# -- timing -----------------------------------------------------------------------------------


def time_calls(func: Callable[[], object], loops: int, clock: Clock = time.perf_counter) -> float:
    """Seconds per call of *func*, over *loops* back-to-back calls."""
    start = clock()
    for _ in range(loops):
        func()
    return (clock() - start) / loops


def calibrate(
    func: Callable[[], object],
    min_seconds: float,
    *,
    max_loops: int = 1 << 20,
    clock: Clock = time.perf_counter,
) -> int:
    """The number of back-to-back calls of *func* that lasts at least *min_seconds*."""
    loops = 1
    while True:
        took = time_calls(func, loops, clock) * loops
        if took >= min_seconds or loops >= max_loops:
            return loops
        wanted = math.ceil(loops * min_seconds * 1.2 / took) if took > 0 else loops * 10
        loops = min(max_loops, max(loops * 2, wanted))


class UnloadedClock:
    """``perf_counter`` minus the time this thread sat runnable without a CPU (Linux schedstat).

    On a shared machine another process can take the CPU in the middle of a sample, and it
    does so more often to the arm doing more work, which no pairing cancels. Subtracting the
    run-queue wait keeps what the call itself costs, CPU and real waits (sleeps, I/O) alike.
    Where ``/proc/thread-self/schedstat`` is missing it is plain ``perf_counter``. Read it
    only from the thread that made it.
    """

    def __init__(self, path: str = "/proc/thread-self/schedstat") -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY)
            self._waited()
        except (OSError, ValueError, IndexError):
            self.close()

    @property
    def adjusted(self) -> bool:
        """Whether run-queue waits are subtracted (False: a plain wall clock)."""
        return self._fd is not None

    def _waited(self) -> float:
        assert self._fd is not None
        return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9

    def waited(self) -> float:
        """Seconds this thread has waited for a CPU so far (0.0 when unknown)."""
        return self._waited() if self._fd is not None else 0.0

    def __call__(self) -> float:
        if self._fd is None:
            return time.perf_counter()
        return time.perf_counter() - self._waited()

    def close(self) -> None:
        """Release the file; the clock is plain ``perf_counter`` afterwards."""
        fd = getattr(self, "_fd", None)
        self._fd = None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> UnloadedClock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class CpuPressure:
    """The share of a window in which some task on the machine waited for a CPU (Linux PSI).

    Other processes' load shows here, a loopback server's too; ``share`` is None without PSI.
    """

    #: Over this share the machine is saturated: timings measure the queue, not the provider.
    SATURATED = 0.25

    def __init__(self, path: str = "/proc/pressure/cpu") -> None:
        self._path = path
        self._start: tuple[float, float] | None = None
        self.share: float | None = None

    def _stalled(self) -> float | None:
        try:
            with open(self._path, encoding="ascii") as stat:
                first = stat.readline()
            return int(first.rsplit("total=", 1)[1]) / 1e6
        except (OSError, ValueError, IndexError):
            return None

    def __enter__(self) -> CpuPressure:
        stalled = self._stalled()
        self._start = None if stalled is None else (stalled, time.perf_counter())
        return self

    def __exit__(self, *exc_info: object) -> None:
        stalled = self._stalled()
        if self._start is None or stalled is None:
            return
        wall = time.perf_counter() - self._start[1]
        if wall > 0:
            self.share = min(1.0, max(0.0, (stalled - self._start[0]) / wall))

    @property
    def saturated(self) -> bool:
        """Whether some task waited for a CPU over ``SATURATED`` of the window."""
        return self.share is not None and self.share >= self.SATURATED

    def excuse(self, gross: bool, what: str) -> str | None:
        """Why a missed timing rule is inconclusive (saturated, the miss not *gross*), or None."""
        if gross or not self.saturated:
            return None
        assert self.share is not None
        return (
            f"{what}, but some task on this machine waited for a CPU {self.share:.0%} of the "
            f"time it was measured (Linux PSI; saturated from {self.SATURATED:.0%}): the miss is "
            "within what CPU contention alone causes, so it cannot be blamed on the provider"
        )


# -- paired blocks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block:
    """One interleaved block: the seconds per call of each sample, and the arm it came from."""

    order: tuple[int, ...]
    seconds: tuple[float, ...]

    def mean(self, arm: int) -> float:
        """Mean seconds per call of *arm* in this block."""
        taken = [s for a, s in zip(self.order, self.seconds, strict=True) if a == arm]
        if not taken:
            msg = f"arm {arm!r} has no sample in a block of order {self.order!r}"
            raise ValueError(msg)
        return sum(taken) / len(taken)


def run_blocks(
    arms: Sequence[Callable[[], float]],
    blocks: int,
    *,
    order: Sequence[int] = ABBA,
    between: Callable[[], object] | None = None,
    pause_gc: bool = True,
) -> list[Block]:
    """Take *blocks* blocks, each sampling ``arms[i]`` in *order*; call *between* before each.

    With *pause_gc* the cyclic collector is off inside a block (as ``timeit`` does): a full
    collection's cost grows with the whole heap, not with the code timed, and would land on
    whichever sample triggers it. *between* is where garbage gets collected.
    """
    pattern = tuple(order)
    if not pattern or any(not 0 <= i < len(arms) for i in pattern):
        msg = f"order must name arms 0..{len(arms) - 1}, got {pattern!r}"
        raise ValueError(msg)
    taken: list[Block] = []
    for _ in range(blocks):
        if between is not None:
            between()
        was_enabled = gc.isenabled()
        if pause_gc:
            gc.disable()
        try:
            taken.append(Block(pattern, tuple(arms[i]() for i in pattern)))
        finally:
            if was_enabled:
                gc.enable()
    return taken


def paired_ratios(blocks: Sequence[Block], treated: int = 1, base: int = 0) -> list[float]:
    """Per block, the treated arm's time over the base arm's (B/A)."""
    return [b.mean(treated) / b.mean(base) for b in blocks]


def paired_differences(blocks: Sequence[Block], treated: int = 1, base: int = 0) -> list[float]:
    """Per block, the seconds per call the treated arm adds over the base arm (B - A)."""
    return [b.mean(treated) - b.mean(base) for b in blocks]


def excess_ratios(
    blocks: Sequence[Block], treated: int = 1, base: int = 0, reference: int = 2
) -> list[float]:
    """Per block, what the treated arm adds over the base, in units of the reference arm."""
    return [(b.mean(treated) - b.mean(base)) / b.mean(reference) for b in blocks]


# -- estimates and verdicts -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Estimate:
    """A median and its bootstrap confidence interval."""

    value: float
    low: float
    high: float
    samples: int
    confidence: float = 0.95


def bootstrap_median(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """The median of *values* with a percentile-bootstrap interval, reproducible by *seed*."""
    if len(values) < 2:
        msg = f"a bootstrap interval needs at least 2 values, got {len(values)}"
        raise ValueError(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be in (0, 1), got {confidence!r}"
        raise ValueError(msg)
    rng = random.Random(seed)
    data = list(values)
    n = len(data)
    medians = [statistics.median(rng.choices(data, k=n)) for _ in range(resamples)]
    tail = (1.0 - confidence) / 2.0
    return Estimate(
        statistics.median(data),
        quantile(medians, tail),
        quantile(medians, 1.0 - tail),
        n,
        confidence,
    )


def decide(estimate: Estimate, limit: float) -> Verdict:
    """Pass when the interval lies under *limit*, fail when above it, else inconclusive."""
    if estimate.high < limit:
        return "pass"
    if estimate.low > limit:
        return "fail"
    return "inconclusive"


@dataclass(frozen=True, slots=True)
class Decision:
    """The blocks taken, the estimate over their statistic, and the verdict against the limit."""

    blocks: tuple[Block, ...]
    estimate: Estimate
    verdict: Verdict
    limit: float


def sample_until_decided(
    take: Callable[[int], Sequence[Block]],
    statistic: Callable[[Sequence[Block]], list[float]],
    limit: float,
    *,
    first: int,
    most: int,
    resamples: int = 2000,
    seed: int = 0,
) -> Decision:
    """Take *first* blocks; while the verdict is inconclusive, take *first* more, up to *most*.

    Each extra look is a new chance of a wrong verdict, so the number of looks is bounded
    (``most // first``); an interval still straddling the limit at *most* stays inconclusive.
    """
    blocks = list(take(first))
    while True:
        estimate = bootstrap_median(statistic(blocks), resamples=resamples, seed=seed)
        verdict = decide(estimate, limit)
        if verdict != "inconclusive" or len(blocks) >= most:
            return Decision(tuple(blocks), estimate, verdict, limit)
        blocks.extend(take(min(first, most - len(blocks))))


# -- scaling ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallProfile:
    """Where one call's time goes: CPU in this process, and the wait it cannot do without."""

    cpu: float
    wait: float

    @property
    def latency(self) -> float:
        """The call's latency on an idle machine: its CPU plus its own waits."""
        return self.cpu + self.wait

    def ceiling(self, concurrency: int) -> float:
        """The most *concurrency* callers can gain: only waits overlap (the GIL serialises CPU)."""
        if self.cpu <= 0:
            return float(concurrency)
        return min(float(concurrency), self.latency / self.cpu)

    @classmethod
    def of(cls, walls: Sequence[float], cpus: Sequence[float]) -> CallProfile:
        """From calls timed one by one: mean CPU, and the least wall time beyond CPU.

        Load delays some calls but never shortens one, so the least wait is the call's own
        (a sleep, I/O, a server), while a call that is all CPU has some calls with none. A
        call's CPU counts up to its wall time: the process's other threads (a kit sampler, a
        leftover caller) may burn CPU beside it, which is not the call's.
        """
        if not walls or len(walls) != len(cpus):
            msg = (
                "a call profile needs one wall and one CPU time per call, got "
                f"{len(walls)} and {len(cpus)}"
            )
            raise ValueError(msg)
        own = [min(cpu, wall) for wall, cpu in zip(walls, cpus, strict=True)]
        wait = min(wall - cpu for wall, cpu in zip(walls, own, strict=True))
        return cls(statistics.fmean(own), max(0.0, wait))


def profile_calls(func: Callable[[], object], seconds: float) -> CallProfile:
    """Call *func* one call after another for *seconds* in this thread; return its profile."""
    walls: list[float] = []
    cpus: list[float] = []
    stop = time.perf_counter() + seconds
    while not walls or time.perf_counter() < stop:
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return CallProfile.of(walls, cpus)


def scaling_floor(profile: CallProfile, concurrency: int, cap: float) -> float:
    """The least speedup at *concurrency* a provider that lets callers overlap must reach.

    Half of what its own profile allows (:meth:`CallProfile.ceiling`), capped at *cap*.
    """
    return min(cap, profile.ceiling(concurrency) / 2.0)


def time_each(
    func: Callable[[], object],
    *,
    least: int,
    most: int,
    seconds: float,
    cleanup: Callable[[object], object] | None = None,
    clock: Clock = time.perf_counter,
) -> list[float]:
    """Time calls of *func* one by one: at least *least*, then until *seconds* pass or *most*.

    *cleanup* receives each result outside the timed part (to close what *func* made).
    """
    taken: list[float] = []
    stop = clock() + seconds
    while len(taken) < most and (len(taken) < least or clock() < stop):
        start = clock()
        made = func()
        taken.append(clock() - start)
        if cleanup is not None:
            cleanup(made)
    return taken
