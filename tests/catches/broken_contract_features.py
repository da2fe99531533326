"""Deliberately broken providers for the contract suite, part two: one failure mode each.

Each ``*Provider`` is a provider factory for the conformance conftest; its model subclasses the
reference and overrides one step, so exactly the named requirement breaks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from chatmodels.errors import InvalidInputError, ServerError
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Message, Role, ToolCall
from chatmodels.options import ChatOptions, OptionsLike, ResponseFormat, ToolSpec, coerce_options
from chatmodels.provider import Capability, HealthStatus
from chatmodels.providers._reference_config import OPTION_NAMES
from chatmodels.providers.reference import (
    REFERENCE_METADATA,
    ReferenceChatModel,
    ReferenceProvider,
)
from scaffold import broken, catching

# -- TOOLS -------------------------------------------------------------------------------


class _DropsRequiredArgument(ReferenceChatModel):
    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        call = super()._tool_call(messages, options)
        if call is None:
            return None
        arguments = json.loads(call.arguments)
        for name in list(arguments)[:1]:  # a tool without parameters has none to drop
            del arguments[name]
        return dataclasses.replace(call, arguments=json.dumps(arguments))


BadToolArguments = broken(_DropsRequiredArgument, catches="TOOLS-001")


class _ToolCallsFinishWithStop(ReferenceChatModel):
    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        return dataclasses.replace(result, finish_reason=FinishReason.STOP)


ToolCallsFinishWithStop = broken(_ToolCallsFinishWithStop, catches="TOOLS-002")


class _IgnoresNamedToolChoice(ReferenceChatModel):
    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        if options.forced_tool is not None:
            options = dataclasses.replace(options, tool_choice="auto")
        return super()._tool_call(messages, options)


IgnoresNamedToolChoice = broken(_IgnoresNamedToolChoice, catches="TOOLS-003")


class _IgnoresToolChoiceNone(ReferenceChatModel):
    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        if options.tool_choice == "none":
            options = dataclasses.replace(options, tool_choice="auto")
        return super()._tool_call(messages, options)


IgnoresToolChoiceNone = broken(_IgnoresToolChoiceNone, catches="TOOLS-004")


class _CallsAnsweredToolAgain(ReferenceChatModel):
    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        if messages[-1].role is Role.TOOL and options.tools:
            options = dataclasses.replace(options, tool_choice=options.tools[0].name)
        return super()._tool_call(messages, options)


CallsAnsweredToolAgain = broken(_CallsAnsweredToolAgain, catches="TOOLS-005")


class _TreatsRequiredAsAuto(ReferenceChatModel):
    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        if options.tool_choice == "required":
            options = dataclasses.replace(options, tool_choice="auto")
        return super()._tool_call(messages, options)


TreatsRequiredAsAuto = broken(_TreatsRequiredAsAuto, catches="TOOLS-006")


# -- JSON --------------------------------------------------------------------------------


class _IgnoresJsonMode(ReferenceChatModel):
    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        text_options = dataclasses.replace(options, response_format=ResponseFormat.TEXT)
        return super()._invoke(messages, text_options)


IgnoresJsonMode = broken(_IgnoresJsonMode, catches="JSON-001")


class _StreamDropsFirstJsonChunk(ReferenceChatModel):
    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        if options.response_format is ResponseFormat.JSON and len(chunks) > 1:
            return chunks[1:]
        return chunks


StreamDropsJsonChunk = broken(_StreamDropsFirstJsonChunk, catches="JSON-002")


# -- ERR ---------------------------------------------------------------------------------

_ROLES = {"system": 0, "user": 1, "assistant": 2, "tool": 3}


class _BareKeyErrorOnUnknownRole(ReferenceChatModel):
    """Looks roles up in a table before validating, as a hand-rolled wire encoder might."""

    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        if isinstance(messages, list):
            for m in messages:
                if isinstance(m, Mapping) and "role" in m:
                    _ = _ROLES[m["role"]]
        return super()._prepare(op, messages, options)


BareKeyErrorOnUnknownRole = broken(_BareKeyErrorOnUnknownRole, catches="ERR-001")


class _RetryableInvalidInput(ReferenceChatModel):
    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        try:
            return super()._prepare(op, messages, options)
        except InvalidInputError as exc:
            raise InvalidInputError(exc.message, op=exc.op, retryable=True) from None


RetryableInvalidInput = broken(_RetryableInvalidInput, catches="ERR-002")


class _LeaksApiKey(ReferenceChatModel):
    api_key = ""

    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        try:
            return super()._prepare(op, messages, options)
        except InvalidInputError as exc:
            msg = f"{exc.message} (request sent with api_key={self.api_key})"
            raise InvalidInputError(msg, op=exc.op) from None


@catching("ERR-003")
class LeaksApiKey(ReferenceProvider):
    """Accepts a secret api_key option and prints it in its error messages."""

    metadata = dataclasses.replace(
        REFERENCE_METADATA,
        optional_options=(*OPTION_NAMES, "api_key"),
        secret_options=("api_key",),
    )

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> ReferenceChatModel:
        made = super().create_chat_model(model, options)
        made.api_key = str(self.options.get("api_key", ""))  # type: ignore[attr-defined]
        return made

    chat_model_class = _LeaksApiKey


# -- HEALTH ------------------------------------------------------------------------------


class _HangingHealthCheck(ReferenceChatModel):
    def _health_check(self) -> HealthStatus:
        time.sleep(3)
        return super()._health_check()


HangingHealthCheck = broken(_HangingHealthCheck, catches="HEALTH-001", health_timeout=0.2)


class _MalformedHealthStatus(ReferenceChatModel):
    def _health_check(self) -> HealthStatus:
        return HealthStatus("ok", -1)  # type: ignore[arg-type]


MalformedHealthStatus = broken(_MalformedHealthStatus, catches="HEALTH-002")


# -- META --------------------------------------------------------------------------------


class _DeclaresUsageWithoutIt(ReferenceChatModel):
    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        return dataclasses.replace(super()._answer(messages, options), usage=None)


DeclaresUsageWithoutIt = broken(_DeclaresUsageWithoutIt, catches="META-001")


class _SilentlyIgnoresJsonMode(ReferenceChatModel):
    """Does not declare json_mode, and drops the request instead of refusing it."""

    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        requested = coerce_options(options)
        if requested.response_format is ResponseFormat.JSON:
            options = dataclasses.replace(requested, response_format=ResponseFormat.TEXT)
        return super()._prepare(op, messages, options)


SilentlyIgnoresJsonMode = broken(
    _SilentlyIgnoresJsonMode,
    catches="META-002",
    capabilities=REFERENCE_METADATA.capabilities - {Capability.JSON_MODE},
)


EmptyVersion = broken(ReferenceChatModel, catches="META-003", version="")

# -- LIFE --------------------------------------------------------------------------------


class _CloseTwiceRaises(ReferenceChatModel):
    """aclose() after a close raises, as closing an already-closed async client can."""

    async def aclose(self) -> None:
        if self.closed:
            msg = "the connection pool is already closed"
            raise RuntimeError(msg)
        await super().aclose()


CloseTwiceRaises = broken(_CloseTwiceRaises, catches="LIFE-001")


class _UsableAfterClose(ReferenceChatModel):
    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        closed, self._closed = self._closed, False
        try:
            return super()._prepare(op, messages, options)
        finally:
            self._closed = closed


UsableAfterClose = broken(
    _UsableAfterClose,
    catches="LIFE-002",
    also={"LIFE-003", "LIFE-004"},
    because="the context-manager checks detect closing by a 'closed' error, which this model "
    "never raises",
)


class _WithDoesNotClose(ReferenceChatModel):
    def __exit__(self, *exc_info: object) -> None:
        return None


WithDoesNotClose = broken(_WithDoesNotClose, catches="LIFE-003")


class _AsyncWithDoesNotClose(ReferenceChatModel):
    async def __aexit__(self, *exc_info: object) -> None:
        return None


AsyncWithDoesNotClose = broken(_AsyncWithDoesNotClose, catches="LIFE-004")


# -- CANCEL ------------------------------------------------------------------------------


class _BlockingAsyncSleep(ReferenceChatModel):
    """Sleeps with time.sleep in async code, so the loop blocks and cannot cancel."""

    async def _await(self, seconds: float, budget: Any) -> None:
        pause, expired = budget.plan(seconds)
        time.sleep(pause)
        if expired:
            raise self._timeout_error(budget)


BlockingAsyncSleep = broken(_BlockingAsyncSleep, catches="CANCEL-001")


class _StuckAfterCancel(ReferenceChatModel):
    """Marks itself busy for a call and forgets to clear the mark when cancelled."""

    busy = False

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        if self.busy:
            msg = "another request is still in progress on this connection"
            raise ServerError(msg, op="ainvoke")
        self.busy = True
        result = await super()._ainvoke(messages, options)
        self.busy = False
        return result

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        if self.busy:
            msg = "another request is still in progress on this connection"
            raise ServerError(msg, op="invoke")
        return super()._invoke(messages, options)


StuckAfterCancel = broken(_StuckAfterCancel, catches="CANCEL-002")


# -- TIMEOUT -----------------------------------------------------------------------------


class _SyncIgnoresTimeout(ReferenceChatModel):
    def _wait(self, seconds: float, budget: Any) -> None:
        time.sleep(seconds)


SyncIgnoresTimeout = broken(_SyncIgnoresTimeout, catches="TIMEOUT-001")


class _AsyncIgnoresTimeout(ReferenceChatModel):
    async def _await(self, seconds: float, budget: Any) -> None:
        await asyncio.sleep(seconds)


AsyncIgnoresTimeout = broken(_AsyncIgnoresTimeout, catches="TIMEOUT-002")


# -- FUZZ --------------------------------------------------------------------------------


class _InvokeEncodesAscii(ReferenceChatModel):
    """Encodes the prompt as ASCII on the invoke path, as an old HTTP client might."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        for message in messages:
            message.content.encode("ascii")
        return super()._invoke(messages, options)


InvokeEncodesAscii = broken(_InvokeEncodesAscii, catches="FUZZ-001")


class _InvokeAssertsTemperature(ReferenceChatModel):
    """Passes temperature to an SDK that raises a bare ValueError above 1, untranslated."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        if options.temperature is not None and options.temperature > 1:
            msg = f"temperature {options.temperature} out of range"
            raise ValueError(msg)
        return super()._invoke(messages, options)


InvokeAssertsTemperature = broken(_InvokeAssertsTemperature, catches="FUZZ-002")


class _StreamEncodesAscii(ReferenceChatModel):
    """Frames stream chunks as ASCII, so any non-ASCII delta crashes the stream."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        for chunk in chunks:
            chunk.delta.encode("ascii")
        return chunks


StreamEncodesAscii = broken(_StreamEncodesAscii, catches="FUZZ-003")


# -- TOOLS: 2026 tool cases -------------------------------------------------------------


class _StreamMergesParallelCalls(ReferenceChatModel):
    """Streams every tool-call fragment at index 0, so parallel calls fuse into one."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [
            dataclasses.replace(
                chunk,
                tool_call_deltas=tuple(
                    dataclasses.replace(d, index=0) for d in chunk.tool_call_deltas
                ),
            )
            for chunk in super()._chunks(result, options)
        ]


StreamMergesParallelCalls = broken(_StreamMergesParallelCalls, catches="TOOLS-007")


class _EmptyArgumentsForNoParameterTool(ReferenceChatModel):
    """Sends '' as the arguments of a tool that declares no properties."""

    def _call_to(self, tool: ToolSpec, messages: Sequence[Message], index: int) -> ToolCall:
        call = super()._call_to(tool, messages, index)
        if not tool.parameters.get("properties"):
            return dataclasses.replace(call, arguments="")
        return call


EmptyArgumentsForNoParameterTool = broken(_EmptyArgumentsForNoParameterTool, catches="TOOLS-008")


class _AsciiEscapedArguments(ReferenceChatModel):
    """Re-encodes tool arguments with json.dumps' default ensure_ascii=True."""

    def _call_to(self, tool: ToolSpec, messages: Sequence[Message], index: int) -> ToolCall:
        call = super()._call_to(tool, messages, index)
        return dataclasses.replace(call, arguments=json.dumps(json.loads(call.arguments)))


AsciiEscapedArguments = broken(_AsciiEscapedArguments, catches="TOOLS-009")
