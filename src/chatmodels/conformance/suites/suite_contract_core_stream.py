"""Contract suite, streams: deltas, finish reason, usage, ids, closing early and tool deltas."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import (
    CallOutcome,
    bounded,
    call_limit,
    call_within,
    run_async,
)
from chatmodels.conformance.suites._contract_core_support import (
    LONG_PROMPT,
    PROMPT,
    assert_answer,
    comparable,
    finish_indexes,
    invoke,
    is_empty_chunk,
    stream,
)
from chatmodels.errors import ChatModelError
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, merge_chunks
from chatmodels.options import ToolSpec
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

WEATHER_TOOL = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city name"}},
        "required": ["city"],
    },
)
TOOL_PROMPT = "Use the get_weather tool to look up the weather in Paris."


def _stream(model: ChatModel, prompt: str = PROMPT) -> list[ChatChunk]:
    chunks = stream(model, prompt)
    assert chunks, "stream() yielded no chunks; expected at least one carrying the finish reason"
    return chunks


def _positions(chunks: list[ChatChunk], has: Callable[[ChatChunk], object]) -> list[int]:
    return [i + 1 for i, c in enumerate(chunks) if has(c)]


# -- content ---------------------------------------------------------------------------


@pytest.mark.requirement("STREAM-001")
@pytest.mark.capability("deterministic")
def test_stream_deltas_concatenate_to_invoke_text(chatmodels_chat_model: ChatModel) -> None:
    """The deltas of a stream, joined, are exactly invoke's text, whitespace included."""
    for prompt in (PROMPT, LONG_PROMPT):
        expected = invoke(chatmodels_chat_model, prompt).message.content
        joined = "".join(c.delta for c in _stream(chatmodels_chat_model, prompt))
        assert joined == expected, (
            f"the stream's deltas join to {joined!r} but invoke answered {expected!r}; "
            "expected the same text"
        )


@pytest.mark.requirement("STREAM-002")
def test_stream_has_one_finish_reason_on_the_last_chunk(chatmodels_chat_model: ChatModel) -> None:
    """Exactly one chunk carries a finish reason, it is valid, and it is the last chunk."""
    chunks = _stream(chatmodels_chat_model, LONG_PROMPT)
    where = finish_indexes(chunks)
    assert where == [len(chunks) - 1], (
        f"stream gave a finish_reason on chunk(s) {[i + 1 for i in where]} of {len(chunks)}; "
        "expected it on the last chunk only"
    )
    reason: Any = chunks[-1].finish_reason
    assert isinstance(reason, FinishReason), (
        f"the last chunk's finish_reason is {reason!r}; expected a FinishReason"
    )


@pytest.mark.requirement("STREAM-003")
@pytest.mark.capability("streaming")
def test_stream_usage_is_on_the_final_chunk_only(chatmodels_chat_model: ChatModel) -> None:
    """Only the last chunk reports usage."""
    chunks = _stream(chatmodels_chat_model, LONG_PROMPT)
    where = _positions(chunks, lambda c: c.usage is not None)
    assert where == [len(chunks)], (
        f"stream reported usage on chunk(s) {where} of {len(chunks)}; expected it on the "
        "final chunk only"
    )


@pytest.mark.requirement("STREAM-003")
@pytest.mark.capability("streaming", "deterministic")
def test_stream_usage_equals_invoke_usage(chatmodels_chat_model: ChatModel) -> None:
    """The final chunk's usage equals invoke's usage for the same request."""
    expected = invoke(chatmodels_chat_model, LONG_PROMPT).usage
    got = _stream(chatmodels_chat_model, LONG_PROMPT)[-1].usage
    assert expected is not None, "invoke reported no usage though the provider declares 'usage'"
    assert got is not None, "the final chunk reports no usage; expected invoke's usage"
    pair = (got.input_tokens, got.output_tokens, got.total_tokens)
    want = (expected.input_tokens, expected.output_tokens, expected.total_tokens)
    assert pair == want, (
        f"the stream reported (input, output, total) tokens {pair} but invoke reported {want}; "
        "expected the same usage"
    )


@pytest.mark.requirement("STREAM-004")
def test_stream_names_one_response_id(chatmodels_chat_model: ChatModel) -> None:
    """At least one chunk names a response id, and every chunk that names one names the same."""
    chunks = _stream(chatmodels_chat_model, LONG_PROMPT)
    ids = [c.response_id for c in chunks if c.response_id]
    assert ids, f"none of the {len(chunks)} chunks names a response id; expected one id"
    distinct = list(dict.fromkeys(ids))
    assert len(distinct) == 1, (
        f"the chunks of one stream name {len(distinct)} response ids {distinct[:4]!r}; "
        "expected the same id on every chunk that carries one"
    )


@pytest.mark.requirement("STREAM-008")
def test_stream_names_one_model(chatmodels_chat_model: ChatModel) -> None:
    """At least one chunk names the model, and every chunk that names one names the same."""
    chunks = _stream(chatmodels_chat_model, LONG_PROMPT)
    named = [(i, c.model) for i, c in enumerate(chunks) if c.model]
    assert named, f"none of the {len(chunks)} chunks names a model; expected one model name"
    first = named[0][1]
    changed = [(i, m) for i, m in named if m != first]
    assert not changed, (
        f"chunk {named[0][0]} of {len(chunks)} names model {first!r} but chunk(s) "
        + ", ".join(f"{i} name {m!r}" for i, m in changed[:4])
        + "; expected one model name per stream"
    )


@pytest.mark.requirement("STREAM-005")
def test_stream_has_no_empty_chunks(chatmodels_chat_model: ChatModel) -> None:
    """No chunk, mid-stream or trailing, is empty."""
    chunks = _stream(chatmodels_chat_model, LONG_PROMPT)
    empty = _positions(chunks, is_empty_chunk)
    assert not empty, (
        f"chunk(s) {empty} of {len(chunks)} carry no text, tool delta, finish reason or usage; "
        "expected no empty keep-alive or trailing chunks"
    )


# -- closing early -----------------------------------------------------------------------


def _check_usable(outcome: CallOutcome[Any], how: str) -> None:
    if not outcome.finished:
        pytest.fail(f"after {how}, {outcome.hang_message()}")
    if outcome.error is not None:
        pytest.fail(
            f"after {how}, the next {outcome.what} raised {outcome.error!r}; expected the model "
            "to stay usable"
        )
    assert_answer(outcome.value, f"invoke after {how}")


@pytest.mark.requirement("STREAM-006")
def test_closing_a_stream_early_releases_it(
    chatmodels_make_chat_model: Callable[..., ChatModel], chatmodels_settings: Settings
) -> None:
    """close() after the first chunk returns promptly, and the model answers the next call."""
    model = chatmodels_make_chat_model()
    limit = chatmodels_settings.float("stream_close_timeout")
    iterator = call_within(lambda: iter(model.stream(LONG_PROMPT)), "stream()")
    first = call_within(lambda: next(iterator), "the first next() of stream()")
    assert isinstance(first, ChatChunk), f"the first next() gave {first!r}; expected a ChatChunk"
    close = getattr(iterator, "close", None)
    if close is not None:
        closed = bounded(close, "close() of an abandoned stream", limit)
        assert closed.finished, closed.hang_message()
        assert closed.error is None, f"close() raised {closed.error!r}"
        assert closed.elapsed <= limit, (
            f"close() took {closed.elapsed:.2f}s; expected at most {limit}s"
        )
    _check_usable(bounded(lambda: model.invoke(PROMPT), "invoke()"), "closing a stream early")


@pytest.mark.requirement("STREAM-006")
@pytest.mark.capability("async")
def test_aclosing_an_astream_early_releases_it(
    chatmodels_make_chat_model: Callable[..., ChatModel], chatmodels_settings: Settings
) -> None:
    """aclose() after the first chunk returns promptly, and the model answers the next call."""
    model = chatmodels_make_chat_model()
    limit = chatmodels_settings.float("stream_close_timeout")
    timeout = call_limit()

    async def scenario() -> tuple[float, object]:
        stream: Any = model.astream(LONG_PROMPT)
        first = await asyncio.wait_for(stream.__anext__(), timeout)
        assert isinstance(first, ChatChunk), f"the first chunk is {first!r}; expected a ChatChunk"
        start = time.perf_counter()
        try:
            await asyncio.wait_for(stream.aclose(), limit)
        except asyncio.TimeoutError:
            pytest.fail(f"aclose() of an abandoned astream did not return within {limit}s")
        took = time.perf_counter() - start
        try:
            answer = await asyncio.wait_for(model.ainvoke(PROMPT), timeout)
        except ChatModelError as exc:
            return took, exc
        return took, answer

    took, answer = run_async(scenario, "astream(), aclose() and ainvoke()", 2 * timeout + limit)
    assert took <= limit, f"aclose() took {took:.2f}s; expected at most {limit}s"
    if isinstance(answer, ChatModelError):
        pytest.fail(
            f"after aclosing an astream early, the next ainvoke() raised {answer!r}; expected "
            "the model to stay usable"
        )
    assert_answer(answer, "ainvoke after aclosing an astream early")


# -- tool-call deltas ----------------------------------------------------------------------


def _tool_options(metadata: ProviderMetadata) -> dict[str, Any]:
    options: dict[str, Any] = {"tools": [WEATHER_TOOL]}
    if metadata.supports(Capability.TOOL_CHOICE):
        options["tool_choice"] = WEATHER_TOOL.name
    return options


def _merged_tool_stream(model: ChatModel, metadata: ProviderMetadata) -> ChatResult:
    chunks = stream(model, TOOL_PROMPT, _tool_options(metadata))
    try:
        return merge_chunks(chunks)
    except ChatModelError as exc:
        pytest.fail(f"the streamed tool-call deltas do not assemble into a result: {exc}")


@pytest.mark.requirement("STREAM-007")
@pytest.mark.capability("streaming")
def test_streamed_tool_deltas_assemble_into_valid_calls(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Merged tool-call deltas give calls with unique ids, an offered name and JSON arguments."""
    merged = _merged_tool_stream(chatmodels_chat_model, chatmodels_provider_metadata)
    calls = merged.message.tool_calls
    if not calls:
        pytest.skip(INCONCLUSIVE + "the model streamed no tool call for a prompt asking for one")
    ids = [c.id for c in calls]
    assert all(ids), f"the assembled tool calls have ids {ids!r}; expected non-empty ids"
    assert len(set(ids)) == len(ids), f"the assembled tool calls have ids {ids!r}; expected unique"
    for call in calls:
        assert call.name == WEATHER_TOOL.name, (
            f"an assembled tool call names {call.name!r}; expected the offered "
            f"{WEATHER_TOOL.name!r} (fragments of one call must share an index)"
        )
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            pytest.fail(
                f"the assembled arguments of call {call.id!r} are not JSON: {call.arguments!r}"
            )
        assert isinstance(arguments, dict), (
            f"the assembled arguments of call {call.id!r} are {arguments!r}; expected an object"
        )


@pytest.mark.requirement("STREAM-007")
@pytest.mark.capability("streaming", "deterministic")
def test_streamed_tool_deltas_equal_invoke_calls(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """The assembled streamed tool calls have invoke's names and arguments."""
    expected = invoke(
        chatmodels_chat_model, TOOL_PROMPT, _tool_options(chatmodels_provider_metadata)
    )
    if not expected.message.tool_calls:
        pytest.skip(INCONCLUSIVE + "invoke made no tool call for a prompt asking for one")
    merged = _merged_tool_stream(chatmodels_chat_model, chatmodels_provider_metadata)
    got, want = comparable(merged)[1], comparable(expected)[1]
    assert got == want, (
        f"the streamed tool calls assemble to (name, arguments) {got!r} but invoke returned "
        f"{want!r}; expected the same calls"
    )
