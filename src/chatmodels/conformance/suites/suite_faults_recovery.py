"""Faults suite, recovery: cut answers fail loudly, models recover, successes are never wrong."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.conformance.fixtures import RecordFigure
from chatmodels.conformance.suites._bounded import run_async
from chatmodels.conformance.suites._evidence import inconclusive
from chatmodels.conformance.suites._faults_support import (
    FaultKit,
    FaultOutcome,
    Prompt,
    acall,
    assert_no_problems,
    call_kinds,
    content_problem,
    error_problem,
    fault_kit,
    fault_server,
    unbounded_call,
)
from chatmodels.errors import RETRYABLE_CODES, ChatModelError, ErrorCode
from chatmodels.messages import Message
from chatmodels.provider import Capability, ChatModel

__all__ = ["fault_kit", "fault_server"]

_FAST_BACKOFF = {"backoff_base": 0.01, "backoff_max": 0.05}


@pytest.mark.requirement("FAULT-010")
def test_cut_answers_raise(fault_kit: FaultKit) -> None:
    """A body or SSE stream cut before its end raises invalid_response or network, never returns."""
    model = fault_kit.model(max_retries=0, **_FAST_BACKOFF)
    codes = (ErrorCode.INVALID_RESPONSE, ErrorCode.NETWORK)
    problems: list[str] = []
    for after in (1, 2):
        fault = Fault.cut_stream(after_chunks=after)
        for kind in call_kinds(fault_kit.metadata):
            fault_kit.play(fault)
            outcome = fault_kit.call(model, kind, "FAULT-010 probe: a long enough answer to cut")
            problem = error_problem(outcome, codes, fault.header(), check_retryable=False)
            if problem and outcome.ok:
                problem += " (a silent partial success)"
            if problem:
                problems.append(problem)
    assert_no_problems(problems, "cut answers were not reported as failures")


# -- FAULT-011: recovery on the same model ---------------------------------------------

_RECOVERY_FAULTS = (
    Fault.http_status(400),
    Fault.http_status(401),
    Fault.http_status(429, retry_after=0),
    Fault.http_status(500),
    Fault.http_status(503),
    Fault.reset(),
    Fault.malformed_json(),
    Fault.wrong_content_type(),
    Fault.empty_200(),
    Fault.cut_stream(after_chunks=1),
    Fault.huge_body(256 * 1024),
)


def _recovery_problem(kit: FaultKit, after: str, normal: FaultOutcome) -> str | None:
    if normal.ok and normal.result is not None:
        return None
    return f"after {after}: the next normal {normal.describe()}; expected a valid result"


def _sync_recovery(kit: FaultKit, model: ChatModel, kinds: tuple[str, ...]) -> list[str]:
    problems: list[str] = []
    for fault in _RECOVERY_FAULTS:
        for kind in kinds:
            kit.play(fault)
            kit.call(model, kind, "FAULT-011 probe")
            kit.play(None)
            normal = kit.call(model, kind, "FAULT-011 probe")
            problem = _recovery_problem(kit, f"{fault.header()} on {kind}", normal)
            if problem:
                problems.append(problem)
    return problems


async def _async_recovery(kit: FaultKit, model: ChatModel, kinds: tuple[str, ...]) -> list[str]:
    """Fault then normal call on one loop, so a poisoned async pool is seen."""
    problems: list[str] = []
    for fault in _RECOVERY_FAULTS:
        for kind in kinds:
            kit.play(fault)
            await acall(model, kind, "FAULT-011 probe", None, kit.bound)
            kit.play(None)
            normal = await acall(model, kind, "FAULT-011 probe", None, kit.bound)
            problem = _recovery_problem(kit, f"{fault.header()} on {kind}", normal)
            if problem:
                problems.append(problem)
    return problems


@pytest.mark.requirement("FAULT-011")
def test_model_recovers_after_every_fault(fault_kit: FaultKit) -> None:
    """After each fault, a normal call on the same model (sync, then async) succeeds."""
    kinds = call_kinds(fault_kit.metadata)
    sync_kinds = tuple(k for k in kinds if not k.startswith("a"))
    async_kinds = tuple(k for k in kinds if k.startswith("a"))
    model = fault_kit.model(max_retries=0, **_FAST_BACKOFF)
    problems = _sync_recovery(fault_kit, model, sync_kinds)
    calls = 2 * len(_RECOVERY_FAULTS) * len(async_kinds)
    problems += run_async(
        lambda: _async_recovery(fault_kit, model, async_kinds),
        f"{calls} async calls alternating faults and normal answers",
        calls * fault_kit.bound,
    )
    assert_no_problems(problems, "models did not recover from a fault")


@pytest.mark.requirement("FAULT-011")
def test_model_recovers_after_a_timeout(fault_kit: FaultKit) -> None:
    """After a call timed out mid-wait, a normal call on the same model succeeds."""
    if "timeout" not in fault_kit.declared:
        pytest.skip("the provider declares no timeout option to cut the wait short")
    timeout = fault_kit.settings.float("fault_timeout")
    model = fault_kit.model(timeout=timeout, max_retries=0)
    problems: list[str] = []
    for kind in ("invoke", "stream")[: 2 if fault_kit.metadata.supports("streaming") else 1]:
        fault_kit.play(Fault.latency(fault_kit.settings.float("fault_latency")))
        fault_kit.call(model, kind, "FAULT-011 probe")
        fault_kit.play(None)
        problem = _recovery_problem(
            fault_kit, f"a timeout on {kind}", fault_kit.call(model, kind, "FAULT-011 probe")
        )
        if problem:
            problems.append(problem)
    assert_no_problems(problems, "models did not recover from a timeout")


# -- FAULT-012: no wrong success ------------------------------------------------------


def _conversation(tag: str) -> Prompt:
    """Several turns, so a retry that resends a changed request changes the answer."""
    return [
        Message.user(f"first question {tag}"),
        Message.assistant("an earlier answer"),
        Message.user(f"second question {tag}, the one to answer"),
    ]


@pytest.mark.requirement("FAULT-012")
def test_surviving_calls_return_the_fault_free_answer(fault_kit: FaultKit) -> None:
    """Calls that survive a fault (retried, slow, dripped, padded) equal the clean answer."""
    scripted = (Fault.http_status(503), Fault.http_status(429, retry_after=0), Fault.reset())
    persistent = (Fault.latency(0.05), Fault.drip(0.01), Fault.huge_body(64 * 1024))
    kinds = call_kinds(fault_kit.metadata)
    cases: list[tuple[Fault, bool, str, Prompt]] = []
    for number, fault in enumerate(scripted + persistent):
        for kind in kinds:
            prompt = _conversation(f"{number}-{kind}")
            cases.append((fault, fault in scripted, kind, prompt))
    expected = {id(p): fault_kit.baseline(p, k) for _, _, k, p in cases}
    model = fault_kit.model(max_retries=2, **_FAST_BACKOFF)
    problems: list[str] = []
    for fault, once, kind, prompt in cases:
        fault_kit.play(None if once else fault)
        if once:
            fault_kit.server.script(fault)
        outcome = fault_kit.call(model, kind, prompt)
        problem = content_problem(outcome, expected[id(prompt)], fault.header())
        if problem:
            problems.append(problem)
    assert_no_problems(problems, "successes carried the wrong content")


# -- FAULT-013: huge bodies ------------------------------------------------------------


@pytest.mark.requirement("FAULT-013")
def test_huge_body_is_parsed_or_rejected(fault_kit: FaultKit) -> None:
    """An answer padded to megabytes equals the clean answer or raises invalid_response."""
    size = fault_kit.settings.int("fault_huge_size")
    fault = Fault.huge_body(size)
    kinds = call_kinds(fault_kit.metadata)
    expected = {k: fault_kit.baseline("FAULT-013 probe", k) for k in kinds}
    model = fault_kit.model(max_retries=0)
    problems: list[str] = []
    for kind in kinds:
        fault_kit.play(fault)
        outcome = fault_kit.call(model, kind, "FAULT-013 probe")
        label = f"huge body ({size} bytes)"
        if outcome.ok:
            problem = content_problem(outcome, expected[kind], label)
        else:
            problem = error_problem(outcome, (ErrorCode.INVALID_RESPONSE,), label)
        if problem:
            problems.append(problem)
    assert_no_problems(problems, "huge bodies handled wrongly")


# -- FAULT-014: concurrent callers under random faults ----------------------------------


def _judge(outcome: FaultOutcome, expected: tuple[object, ...], who: str) -> str | None:
    if outcome.ok:
        return content_problem(outcome, expected, who)
    error = outcome.error
    if isinstance(error, ChatModelError) and error.code in RETRYABLE_CODES:
        return None
    transient = ", ".join(sorted(c.value for c in RETRYABLE_CODES))
    return f"{who}: {outcome.describe()}; expected the answer or a ChatModelError ({transient})"


#: How often a load's progress is sampled while it runs.
_POLL = 0.1
#: A load still progressing after this many stall windows is too slow to judge, not hung.
_CAP_STALLS = 4


class _Progress:
    """Tell a hung load from a slow one: any call ending or request reaching the server counts."""

    def __init__(self, server: FaultServer, stall: float, cap: float) -> None:
        self._server, self.stall, self.cap = server, stall, cap
        self._start = self._last_change = time.monotonic()
        self._seen = -1

    def verdict(self, ended: int) -> str | None:
        """None while the load may go on; "stalled" or "slow" when it must stop now."""
        now = time.monotonic()
        seen = ended + len(self._server.requests)
        if seen != self._seen:
            self._seen, self._last_change = seen, now
        if now - self._last_change >= self.stall:
            return "stalled"
        return "slow" if now - self._start >= self.cap else None


def _threads(
    model: ChatModel, jobs: Sequence[tuple[str, Prompt]], progress: _Progress
) -> tuple[list[FaultOutcome | None], str | None]:
    """Run every job at once on its own thread; None marks a call still running at the stop."""
    outcomes: list[FaultOutcome | None] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def run(index: int, kind: str, prompt: Prompt) -> None:
        try:
            barrier.wait(timeout=progress.stall)
        except threading.BrokenBarrierError:
            return
        outcomes[index] = unbounded_call(model, kind, prompt)  # the progress watch bounds them

    threads = [
        threading.Thread(target=run, args=(i, k, p), daemon=True, name=f"chatmodels-fault-{i}")
        for i, (k, p) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    stop: str | None = None
    while any(t.is_alive() for t in threads):
        stop = progress.verdict(sum(o is not None for o in outcomes))
        if stop:
            break
        time.sleep(_POLL)
    return outcomes, stop


async def _tasks(
    model: ChatModel, jobs: Sequence[tuple[str, Prompt]], progress: _Progress
) -> tuple[list[FaultOutcome | None], str | None]:
    """The async twin of :func:`_threads`: every job a task on this loop."""
    bound = progress.cap + progress.stall  # the progress watch stops the load first
    tasks = [asyncio.ensure_future(acall(model, k, p, None, bound)) for k, p in jobs]
    stop: str | None = None
    pending = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, timeout=_POLL)
        stop = progress.verdict(len(tasks) - len(pending))
        if stop and pending:
            break
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return [t.result() if t.done() and not t.cancelled() else None for t in tasks], stop


@pytest.mark.requirement("FAULT-014")
def test_concurrent_callers_under_random_faults(
    fault_kit: FaultKit, chatmodels_record_figure: RecordFigure
) -> None:
    """Many threads, then many tasks, on one model with random faults: each ends correctly."""
    settings = fault_kit.settings
    callers = settings.int("fault_conc_callers")
    stall = settings.float("fault_conc_timeout")
    cap = _CAP_STALLS * stall
    rate, seed = settings.float("fault_rate"), settings.int("fault_seed")
    streaming = fault_kit.metadata.supports(Capability.STREAMING)
    sync_jobs = [
        ("stream" if streaming and i % 2 else "invoke", f"FAULT-014 caller {i}")
        for i in range(callers)
    ]
    async_jobs = [("a" + kind, prompt) for kind, prompt in sync_jobs]
    expected = {(k, p): fault_kit.baseline(p, k) for k, p in sync_jobs + async_jobs}
    problems: list[str] = []
    stops: list[str] = []
    start = time.perf_counter()
    with FaultServer(fault_rate=rate, fault_seed=seed) as server:
        model = fault_kit.model(server.url, max_retries=3, **_FAST_BACKOFF)
        sync_outcomes, stop = _threads(model, sync_jobs, _Progress(server, stall, cap))
        stops += [f"threads: {stop}"] if stop else []
        async_outcomes, stop = run_async(
            lambda: _tasks(model, async_jobs, _Progress(server, stall, cap)),
            f"{len(async_jobs)} concurrent tasks",
            cap + 2 * stall,
        )
        stops += [f"tasks: {stop}"] if stop else []
        for label, jobs, outcomes in (
            ("thread", sync_jobs, sync_outcomes),
            ("task", async_jobs, async_outcomes),
        ):
            for (kind, prompt), outcome in zip(jobs, outcomes, strict=True):
                who = f"{label} {prompt.rsplit(' ', 1)[1]} ({kind})"
                if outcome is None:
                    problems.append(f"{who}: still running when the load stopped")
                    continue
                problem = _judge(outcome, expected[(kind, prompt)], who)
                if problem:
                    problems.append(problem)
        faulted = sum(1 for r in server.requests if r.fault != "ok")
    took = time.perf_counter() - start
    chatmodels_record_figure(
        "calls under random faults", 2 * callers, "calls", detail=f"{faulted} faulted"
    )
    chatmodels_record_figure("time for all callers", took, "s")
    unfinished = sum(o is None for o in sync_outcomes + async_outcomes)
    ended_wrong = [p for p in problems if not p.endswith("still running when the load stopped")]
    if any(s.endswith("stalled") for s in stops):
        problems.insert(
            0,
            f"{unfinished} calls made no progress for {stall:g}s (no call ended and no "
            "request reached the server): a hang; expected every call to end",
        )
    elif stops and not ended_wrong:
        inconclusive(
            f"the load was still progressing after {cap:g}s with {unfinished} of "
            f"{2 * callers} calls unfinished and none wrong so far: too slow a machine to "
            "finish it, not a hang"
        )
    seed_note = f"fault_rate={rate:g}, fault_seed={seed}"
    assert_no_problems(problems, f"callers ended wrongly under random faults ({seed_note})")
