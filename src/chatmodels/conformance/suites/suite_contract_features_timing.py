"""Contract suite, part two: cancellation (CANCEL) and per-call timeouts (TIMEOUT).

When the provider takes a ``latency`` option the suite re-creates it slowed down, so calls are
still running when cancelled or at their deadline; otherwise it uses a fresh model as is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import (
    CallOutcome,
    abounded,
    aread_stream,
    bounded,
    call_within,
    read_stream,
    run_async,
)
from chatmodels.conformance.suites._contract_features_support import (
    PLAIN_PROMPT,
    latency_option,
    result_problem,
    slow_model,
)
from chatmodels.conformance.suites._evidence import inconclusive
from chatmodels.conformance.suites._loop_watch import runqueue_now
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.provider import Capability, ChatModel, Provider, ProviderMetadata

#: Cancelling must give control back within this many seconds (the requirement's bound).
CANCEL_BOUND = 1.0
#: How long a call runs before the suite cancels it: long enough to be in flight, short
#: enough that a fast local server has not answered yet.
START_DELAY = 0.001
#: Latency for CANCEL-002: enough to be in flight at the cancel, short for the calls after.
SHORT_LATENCY = 0.2
#: The per-call timeout used on a slowed-down model, and on one that cannot be slowed.
SLOW_TIMEOUT = 0.05
FAST_TIMEOUT = 0.001
#: Past its deadline and slack, a call still gets this long to end before it is judged hung,
#: so that an ending delayed by a busy machine can be told apart from a missed deadline.
HANG_GRACE = 5.0

MakeModel = Callable[[float], tuple[ChatModel, bool]]
T = TypeVar("T")


@pytest.fixture
def model_with_latency(
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_make_provider: Callable[..., Provider],
    chatmodels_make_chat_model: Callable[..., ChatModel],
    chatmodels_chat_model: ChatModel,
) -> Iterator[MakeModel]:
    """Make a model slowed to a latency when the provider allows it; tell whether it is slowed."""
    made: list[ChatModel] = []

    def make(latency: float) -> tuple[ChatModel, bool]:
        if not latency_option(chatmodels_provider_metadata):
            return chatmodels_make_chat_model(), False
        model = slow_model(chatmodels_make_provider, chatmodels_chat_model.model, latency)
        made.append(model)
        return model, True

    yield make
    for model in made:
        bounded(model.close, "close()")


@dataclass(frozen=True, slots=True)
class Cancelled:
    """What happened to a call cancelled START_DELAY after it started."""

    verdict: str  # "ok", "finished_first", or a failure message
    late: float


async def _cancel_after_start(start: Callable[[], Awaitable[object]], what: str) -> Cancelled:
    loop = asyncio.get_running_loop()
    requested = loop.time() + START_DELAY
    task = asyncio.ensure_future(start())
    await asyncio.sleep(START_DELAY)
    late = loop.time() - requested
    if task.done():
        if late > CANCEL_BOUND:
            return Cancelled(
                f"{what} blocked the event loop: a {START_DELAY:g}s timer fired {late:.2f}s late; "
                "expected the call to await instead of blocking",
                late,
            )
        return Cancelled("finished_first", late)
    task.cancel()
    await asyncio.wait({task}, timeout=CANCEL_BOUND)
    late = loop.time() - requested
    if not task.done() or late > CANCEL_BOUND:
        return Cancelled(
            f"{what} was still running {late:.2f}s after it was cancelled; expected it to end "
            f"within {CANCEL_BOUND:g}s",
            late,
        )
    if task.cancelled():
        return Cancelled("ok", late)
    error = task.exception()
    got = "returned a result" if error is None else f"raised {describe_raised(error)}"
    return Cancelled(
        f"{what}, cancelled in flight, {got}; expected asyncio.CancelledError to propagate "
        "(asyncio.timeout and task groups rely on it)",
        late,
    )


def _starter(model: ChatModel, entry: str) -> Callable[[], Awaitable[object]]:
    if entry == "ainvoke":
        return lambda: model.ainvoke(PLAIN_PROMPT)
    return lambda: aread_stream(model.astream(PLAIN_PROMPT))


@pytest.mark.requirement("CANCEL-001")
@pytest.mark.parametrize("entry", ["ainvoke", "astream"])
def test_cancelling_returns_promptly(
    entry: str,
    model_with_latency: MakeModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """Cancelling an in-flight call ends it within 1 s, without blocking the event loop."""
    capability = Capability.ASYNC if entry == "ainvoke" else Capability.STREAMING
    if not chatmodels_provider_metadata.supports(capability):
        pytest.skip(
            f"provider {chatmodels_provider_metadata.name!r} does not declare {capability.value!r}"
        )
    latency = chatmodels_settings.float("cancel_latency")
    model, _ = model_with_latency(latency)
    start = _starter(model, entry)
    outcome = abounded(
        lambda: _cancel_after_start(start, f"{entry}()"),
        f"a cancelled {entry}()",
        latency + CANCEL_BOUND + 5,
    )
    assert outcome.finished, outcome.hang_message()
    if outcome.error is not None:
        raise outcome.error
    result = outcome.value
    assert result is not None
    if result.verdict == "finished_first":
        pytest.skip(f"{INCONCLUSIVE}{entry}() finished before it could be cancelled")
    assert result.verdict == "ok", result.verdict


@pytest.mark.requirement("CANCEL-002")
@pytest.mark.capability("async")
def test_model_works_after_cancellation(
    model_with_latency: MakeModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """After cancelled ainvoke and astream calls, the same model answers ainvoke and invoke."""
    model, _ = model_with_latency(SHORT_LATENCY)
    entries = ["ainvoke"]
    if chatmodels_provider_metadata.supports(Capability.STREAMING):
        entries.append("astream")

    async def scenario() -> object:
        for entry in entries:
            await _cancel_after_start(_starter(model, entry), entry)
        return await model.ainvoke(PLAIN_PROMPT)

    try:
        result = run_async(scenario, "ainvoke after cancellations")
    except ChatModelError as exc:
        msg = f"after cancelled {' and '.join(entries)} calls, ainvoke raised {exc!r}"
        raise AssertionError(msg + "; expected the model to keep working") from exc
    assert result_problem(result) is None, f"ainvoke after cancellation {result_problem(result)}"
    try:
        again = call_within(lambda: model.invoke(PLAIN_PROMPT), "invoke after cancellations")
    except ChatModelError as exc:
        msg = f"after cancelled calls, invoke raised {exc!r}; expected the model to keep working"
        raise AssertionError(msg) from exc
    assert result_problem(again) is None, f"invoke after cancellation {result_problem(again)}"


Timed = Callable[[str, float], CallOutcome[object]]


def _check_timeout(
    call: Timed, waits: list[float | None], timeout: float, slack: float, what: str
) -> None:
    """Judge one call with a timeout; lateness the call's thread spent waiting for a CPU is the
    machine's, not the provider's."""
    bound = timeout + slack
    outcome = call(what, bound + HANG_GRACE)
    assert outcome.finished, (
        f"{what} with timeout={timeout:g}s was still running after {bound + HANG_GRACE:g}s; "
        "expected it to end at its deadline with code 'timeout'"
    )
    late = outcome.elapsed - bound
    waited = waits[0] if waits else None
    if late > 0:
        if waited is None:
            inconclusive(
                f"{what} with timeout={timeout:g}s ended {outcome.elapsed:.2f}s after it "
                f"started, past its {slack:g}s slack, and this system cannot tell how long the "
                "call waited for a CPU"
            )
        assert late <= waited, (
            f"{what} with timeout={timeout:g}s ended after {outcome.elapsed:.2f}s, "
            f"{late:.2f}s past its deadline plus {slack:g}s slack, of which only "
            f"{waited:.2f}s was spent waiting for a CPU; expected it to end at its deadline "
            "with code 'timeout'"
        )
    error = outcome.error
    if error is None:
        return  # it beat its deadline, which a timeout allows
    if isinstance(error, ChatModelError):
        assert error.code is ErrorCode.TIMEOUT, (
            f"{what} with timeout={timeout:g}s raised code {error.code.value!r} "
            f"({error.message!r}); expected 'timeout'"
        )
        return
    msg = f"{what} with timeout={timeout:g}s raised {describe_raised(error)}"
    raise AssertionError(msg + "; expected a ChatModelError with code 'timeout'")


def _measured(call: Callable[[], T], waits: list[float | None]) -> Callable[[], T]:
    """Wrap *call* so the time its thread waits runnable for a CPU lands in *waits*."""

    def run() -> T:
        before = runqueue_now()
        try:
            return call()
        finally:
            after = runqueue_now()
            waits.append(None if before is None or after is None else after - before)

    return run


def _timeout_call(model: ChatModel, entry: str, timeout: float, waits: list[float | None]) -> Timed:
    options = {"timeout": timeout}

    def on_loop(main: Callable[[], Awaitable[object]]) -> Callable[[], object]:
        return _measured(lambda: asyncio.run(_await(main)), waits)

    calls: dict[str, Timed] = {
        "invoke": lambda what, bound: bounded(
            _measured(lambda: model.invoke(PLAIN_PROMPT, options), waits), what, bound
        ),
        "stream": lambda what, bound: bounded(
            _measured(lambda: read_stream(model.stream(PLAIN_PROMPT, options)), waits),
            what,
            bound,
        ),
        "ainvoke": lambda what, bound: bounded(
            on_loop(lambda: model.ainvoke(PLAIN_PROMPT, options)), what, bound
        ),
        "astream": lambda what, bound: bounded(
            on_loop(lambda: aread_stream(model.astream(PLAIN_PROMPT, options))), what, bound
        ),
    }
    return calls[entry]


async def _await(main: Callable[[], Awaitable[object]]) -> object:
    return await main()


def _run_timeout_case(
    entry: str,
    capability: Capability | None,
    model_with_latency: MakeModel,
    provider_metadata: ProviderMetadata,
    settings: Settings,
) -> None:
    if capability is not None and not provider_metadata.supports(capability):
        pytest.skip(f"provider {provider_metadata.name!r} does not declare {capability.value!r}")
    model, slowed = model_with_latency(settings.float("timeout_latency"))
    timeout = SLOW_TIMEOUT if slowed else FAST_TIMEOUT
    waits: list[float | None] = []
    call = _timeout_call(model, entry, timeout, waits)
    _check_timeout(call, waits, timeout, settings.float("timeout_slack"), f"{entry}()")


@pytest.mark.requirement("TIMEOUT-001")
@pytest.mark.parametrize("entry", ["invoke", "stream"])
def test_sync_timeout_is_honoured(
    entry: str,
    model_with_latency: MakeModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """A call slower than its timeout ends at the deadline with code 'timeout'."""
    capability = Capability.STREAMING if entry == "stream" else None
    _run_timeout_case(
        entry, capability, model_with_latency, chatmodels_provider_metadata, chatmodels_settings
    )


@pytest.mark.requirement("TIMEOUT-002")
@pytest.mark.parametrize("entry", ["ainvoke", "astream"])
def test_async_timeout_is_honoured(
    entry: str,
    model_with_latency: MakeModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """An async call slower than its timeout ends at the deadline with code 'timeout'."""
    capability = Capability.STREAMING if entry == "astream" else Capability.ASYNC
    _run_timeout_case(
        entry, capability, model_with_latency, chatmodels_provider_metadata, chatmodels_settings
    )
