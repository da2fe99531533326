"""Concurrency suite, loads: the one shared model under threads, tasks and both at once.

Each load runs once per module (a fixture) and several requirements judge its outcomes, so a
provider pays for 64 x 8 threaded calls once. Every prompt is unique to its caller; with a
deterministic provider each answer is compared with the answer the same prompt gets alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import pytest

from chatmodels.conformance.outcomes import UNSUPPORTED
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._concurrency_runners import (
    mixed_load,
    run_loop,
    run_threads,
    task_load,
    thread_load,
    thread_rows,
)
from chatmodels.conformance.suites._concurrency_support import (
    Answer,
    Call,
    Limits,
    LoadOutcome,
    answered,
    call_methods,
    call_sync,
    check,
    foreign_errors,
    method_for,
    not_answered,
    plan,
    prompt_for,
    shared_ids,
    solo_mismatches,
    usage_crossings,
)
from chatmodels.conformance.suites._evidence import inconclusive, unrepeatable, usage_unusable
from chatmodels.conformance.suites._fault_hook import hooked_models
from chatmodels.conformance.suites._loop_watch import Evidence, LoopWatch
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

_HEARTBEAT = 0.005
_HEARTBEAT_CALLS = 64  # at most: conc_async_tasks sizes it down for slow real models
_ATTEMPTS = 3
#: Stalls longer than this need an explanation: a blocking frame, or a busy CPU.
_MIN_GAP_BOUND = 0.05


@dataclass(frozen=True, slots=True)
class Load:
    """What one load did, and the solo answers its outcomes are compared with."""

    what: str
    outcomes: list[LoadOutcome]
    solo: dict[int, Answer] | None
    limits: Limits


@dataclass(frozen=True, slots=True)
class Shape:
    """How many callers each load has, from the run's settings."""

    threads: int
    per_thread: int
    tasks: int
    mixed_threads: int
    mixed_per_thread: int
    mixed_tasks: int

    @classmethod
    def of(cls, settings: Settings) -> Shape:
        threads = max(1, settings.int("conc_threads"))
        per_thread = max(1, settings.int("conc_calls_per_thread"))
        tasks = max(1, settings.int("conc_async_tasks"))
        return cls(
            threads,
            per_thread,
            tasks,
            max(2, threads // 4),
            max(1, per_thread // 2),
            max(2, tasks // 4),
        )

    @property
    def prompts(self) -> int:
        """Prompts any load uses; the loads share them, each caller within a load its own."""
        mixed = self.mixed_threads * self.mixed_per_thread + self.mixed_tasks
        return max(self.threads * self.per_thread, self.tasks, mixed)


def _require_async(metadata: ProviderMetadata, requirement: str) -> None:
    if not metadata.supports(Capability.ASYNC):
        pytest.skip(
            f"{UNSUPPORTED}provider {metadata.name!r} does not declare capability 'async', "
            f"which {requirement} needs for this load"
        )


# -- the loads, once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def solo_answers(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> dict[int, Answer] | None:
    """For a deterministic provider, each prompt's answer asked apart from the load.

    ``conc_solo_workers`` callers (default a few) share the work, so a slow provider's 512
    reference answers do not take minutes; set it to 1 for strictly one-at-a-time answers.
    """
    if not chatmodels_provider_metadata.supports(Capability.DETERMINISTIC):
        return None
    limits = Limits.of(chatmodels_settings)
    workers = max(1, chatmodels_settings.int("conc_solo_workers"))
    prompts = Shape.of(chatmodels_settings).prompts
    methods = call_methods(chatmodels_provider_metadata, asynchronous=False)
    answers: dict[int, Answer] = {}

    def ask_alone(worker: int) -> None:
        for index in range(worker, prompts, workers):
            if limits.left() <= 0:
                return
            outcome = call_sync(chatmodels_chat_model, _alone(index, methods, limits.seed))
            if outcome.answer is not None:
                answers[index] = outcome.answer

    run_threads(workers, ask_alone, limits)
    return dict(answers)


def _alone(index: int, methods: tuple[str, ...], seed: int) -> Call:
    """Prompt *index* asked alone, streamed when the loads stream it: like with like."""
    prompt, size = prompt_for(index, seed)
    return Call(index, method_for(index, methods, seed), "alone", prompt, size)


@pytest.fixture(scope="module")
def usage_evidence(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> str | None:
    """Why usage cannot trace an answer to its request on this provider; None when it can."""
    if not chatmodels_provider_metadata.supports(Capability.USAGE):
        return f"provider {chatmodels_provider_metadata.name!r} does not declare capability 'usage'"
    return usage_unusable(chatmodels_chat_model.invoke)


@pytest.fixture(scope="module")
def thread_run(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    solo_answers: dict[int, Answer] | None,
) -> Load:
    """conc_threads threads x conc_calls_per_thread calls, invoke and stream mixed."""
    limits = Limits.of(chatmodels_settings)
    shape = Shape.of(chatmodels_settings)
    methods = call_methods(chatmodels_provider_metadata, asynchronous=False)
    rows = thread_rows(shape.threads, shape.per_thread, methods, limits)
    what = f"{shape.threads} threads x {shape.per_thread} calls"
    return Load(what, thread_load(chatmodels_chat_model, rows, limits), solo_answers, limits)


@pytest.fixture(scope="module")
def task_run(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    solo_answers: dict[int, Answer] | None,
) -> Load:
    """conc_async_tasks ainvoke/astream tasks on one loop."""
    _require_async(chatmodels_provider_metadata, "the async load")
    limits = Limits.of(chatmodels_settings)
    shape = Shape.of(chatmodels_settings)
    methods = call_methods(chatmodels_provider_metadata, asynchronous=True)
    calls = plan(range(shape.tasks), methods, limits.seed, "task {}".format)
    outcomes = run_loop(functools.partial(task_load, chatmodels_chat_model, calls, limits), limits)
    return Load(f"{shape.tasks} async tasks", outcomes, solo_answers, limits)


@pytest.fixture(scope="module")
def mixed_run(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    solo_answers: dict[int, Answer] | None,
) -> Load:
    """Threads calling invoke/stream while the loop runs ainvoke/astream, all at once."""
    _require_async(chatmodels_provider_metadata, "the mixed load")
    limits = Limits.of(chatmodels_settings)
    shape = Shape.of(chatmodels_settings)
    rows = thread_rows(
        shape.mixed_threads,
        shape.mixed_per_thread,
        call_methods(chatmodels_provider_metadata, asynchronous=False),
        limits,
    )
    first = shape.mixed_threads * shape.mixed_per_thread
    tasks = plan(
        range(first, first + shape.mixed_tasks),
        call_methods(chatmodels_provider_metadata, asynchronous=True),
        limits.seed,
        "task {}".format,
    )
    what = (
        f"{shape.mixed_threads} threads x {shape.mixed_per_thread} calls alongside "
        f"{shape.mixed_tasks} async tasks"
    )
    return Load(what, mixed_load(chatmodels_chat_model, rows, tasks, limits), solo_answers, limits)


# -- CONC-001..003: each load judged three ways ---------------------------------------------

_LOADS = [
    pytest.param("thread_run", id="threads"),
    pytest.param("task_run", id="tasks", marks=pytest.mark.capability("async")),
    pytest.param("mixed_run", id="mixed", marks=pytest.mark.capability("async")),
]


@pytest.mark.requirement("CONC-001")
@pytest.mark.parametrize("load_fixture", _LOADS)
def test_every_concurrent_call_returns_a_valid_result(
    load_fixture: str, request: pytest.FixtureRequest
) -> None:
    """Every call made from many threads, tasks, or both at once returns a valid answer."""
    load: Load = request.getfixturevalue(load_fixture)
    problems = not_answered(load.outcomes)
    check(
        load.limits,
        problems,
        f"{len(problems)} of {len(load.outcomes)} calls under {load.what} did not return a "
        "valid answer; expected every call to answer",
    )


@pytest.mark.requirement("CONC-002")
@pytest.mark.parametrize("load_fixture", _LOADS)
def test_every_concurrent_caller_gets_its_own_answer(
    load_fixture: str, request: pytest.FixtureRequest
) -> None:
    """Each caller gets its own answer, response id and usage, never a neighbour's."""
    load: Load = request.getfixturevalue(load_fixture)
    if load.solo is not None and not load.solo:
        inconclusive(
            "no prompt could be answered alone, so the concurrent answers had nothing to be "
            "compared with"
        )
    answers = answered(load.outcomes)
    problems, compared = _solo_problems(request, answers, load)
    problems += shared_ids(answers)
    unusable: str | None = request.getfixturevalue("usage_evidence")
    if unusable is None:
        problems += usage_crossings(answers)
    headline = (
        f"under {load.what}, {len(problems)} checks found an answer, response id or usage "
        "that belonged to another caller"
    )
    check(load.limits, problems, headline)
    if unusable is not None and not compared:
        inconclusive(
            f"under {load.what} every response id was unique, but answers could not be traced "
            f"to their callers: {unusable}; and answers alone are only compared for a provider "
            "declaring 'deterministic'"
        )


def _solo_problems(
    request: pytest.FixtureRequest, answers: list[tuple[Call, Answer]], load: Load
) -> tuple[list[str], bool]:
    """Answers that differ from their prompt asked alone, and whether the comparison holds.

    On a difference, the prompt is asked truly alone twice: a provider whose answers vary
    alone cannot be judged by comparison, so the comparison is dropped rather than failed.
    """
    if not load.solo:
        return [], False
    mismatches = solo_mismatches(answers, load.solo)
    if mismatches:
        model: ChatModel = request.getfixturevalue("chatmodels_chat_model")
        metadata: ProviderMetadata = request.getfixturevalue("chatmodels_provider_metadata")
        call, _, alone = mismatches[0]
        again = _alone(call.index, call_methods(metadata, asynchronous=False), load.limits.seed)
        ask_again = functools.partial(call_sync, model, again)
        fresh = ask_again().answer
        if (
            fresh is None
            or unrepeatable(fresh, lambda: ask_again().answer, again.method, _same_view) is not None
        ):
            return [], False
        if _same_view(fresh) != _same_view(alone):
            # The solo answer (asked while other solo callers ran) was itself off; judge the
            # first mismatch by the prompt asked truly alone, which repeats.
            mismatches = [
                (c, a, fresh) for c, a, _ in mismatches[:1] if _same_view(a) != _same_view(fresh)
            ]
    return [
        f"{call.label} got {answer.short}; alone the same input gives {alone.short}"
        for call, answer, alone in mismatches
    ], True


def _same_view(answer: object) -> object:
    """What two answers to one input must share: all but the response id."""
    if not isinstance(answer, Answer):
        return answer
    return (answer.text, answer.tool_calls, answer.finish_reason, answer.usage)


@pytest.mark.requirement("CONC-003")
@pytest.mark.parametrize("load_fixture", _LOADS)
def test_concurrent_failures_are_chat_model_errors(
    load_fixture: str, request: pytest.FixtureRequest
) -> None:
    """No exception other than ChatModelError escapes a call made under concurrency."""
    load: Load = request.getfixturevalue(load_fixture)
    problems = foreign_errors(load.outcomes)
    check(
        load.limits,
        problems,
        f"under {load.what}, {len(problems)} calls raised an exception that is not a "
        "ChatModelError; expected failures only as ChatModelError",
    )


@pytest.mark.requirement("CONC-003")
def test_concurrent_upstream_failures_are_chat_model_errors(
    chatmodels_subject: Subject,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """Upstream failures of every code (the fault hook), met by threads and tasks at once,
    raise only ChatModelError."""
    hooked = hooked_models(chatmodels_subject, "CONC-003")
    limits = Limits.of(chatmodels_settings)
    shape = Shape.of(chatmodels_settings)
    metadata = chatmodels_provider_metadata
    problems: list[str] = []
    # A quarter of the mixed load per code (4 threads + 16 tasks by default) keeps it cheap.
    threads, tasks = max(2, shape.mixed_threads // 4), max(2, shape.mixed_tasks // 4)
    try:
        for code, model in hooked.models.items():
            rows = thread_rows(threads, 1, call_methods(metadata, asynchronous=False), limits)
            if metadata.supports(Capability.ASYNC):
                calls = plan(
                    range(threads, threads + tasks),
                    call_methods(metadata, asynchronous=True),
                    limits.seed,
                    "task {}".format,
                )
                outcomes = mixed_load(model, rows, calls, limits)
            else:
                outcomes = thread_load(model, rows, limits)
            problems += [f"fault_code={code.value!r}: {p}" for p in foreign_errors(outcomes)]
    finally:
        hooked.close(chatmodels_settings.float("call_timeout"))
    check(
        limits,
        problems,
        f"{len(problems)} calls on a failing upstream raised an exception that is not a "
        "ChatModelError under concurrency; expected failures only as ChatModelError",
    )
    hooked.skip_if_incomplete()


# -- CONC-004: the loop keeps running ------------------------------------------------------


async def _watched(model: ChatModel, calls: list[Call], limits: Limits) -> Evidence:
    async with LoopWatch(_HEARTBEAT, _HEARTBEAT) as watch:
        await task_load(model, calls, limits)
    return watch.evidence()


@pytest.mark.requirement("CONC-004")
def test_async_calls_never_block_the_event_loop(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
    chatmodels_record_figure: Any,
) -> None:
    """While up to 64 async calls run, no stall of the loop is spent in a blocking call."""
    limits = Limits.of(chatmodels_settings)
    count = max(1, min(_HEARTBEAT_CALLS, chatmodels_settings.int("conc_async_tasks")))
    methods = call_methods(chatmodels_provider_metadata, asynchronous=True)
    unexplained = ""
    for attempt in range(_ATTEMPTS):  # an unexplained stall is measured again, a block is not
        calls = plan(
            range(count),
            methods,
            limits.seed,
            "task {}".format,
        )
        evidence = run_loop(
            functools.partial(_watched, chatmodels_chat_model, calls, limits), limits
        )
        explained = all(stall.explained for stall in evidence.over(_MIN_GAP_BOUND))
        if evidence.blocking or explained or attempt == _ATTEMPTS - 1:
            chatmodels_record_figure(
                "loop_max_gap",
                evidence.largest_gap,
                "s",
                detail=f"{count} concurrent async calls; heartbeat every 5 ms",
            )
        check(
            limits,
            [evidence.blocking_summary()] if evidence.blocking else [],
            f"an async call blocks the event loop: {count} concurrent async calls "
            f"stalled it for up to {evidence.largest_gap * 1000:.0f} ms inside a blocking call; "
            "expected async code to await its I/O or run blocking work in a thread",
        )
        if explained:
            return
        unexplained = evidence.unexplained_summary(_MIN_GAP_BOUND)
    inconclusive(
        f"in each of {_ATTEMPTS} attempts the loop stalled with no blocking frame and no sign "
        f"of a busy CPU: {unexplained}"
    )
