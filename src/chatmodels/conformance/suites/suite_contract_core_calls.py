"""Contract suite, core calls: what invoke returns, and the async twins agreeing with it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import call_limit, run_async
from chatmodels.conformance.suites._contract_core_support import (
    PROMPT,
    abatch,
    ainvoke,
    assert_answer,
    astream,
    batch,
    comparable,
    describe,
    invoke,
    stream,
)
from chatmodels.conformance.suites._loop_watch import Evidence, LoopWatch
from chatmodels.messages import ChatResult, FinishReason, merge_chunks
from chatmodels.options import OptionsLike
from chatmodels.provider import Capability, ChatModel, ProviderMetadata


def _option_cases(metadata: ProviderMetadata) -> list[OptionsLike]:
    """Requests whose answers must not depend on the calling style."""
    cases: list[OptionsLike] = [None, {"temperature": 0}]
    if metadata.supports(Capability.MAX_TOKENS):
        cases.append({"max_tokens": 5})
    if metadata.supports(Capability.STOP_SEQUENCES):
        cases.append({"stop": ["three"]})
    return cases


def _assert_same(
    got: ChatResult, want: ChatResult, options: OptionsLike, got_how: str, want_how: str
) -> None:
    assert comparable(got) == comparable(want), (
        f"with options {options!r} {got_how} {comparable(got)!r} but {want_how} "
        f"{comparable(want)!r}; expected the same (text, tool calls, finish reason, usage)"
    )


#: ASYNC-005: sequential calls watched, and how often the heartbeat ticks while they run.
_ASYNC_CALLS, _ASYNC_HEARTBEAT = 6, 0.001


def _result(model: ChatModel) -> ChatResult:
    result = invoke(model, PROMPT)
    assert isinstance(result, ChatResult), f"invoke returned {describe(result)}; expected a result"
    return result


# -- CORE ------------------------------------------------------------------------------


@pytest.mark.requirement("CORE-001")
def test_invoke_returns_an_assistant_answer(chatmodels_chat_model: ChatModel) -> None:
    """invoke answers a plain prompt with an assistant message carrying text or tool calls."""
    assert_answer(invoke(chatmodels_chat_model, PROMPT), "invoke")


@pytest.mark.requirement("CORE-002")
def test_invoke_reports_one_valid_finish_reason(chatmodels_chat_model: ChatModel) -> None:
    """The finish reason is valid, not 'error' on success, and 'tool_calls' only with calls."""
    result = _result(chatmodels_chat_model)
    reason: Any = result.finish_reason
    allowed = ", ".join(repr(r.value) for r in FinishReason)
    assert isinstance(reason, FinishReason), (
        f"invoke reported finish_reason {reason!r}; expected exactly one of {allowed}"
    )
    assert reason is not FinishReason.ERROR, (
        "invoke returned a result with finish_reason 'error'; a failed call must raise a "
        "ChatModelError instead of returning"
    )
    if reason is FinishReason.TOOL_CALLS:
        assert result.message.tool_calls, (
            "invoke reported finish_reason 'tool_calls' but the message has no tool calls; "
            "expected 'stop' or 'length' for a text answer"
        )


@pytest.mark.requirement("CORE-003")
def test_result_names_the_model(chatmodels_chat_model: ChatModel) -> None:
    """The result's model is a non-empty string naming the model that answered."""
    model: Any = _result(chatmodels_chat_model).model
    assert isinstance(model, str), f"result.model is {model!r}; expected a string"
    assert model.strip(), f"result.model is {model!r}; expected the name of the model"


@pytest.mark.requirement("CORE-004")
def test_result_has_a_response_id(chatmodels_chat_model: ChatModel) -> None:
    """The result carries a non-empty response id."""
    response_id: Any = _result(chatmodels_chat_model).response_id
    assert isinstance(response_id, str), f"result.response_id is {response_id!r}; expected a str"
    assert response_id.strip(), f"result.response_id is {response_id!r}; expected a non-empty id"


# -- ASYNC -----------------------------------------------------------------------------


@pytest.mark.requirement("ASYNC-001")
@pytest.mark.capability("deterministic")
def test_ainvoke_matches_invoke(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """ainvoke gives invoke's text, tool calls, finish reason and usage for the same request."""
    for options in _option_cases(chatmodels_provider_metadata):
        sync = invoke(chatmodels_chat_model, PROMPT, options)
        got = ainvoke(chatmodels_chat_model, PROMPT, options)
        assert isinstance(got, ChatResult), f"ainvoke returned {describe(got)}; expected a result"
        _assert_same(got, sync, options, "ainvoke answered", "invoke answered")


@pytest.mark.requirement("ASYNC-002")
@pytest.mark.capability("streaming", "deterministic")
def test_astream_matches_stream(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """astream's chunks merge into the same answer as stream's for the same request."""
    for options in _option_cases(chatmodels_provider_metadata):
        sync = merge_chunks(stream(chatmodels_chat_model, PROMPT, options))
        chunks = astream(chatmodels_chat_model, PROMPT, options)
        _assert_same(merge_chunks(chunks), sync, options, "astream merged to", "stream merged to")


@pytest.mark.requirement("ASYNC-003")
@pytest.mark.capability("batch", "deterministic")
def test_abatch_matches_batch(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """abatch answers each item as batch does, for each set of options."""
    inputs = [PROMPT, "Name one planet.", "What colour is the sky?"]
    for options in _option_cases(chatmodels_provider_metadata):
        sync = batch(chatmodels_chat_model, inputs, options)
        got = abatch(chatmodels_chat_model, inputs, options)
        assert len(got) == len(sync), (
            f"abatch returned {len(got)} items and batch {len(sync)} for {len(inputs)} inputs"
        )
        for index, (a, b) in enumerate(zip(got, sync, strict=True)):
            view_a = comparable(a) if isinstance(a, ChatResult) else describe(a)
            view_b = comparable(b) if isinstance(b, ChatResult) else describe(b)
            assert view_a == view_b, (
                f"with options {options!r} item {index}: abatch gave {view_a!r}, batch gave "
                f"{view_b!r}; expected the same answer"
            )


@pytest.mark.requirement("ASYNC-004")
def test_sync_calls_work_in_a_running_loops_worker_thread(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """invoke (and stream) called through loop.run_in_executor answer normally."""
    timeout = call_limit()

    async def from_worker() -> list[object]:
        loop = asyncio.get_running_loop()
        calls: list[Any] = [lambda: chatmodels_chat_model.invoke(PROMPT)]
        if chatmodels_provider_metadata.supports(Capability.STREAMING):
            calls.append(lambda: merge_chunks(chatmodels_chat_model.stream(PROMPT)))
        return [await asyncio.wait_for(loop.run_in_executor(None, call), timeout) for call in calls]

    # A private loop: its close() does not wait for a worker stuck in a hung provider.
    loop = asyncio.new_event_loop()
    try:
        results = loop.run_until_complete(from_worker())
    except asyncio.TimeoutError:
        pytest.fail(f"a sync call from the loop's worker thread did not return within {timeout}s")
    except Exception as exc:
        pytest.fail(
            f"a sync call from a running loop's worker thread raised {describe_raised(exc)}; "
            "expected an answer"
        )
    finally:
        loop.close()
    for result, what in zip(results, ("invoke", "stream")[: len(results)], strict=True):
        assert_answer(result, f"{what} from a loop's worker thread")


@pytest.mark.requirement("ASYNC-005")
def test_ainvoke_lets_other_tasks_run(
    chatmodels_chat_model: ChatModel, chatmodels_settings: Settings
) -> None:
    """No moment of an ainvoke's wait is spent in a blocking call on the loop thread."""
    threshold = chatmodels_settings.float("async_blocking_threshold")

    async def measure() -> tuple[Evidence, float]:
        async with LoopWatch(_ASYNC_HEARTBEAT, threshold) as watch:
            start = time.perf_counter()
            for _ in range(_ASYNC_CALLS):
                await chatmodels_chat_model.ainvoke(PROMPT)
            elapsed = time.perf_counter() - start
        return watch.evidence(), elapsed / _ASYNC_CALLS

    evidence, per_call = run_async(measure, f"{_ASYNC_CALLS} ainvoke() calls under a loop watch")
    if evidence.blocking:
        pytest.fail(
            f"ainvoke held the event loop in a blocking call (stalls up to "
            f"{evidence.largest_gap * 1000:.1f} ms): {evidence.blocking_summary()}; expected it "
            "to await its I/O or run blocking work in a thread"
        )
    if per_call < threshold and not evidence.stalls:
        # A whole call shorter than the watch threshold cannot hold the loop longer than it,
        # and no stall was seen: the requirement (no stall of the loop) holds.
        return
