"""Messages both ways between chatmodels and LangChain, and the folding of LangChain streams."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages import ToolCall as LCToolCall
from langchain_core.messages.tool import invalid_tool_call, tool_call

from chatmodels.errors import InvalidInputError, InvalidResponseError
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    Role,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from chatmodels.providers._openai_wire import part_to_wire

__all__ = [
    "StreamFinish",
    "StreamFolder",
    "result_from_message",
    "text_of",
    "to_langchain",
]

#: What a stream that ends without a finish reason is: an error, or a complete answer.
StreamFinish = Literal["strict", "lenient"]

#: response_metadata keys where integrations put their finish reason.
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason")

#: Finish reasons of the common integrations (OpenAI, Anthropic, Ollama, Google...), lower-cased.
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "eos": FinishReason.STOP,
    "complete": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "max_tokens": FinishReason.LENGTH,
    "model_length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "tool_use": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
    "safety": FinishReason.CONTENT_FILTER,
    "recitation": FinishReason.CONTENT_FILTER,
    "refusal": FinishReason.CONTENT_FILTER,
    "error": FinishReason.ERROR,
}


def to_langchain(messages: Sequence[Message]) -> list[BaseMessage]:
    """Translate a conversation into LangChain's message classes."""
    return [_one_to_langchain(m) for m in messages]


def _one_to_langchain(message: Message) -> BaseMessage:
    if message.role is Role.SYSTEM:
        return SystemMessage(content=message.content)
    if message.role is Role.USER:
        if message.media:  # LangChain chat models take OpenAI-style content blocks
            blocks: list[str | dict[Any, Any]] = [part_to_wire(p) for p in message.parts]
            return HumanMessage(content=blocks, name=message.name)
        return HumanMessage(content=message.content, name=message.name)
    if message.role is Role.TOOL:
        assert message.tool_call_id is not None  # Message guarantees it for the tool role
        return ToolMessage(
            content=message.content, tool_call_id=message.tool_call_id, name=message.name
        )
    calls: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in message.tool_calls:
        try:
            args = json.loads(call.arguments)
        except ValueError:
            args = None
        if isinstance(args, dict):
            calls.append(tool_call(name=call.name, args=args, id=call.id))
        else:
            invalid.append(
                invalid_tool_call(
                    name=call.name,
                    args=call.arguments,
                    id=call.id,
                    error="arguments are not a JSON object",
                )
            )
    return AIMessage(
        content=message.content, tool_calls=calls, invalid_tool_calls=invalid, name=message.name
    )


def text_of(content: str | list[str | dict[Any, Any]]) -> str:
    """The text of a message's content, joining text parts and skipping other kinds."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for part in content:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, Mapping) and part.get("type") == "text":
            text = part.get("text")
            if isinstance(text, str):
                parts.append(text)
    return "".join(parts)


def _arguments(args: object) -> str:
    """Tool-call arguments as JSON text (characters, not \\u escapes), whole or streamed."""
    return args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)


def _tool_calls(message: AIMessage) -> tuple[ToolCall, ...]:
    calls: list[tuple[str | None, str | None, str]] = [
        (c.get("id"), c["name"], _arguments(c["args"])) for c in message.tool_calls
    ]
    calls += [
        (c.get("id"), c.get("name"), _arguments(c.get("args"))) for c in message.invalid_tool_calls
    ]
    result = []
    for index, (call_id, name, arguments) in enumerate(calls):
        if not name:
            msg = f"the model's tool call at index {index} names no tool: {arguments!r}"
            raise InvalidResponseError(msg, op="tool_call")
        result.append(ToolCall(id=call_id or f"call_{index}", name=name, arguments=arguments))
    return tuple(result)


def _finish_of(metadata: Mapping[str, Any], op: str) -> FinishReason | None:
    for key in _FINISH_KEYS:
        value = metadata.get(key)
        if value is None or value == "":
            continue
        reason = _FINISH_REASONS.get(str(value).lower())
        if reason is None:
            msg = f"{op}: the model reported {key}={value!r}, which no finish reason matches"
            raise InvalidResponseError(msg, op=op)
        return reason
    return None


def _inferred_finish(calls: tuple[ToolCall, ...]) -> FinishReason:
    return FinishReason.TOOL_CALLS if calls else FinishReason.STOP


def _usage(message: AIMessage) -> Usage | None:
    usage = message.usage_metadata
    if usage is None:
        return None
    reasoning = (usage.get("output_token_details") or {}).get("reasoning")
    cached = (usage.get("input_token_details") or {}).get("cache_read")
    try:
        return Usage(
            usage["input_tokens"],
            usage["output_tokens"],
            usage["total_tokens"],
            reasoning_tokens=reasoning,
            cached_input_tokens=cached,
        )
    except (KeyError, InvalidInputError) as exc:
        msg = f"the model's usage_metadata is malformed: {dict(usage)!r}"
        raise InvalidResponseError(msg, op="usage", cause=exc) from exc


def _model_of(metadata: Mapping[str, Any], fallback: str) -> str:
    for key in ("model_name", "model"):
        value = metadata.get(key)
        if isinstance(value, str) and value:
            return value
    return fallback


def _response_id(message: BaseMessage) -> str:
    return message.id or f"langchain-{uuid.uuid4().hex}"


def result_from_message(message: BaseMessage, *, model: str, op: str) -> ChatResult:
    """Read a whole LangChain answer; a missing finish reason follows from its tool calls."""
    if not isinstance(message, AIMessage):
        msg = f"{op}: the model returned a {type(message).__name__}; expected an AIMessage"
        raise InvalidResponseError(msg, op=op)
    calls = _tool_calls(message)
    finish = _finish_of(message.response_metadata, op) or _inferred_finish(calls)
    return ChatResult(
        message=Message.assistant(text_of(message.content), calls),
        finish_reason=finish,
        model=_model_of(message.response_metadata, model),
        response_id=_response_id(message),
        usage=_usage(message),
    )


class StreamFolder:
    """Turn AIMessageChunks into text deltas, then one final chunk with calls, finish and usage.

    LangChain's chunks add up (usage is summed, tool-call fragments merge by index), so the
    folder keeps their sum and reports what the sum says once the stream ends.
    """

    def __init__(self, *, model: str, op: str, policy: StreamFinish) -> None:
        self._model = model
        self._op = op
        self._policy = policy
        self._total: AIMessageChunk | None = None
        self._finish: FinishReason | None = None
        self._model_seen: str | None = None

    def feed(self, chunk: BaseMessage) -> ChatChunk | None:
        """Take one streamed chunk; return its text as a delta, if it carries any."""
        if not isinstance(chunk, AIMessageChunk):
            msg = (
                f"{self._op}: the model streamed a {type(chunk).__name__}; expected AIMessageChunk"
            )
            raise InvalidResponseError(msg, op=self._op)
        self._total = chunk if self._total is None else self._total + chunk
        self._finish = _finish_of(chunk.response_metadata, self._op) or self._finish
        if self._model_seen is None and any(
            isinstance(chunk.response_metadata.get(k), str) for k in ("model_name", "model")
        ):
            self._model_seen = _model_of(chunk.response_metadata, self._model)
        text = text_of(chunk.content)
        return ChatChunk(delta=text) if text else None

    def finish(self) -> ChatChunk:
        """The last chunk: tool calls, finish reason, usage, model and response id."""
        total = self._total if self._total is not None else AIMessageChunk(content="")
        calls = _tool_calls(total)
        finish = self._finish
        if finish is None:
            if self._policy == "strict":
                msg = (
                    f"{self._op}: the stream ended without a finish reason, so it may have been "
                    "cut short (set the option stream_finish=lenient for models that never "
                    "send one)"
                )
                raise InvalidResponseError(msg, op=self._op)
            finish = _inferred_finish(calls)
        return ChatChunk(
            tool_call_deltas=tuple(
                ToolCallDelta(index=i, id=c.id, name=c.name, arguments=c.arguments)
                for i, c in enumerate(calls)
            ),
            finish_reason=finish,
            usage=_usage(total),
            model=self._model_seen or self._model,
            response_id=_response_id(total),
        )
