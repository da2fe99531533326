"""Helpers shared by the contract suite, part one: bounded calls, answer checks, comparisons."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.suites._bounded import (
    aread_stream,
    bounded,
    call_within,
    contained,
    read_stream,
    run_async,
)
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.messages import ChatChunk, ChatResult, MessageLike, Role
from chatmodels.options import OptionsLike
from chatmodels.provider import BatchResult, ChatModel

T = TypeVar("T")
Prompt = Sequence[MessageLike] | str

PROMPT = "Name three colours of the rainbow, in one short sentence."
LONG_PROMPT = (
    "Write a long, detailed essay of at least two hundred words about the history of the "
    "bicycle, from the first designs to modern racing bikes."
)
UNICODE_PROMPT = "Say hello to this text: naïve café — 日本語 🚀👩🏽‍💻"


def invoke(model: ChatModel, messages: Prompt, options: OptionsLike = None) -> ChatResult:
    """invoke(), bounded by ``call_timeout``."""
    return call_within(lambda: model.invoke(messages, options), "invoke()")


def stream(model: ChatModel, messages: Prompt, options: OptionsLike = None) -> list[ChatChunk]:
    """Every chunk of stream(), read to its end and closed, bounded by ``call_timeout``."""
    return call_within(lambda: read_stream(model.stream(messages, options)), "stream()")


def batch(model: ChatModel, inputs: Sequence[Prompt], options: OptionsLike = None) -> BatchResult:
    """batch(), bounded by ``call_timeout``."""
    return call_within(lambda: model.batch(inputs, options), "batch()")


def ainvoke(model: ChatModel, messages: Prompt, options: OptionsLike = None) -> ChatResult:
    """ainvoke() on an event loop of its own, bounded by ``call_timeout``."""
    return run_async(lambda: model.ainvoke(messages, options), "ainvoke()")


def astream(model: ChatModel, messages: Prompt, options: OptionsLike = None) -> list[ChatChunk]:
    """Every chunk of astream(), read on an event loop of its own, bounded by ``call_timeout``."""
    return run_async(lambda: aread_stream(model.astream(messages, options)), "astream()")


def abatch(model: ChatModel, inputs: Sequence[Prompt], options: OptionsLike = None) -> BatchResult:
    """abatch() on an event loop of its own, bounded by ``call_timeout``."""
    return run_async(lambda: model.abatch(inputs, options), "abatch()")


def describe(result: object) -> str:
    """A short view of a result for assertion messages."""
    if isinstance(result, ChatResult):
        text = result.message.content
        shown = text if len(text) <= 80 else text[:77] + "..."
        return (
            f"ChatResult(text={shown!r}, tool_calls={len(result.message.tool_calls)}, "
            f"finish_reason={result.finish_reason!r})"
        )
    return repr(result)[:200]


def assert_answer(result: object, what: str) -> ChatResult:
    """Check *result* is an assistant answer with text or tool calls, and return it."""
    assert isinstance(result, ChatResult), (
        f"{what} returned {describe(result)}; expected a ChatResult"
    )
    role = result.message.role
    assert role is Role.ASSISTANT, f"{what} answered with role {role!r}; expected 'assistant'"
    assert result.message.content or result.message.tool_calls or result.message.refusal, (
        f"{what} returned an assistant message with empty content, no tool calls and no "
        "refusal; expected text, tool calls or a refusal"
    )
    return result


def comparable(result: ChatResult) -> tuple[object, ...]:
    """What two calls of a deterministic provider must agree on; ids may differ."""
    calls = tuple((c.name, _parsed(c.arguments)) for c in result.message.tool_calls)
    usage = result.usage
    tokens = None if usage is None else (usage.input_tokens, usage.output_tokens)
    return (result.message.content, calls, str(result.finish_reason), tokens)


def _parsed(arguments: str) -> object:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


def expect_error(
    call: Callable[[], object], code: ErrorCode, what: str, *, also: Iterable[ErrorCode] = ()
) -> ChatModelError:
    """Run *call* and return the ChatModelError it must raise with *code* (or one of *also*)."""
    allowed = {code, *also}
    names = " or ".join(sorted(repr(c.value) for c in allowed))
    error = outcome_of(call, what)
    if not isinstance(error, Exception):
        msg = f"{what} returned {describe(error)}; expected a ChatModelError with code {names}"
        raise AssertionError(msg)
    if not isinstance(error, ChatModelError):
        msg = f"{what} raised {describe_raised(error)}; expected a ChatModelError with code {names}"
        raise AssertionError(msg) from error
    assert error.code in allowed, (
        f"{what} raised ChatModelError with code {error.code.value!r} ({error.message!r}); "
        f"expected code {names}"
    )
    if error.code is ErrorCode.INVALID_INPUT:
        assert error.retryable is False, (
            f"{what} raised invalid_input with retryable=True; the same input fails again, so "
            "it must not be retryable"
        )
    return error


def outcome_of(call: Callable[[], object], what: str = "the call") -> object:
    """What *call* returned, or the exception it raised; bounded, a BaseException contained."""
    outcome = bounded(call, what)
    if outcome.timed_out:
        raise AssertionError(outcome.hang_message())
    if outcome.error is not None:
        return contained(outcome.error, what)
    return outcome.value


def finish_indexes(chunks: list[ChatChunk]) -> list[int]:
    """Positions of the chunks that carry a finish reason."""
    return [i for i, c in enumerate(chunks) if c.finish_reason is not None]


def is_empty_chunk(chunk: ChatChunk) -> bool:
    """A chunk with no text, reasoning, refusal, tool delta, finish or usage carries nothing."""
    return not (
        chunk.delta
        or chunk.reasoning
        or chunk.refusal
        or chunk.tool_call_deltas
        or chunk.finish_reason
        or chunk.usage
    )
