"""Concurrency suite, lifecycle under load: cancelling streams and closing a busy model.

Cancellation runs on the shared model; closing uses fresh models, since a closed model is spent.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._concurrency_runners import (
    await_until,
    join_threads,
    meet,
    run_loop,
    run_threads,
    start_threads,
    wait_until,
)
from chatmodels.conformance.suites._concurrency_support import (
    Answer,
    Call,
    Limits,
    LoadOutcome,
    Malformed,
    answer_of,
    call_async,
    call_methods,
    call_sync,
    check,
    is_closed_error,
    merged,
    prompt_for,
)
from chatmodels.provider import ChatModel, ProviderMetadata

_CLOSE_MAX_CALLS = 200


# -- CONC-005: cancellation under load -----------------------------------------------------


async def _consume(model: ChatModel, prompt: str, began: list[int]) -> Answer:
    """Read a whole stream like an application does, closing it however the read ends."""
    began.append(1)
    stream = model.astream(prompt)
    try:
        chunks = [chunk async for chunk in stream]
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
    return answer_of(merged(chunks, "astream"), "astream")


def _ending(task: asyncio.Task[Answer]) -> str:
    """How a consumer task ended, as quoted in verdicts; '' for a valid answer."""
    if not task.done():
        return "was still running"
    if task.cancelled():
        return "ended cancelled"
    exc = task.exception()
    if isinstance(exc, Malformed):
        return f"returned a malformed stream: {exc}"
    if exc is not None:
        return f"raised {describe_raised(exc)}"
    return ""


@dataclass(frozen=True, slots=True)
class _CancelRun:
    count: int
    victims: list[int]
    accepted: list[int]
    endings: list[str]


async def _cancel_half(model: ChatModel, count: int, limits: Limits) -> _CancelRun:
    began: list[int] = []
    tasks = [
        asyncio.ensure_future(_consume(model, prompt_for(i, limits.seed)[0], began))
        for i in range(count)
    ]
    await await_until(lambda: len(began) == count, limits)
    victims = sorted(limits.rng("cancel").sample(range(count), count // 2))
    accepted = [i for i in victims if tasks[i].cancel()]
    await asyncio.wait(tasks, timeout=limits.left())
    endings = [_ending(task) for task in tasks]
    for task in tasks:
        task.cancel()
    return _CancelRun(count, victims, accepted, endings)


@pytest.mark.requirement("CONC-005")
@pytest.mark.capability("streaming", "async")
def test_cancelling_half_the_streams_leaves_the_others_intact(
    chatmodels_chat_model: ChatModel, chatmodels_settings: Settings
) -> None:
    """Half of many in-flight astream consumers are cancelled: they end, the rest answer."""
    limits = Limits.of(chatmodels_settings)
    count = max(2, chatmodels_settings.int("conc_cancel_streams"))
    run = run_loop(functools.partial(_cancel_half, chatmodels_chat_model, count, limits), limits)
    if not run.accepted:
        pytest.skip(
            f"{INCONCLUSIVE}all {count} streams had ended before any could be cancelled, so "
            "cancellation in flight could not be observed"
        )
    victims = set(run.victims)
    problems = []
    for index in run.accepted:
        ending = run.endings[index]
        if ending == "":
            ending = "completed with an answer (the provider swallowed CancelledError)"
        if ending != "ended cancelled":
            prefix = "hung: " if ending == "was still running" else ""
            problems.append(
                f"{prefix}stream #{index} was cancelled in flight and {ending}; expected "
                "asyncio.CancelledError to end it"
            )
    for index, ending in enumerate(run.endings):
        if index not in victims and ending:
            prefix = "hung: " if ending == "was still running" else ""
            problems.append(f"{prefix}stream #{index} was not cancelled but {ending}")
    check(
        limits,
        problems,
        f"after cancelling {len(run.accepted)} of {count} in-flight streams, "
        f"{len(problems)} streams ended wrongly",
    )


# -- CONC-006/007: close under load --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Timed:
    outcome: LoadOutcome
    start: float
    end: float


@dataclass(slots=True)
class _CloseRun:
    """Calls made around one close: what each did, when, and whether close itself returned."""

    what: str
    callers: int
    calls: list[_Timed] = field(default_factory=list)
    busy: dict[int, float] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    close_start: float = 0.0
    close_end: float | None = None
    close_error: BaseException | None = None
    stranded: int = 0

    def record(self, caller: int, start: float, outcome: LoadOutcome, limits: Limits) -> bool:
        """Log one call; its caller stops at a closed error, a call begun late, or the deadline."""
        self.busy.pop(caller, None)
        self.calls.append(_Timed(outcome, start, time.monotonic()))
        if is_closed_error(outcome.error) or limits.left() <= 0:
            return False
        return self.close_end is None or start <= self.close_end

    def settled(self) -> bool:
        """Every caller has stopped, or is stuck in a call begun before close returned."""
        end = self.close_end
        if end is None:
            return False
        for caller in range(self.callers):
            start = self.busy.get(caller)
            if caller not in self.done and (start is None or start > end):
                return False
        return True


def _closers(settings: Settings) -> int:
    return min(16, max(2, settings.int("conc_threads") // 4))


def _close_call(methods: tuple[str, ...], caller: int, number: int) -> Call:
    method = methods[number % len(methods)]
    prompt = f"Close probe {caller}-{number}: say something."
    return Call(caller * _CLOSE_MAX_CALLS + number, method, f"caller {caller}", prompt)


def _close_under_threads(
    model: ChatModel, methods: tuple[str, ...], callers: int, limits: Limits, *, patient: bool
) -> _CloseRun:
    """Close *model* while threads call it; *patient* waits for stuck callers to the deadline."""
    run = _CloseRun(f"{callers} threads calling {'/'.join(methods)}", callers)

    def work(caller: int) -> None:
        try:
            for number in range(_CLOSE_MAX_CALLS):
                run.busy[caller] = start = time.monotonic()
                outcome = call_sync(model, _close_call(methods, caller, number))
                if not run.record(caller, start, outcome, limits):
                    return
        finally:
            run.done.add(caller)

    barrier = threading.Barrier(callers + 1)
    threads = start_threads(callers, work, barrier, limits)
    meet(barrier, limits)
    wait_until(lambda: len(run.calls) >= callers, limits)
    errors: list[BaseException] = []

    def close(_: int) -> None:
        try:
            model.close()
        except Exception as exc:
            errors.append(exc)

    run.close_start = time.monotonic()
    if not run_threads(1, close, limits):
        run.close_end = time.monotonic()
    run.close_error = errors[0] if errors else None
    if patient:
        join_threads(threads, limits)
    else:
        wait_until(run.settled, limits)
    run.stranded = callers - len(run.done)
    return run


async def _close_under_tasks(
    model: ChatModel, methods: tuple[str, ...], callers: int, limits: Limits, *, patient: bool
) -> _CloseRun:
    """Like :func:`_close_under_threads`, with tasks on the running loop and aclose()."""
    run = _CloseRun(f"{callers} tasks calling {'/'.join(methods)}", callers)

    async def work(caller: int) -> None:
        try:
            for number in range(_CLOSE_MAX_CALLS):
                run.busy[caller] = start = time.monotonic()
                outcome = await call_async(model, _close_call(methods, caller, number))
                if not run.record(caller, start, outcome, limits):
                    return
        finally:
            run.done.add(caller)

    workers = [asyncio.ensure_future(work(caller)) for caller in range(callers)]
    await await_until(lambda: len(run.calls) >= callers, limits)
    run.close_start = time.monotonic()
    try:
        await asyncio.wait_for(model.aclose(), limits.left())
        run.close_end = time.monotonic()
    except asyncio.TimeoutError:
        pass
    except Exception as exc:
        run.close_error, run.close_end = exc, time.monotonic()
    if patient:
        await asyncio.wait(workers, timeout=limits.left())
    else:
        await await_until(run.settled, limits)
    run.stranded = callers - len(run.done)
    for task in workers:
        task.cancel()
    return run


def _in_flight_problems(run: _CloseRun, closer: str) -> list[str]:
    problems = []
    if run.close_error is not None:
        problems.append(f"{closer} raised {describe_raised(run.close_error)}")
    if run.close_end is None:
        problems.append(f"hung: {closer} never returned while calls were in flight")
    if run.stranded:
        problems.append(
            f"hung: {run.stranded} callers were still inside a call at the deadline; "
            "in-flight calls must finish or raise ChatModelError(code='closed')"
        )
    end = run.close_end if run.close_end is not None else float("inf")
    for timed in run.calls:
        error = timed.outcome.error
        overlaps = timed.end >= run.close_start and timed.start <= end
        if overlaps and error is not None and not is_closed_error(error):
            problems.append(
                f"{timed.outcome.call.label}, in flight during {closer}, raised "
                f"{describe_raised(error)}; expected a result or ChatModelError(code='closed')"
            )
    return problems


def _after_close_problems(run: _CloseRun, late_outcomes: list[LoadOutcome]) -> list[str]:
    assert run.close_end is not None
    late = [t.outcome for t in run.calls if t.start > run.close_end] + late_outcomes
    problems = []
    for outcome in late:
        if is_closed_error(outcome.error):
            continue
        if outcome.hung:
            got = "never returned"
        elif outcome.error is not None:
            got = f"raised {describe_raised(outcome.error)}"
        else:
            got = "returned a result" if outcome.answer is not None else "returned garbage"
        problems.append(
            f"{outcome.call.label} started after close returned and {got}; expected "
            "ChatModelError(code='closed')"
        )
    return problems


def _checked_close(run: _CloseRun, closer: str, limits: Limits) -> None:
    problems = _in_flight_problems(run, closer)
    if not problems and not any(t.end >= run.close_start for t in run.calls):
        pytest.skip(f"{INCONCLUSIVE}no call was in flight when {closer} ran")
    check(limits, problems, f"{closer} under {run.what} went wrong")


def _post_close_calls(methods: tuple[str, ...], label: str) -> list[Call]:
    return [Call(-1, m, f"{label} {m} after close", "Are you still there?") for m in methods]


def _sync_late_calls(
    model: ChatModel, methods: tuple[str, ...], limits: Limits
) -> list[LoadOutcome]:
    calls = _post_close_calls(methods, "a")
    slots: list[LoadOutcome] = [LoadOutcome(call, hung=True) for call in calls]

    def work(_: int) -> None:
        for index, call in enumerate(calls):
            slots[index] = call_sync(model, call)

    run_threads(1, work, limits)
    return list(slots)


async def _async_late_calls(
    model: ChatModel, methods: tuple[str, ...], limits: Limits
) -> list[LoadOutcome]:
    outcomes = []
    for call in _post_close_calls(methods, "an"):
        try:
            outcomes.append(await asyncio.wait_for(call_async(model, call), limits.left()))
        except asyncio.TimeoutError:
            outcomes.append(LoadOutcome(call, hung=True))
    return outcomes


def _judge_late(run: _CloseRun, late: list[LoadOutcome], limits: Limits) -> None:
    problems = _after_close_problems(run, late)
    check(limits, problems, f"calls after close under {run.what} were not refused")


def _skip_if_close_hung(run: _CloseRun) -> None:
    if run.close_end is None:
        pytest.skip(f"{INCONCLUSIVE}close never returned, so no call could start after it")


MakeModel = Callable[..., ChatModel]


def _close_busy_model(
    make_chat_model: MakeModel,
    metadata: ProviderMetadata,
    settings: Settings,
    *,
    asynchronous: bool,
    patient: bool,
) -> tuple[ChatModel, _CloseRun, tuple[str, ...], Limits]:
    """Make a fresh model, put it under load, and close it (aclose() when *asynchronous*)."""
    limits = Limits.of(settings)
    methods = call_methods(metadata, asynchronous=asynchronous)
    model = make_chat_model()
    callers = _closers(settings)
    if asynchronous:
        work = functools.partial(
            _close_under_tasks, model, methods, callers, limits, patient=patient
        )
        return model, run_loop(work, limits), methods, limits
    run = _close_under_threads(model, methods, callers, limits, patient=patient)
    return model, run, methods, limits


_STYLES = [
    pytest.param(False, id="threads-close"),
    pytest.param(True, id="tasks-aclose", marks=pytest.mark.capability("async")),
]


@pytest.mark.requirement("CONC-006")
@pytest.mark.parametrize("asynchronous", _STYLES)
def test_close_under_load_lets_in_flight_calls_end(
    chatmodels_make_chat_model: MakeModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    asynchronous: bool,
) -> None:
    """Closing while callers are mid-call: each call finishes or raises closed, none hangs."""
    _, run, _, limits = _close_busy_model(
        chatmodels_make_chat_model,
        chatmodels_provider_metadata,
        chatmodels_settings,
        asynchronous=asynchronous,
        patient=True,
    )
    _checked_close(run, "aclose()" if asynchronous else "close()", limits)


@pytest.mark.requirement("CONC-007")
@pytest.mark.parametrize("asynchronous", _STYLES)
def test_calls_after_close_under_load_raise_closed(
    chatmodels_make_chat_model: MakeModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    asynchronous: bool,
) -> None:
    """Calls begun after close returned, by the load or afresh, raise code closed."""
    model, run, methods, _ = _close_busy_model(
        chatmodels_make_chat_model,
        chatmodels_provider_metadata,
        chatmodels_settings,
        asynchronous=asynchronous,
        patient=False,
    )
    _skip_if_close_hung(run)
    late = Limits.of(chatmodels_settings)  # a clock of its own for the calls after close
    if asynchronous:
        outcomes = run_loop(functools.partial(_async_late_calls, model, methods, late), late)
    else:
        outcomes = _sync_late_calls(model, methods, late)
    _judge_late(run, outcomes, late)
