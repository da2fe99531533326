"""The Anthropic Messages wire format: request bodies, whole answers and SSE event streams."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from chatmodels.errors import ChatModelError
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
from chatmodels.options import ChatOptions, ResponseFormat
from chatmodels.providers._http_errors import Redactor, error_for_status, invalid_response
from chatmodels.providers._http_payload import (
    SSEChunkParser,
    json_event,
    known_value,
    required_field,
)

__all__ = [
    "ERROR_STATUS",
    "MessagesStream",
    "build_messages_body",
    "parse_message",
    "parse_stop_reason",
]

_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}

#: The HTTP status each Messages error type stands for, so an ``error`` event mid-stream
#: maps to the same code as the status would.
ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}

_TOOL_CHOICES: dict[str, dict[str, str]] = {
    "auto": {"type": "auto"},
    "none": {"type": "none"},
    "required": {"type": "any"},
}


def _tool_use(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = {}
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}


def _turn(message: Message) -> tuple[str, list[dict[str, Any]]]:
    """One message as a (role, content blocks) turn; a tool answer is a user turn."""
    if message.role is Role.TOOL:
        block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
        return "user", [{**block, "content": message.content}]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(_tool_use(call) for call in message.tool_calls)
    return message.role.value, blocks


def _conversation(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The turns, consecutive ones of the same role joined: the API wants them alternating."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        role, blocks = _turn(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def build_messages_body(
    model: str,
    messages: Sequence[Message],
    options: ChatOptions,
    *,
    stream: bool,
    max_tokens: int,
) -> dict[str, Any]:
    """Build the JSON body of POST /messages; system turns become the ``system`` field."""
    system = [m.content for m in messages if m.role is Role.SYSTEM]
    talk = [m for m in messages if m.role is not Role.SYSTEM]
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": options.max_tokens or max_tokens,
        "messages": _conversation(talk),
    }
    if system:
        body["system"] = "\n\n".join(system)
    for name in ("temperature", "top_p"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    if options.stop:
        body["stop_sequences"] = list(options.stop)
    if options.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": dict(t.parameters)}
            for t in options.tools
        ]
    if options.tool_choice is not None:
        choice = _TOOL_CHOICES.get(options.tool_choice)
        body["tool_choice"] = choice or {"type": "tool", "name": options.tool_choice}
    if options.response_format is ResponseFormat.JSON:
        body["output_config"] = {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    if stream:
        body["stream"] = True
    return body


def parse_stop_reason(value: Any, *, op: str) -> FinishReason:
    """Map the API's stop reason; an unknown one means the answer cannot be trusted."""
    return known_value(value, _STOP_REASONS, "stop_reason", op=op)


def _usage(value: Any, *, op: str, input_tokens: int | None = None) -> Usage:
    where = "usage "
    given = value.get("input_tokens") if isinstance(value, Mapping) else None
    if input_tokens is None or given is not None:
        input_tokens = required_field(value, "input_tokens", int, op=op, where=where)
    output = required_field(value, "output_tokens", int, op=op, where=where)
    try:
        return Usage(input_tokens, output)
    except ChatModelError as exc:
        msg = f"{op} got an invalid usage object {value!r}"
        raise invalid_response(msg, op=op, cause=exc) from exc


def _block_call(block: Mapping[str, Any], *, op: str) -> ToolCall:
    where = "tool_use block "
    arguments = block.get("input", {})
    if not isinstance(arguments, Mapping):
        msg = f"{op} got tool_use input {arguments!r}; expected a JSON object"
        raise invalid_response(msg, op=op)
    return ToolCall(
        id=required_field(block, "id", str, op=op, where=where),
        name=required_field(block, "name", str, op=op, where=where),
        arguments=json.dumps(arguments, ensure_ascii=False),
    )


def parse_message(payload: Any, *, op: str, fallback_model: str) -> ChatResult:
    """Turn a Message object into a ChatResult, refusing missing or mistyped fields."""
    if not isinstance(payload, Mapping):
        msg = f"{op} got an answer that is not a JSON object: {str(payload)[:80]!r}"
        raise invalid_response(msg, op=op)
    content = required_field(payload, "content", list, op=op, where="")
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in content:
        kind = block.get("type") if isinstance(block, Mapping) else None
        if kind == "text":
            texts.append(required_field(block, "text", str, op=op, where="text block "))
        elif kind == "tool_use":
            calls.append(_block_call(block, op=op))
    usage = payload.get("usage")
    return ChatResult(
        message=Message.assistant("".join(texts), tuple(calls)),
        finish_reason=parse_stop_reason(payload.get("stop_reason"), op=op),
        model=str(payload.get("model") or fallback_model),
        response_id=str(payload.get("id") or ""),
        usage=None if usage is None else _usage(usage, op=op),
    )


class MessagesStream(SSEChunkParser):
    """Turn Messages SSE events into ChatChunks; the last chunk carries stop reason and usage."""

    def __init__(self, *, op: str, fallback_model: str, redact: Redactor) -> None:
        super().__init__(op=op, fallback_model=fallback_model)
        self._redact = redact
        self._response_id: str | None = None
        self._input_tokens: int | None = None
        self._usage: Usage | None = None
        self._finish: FinishReason | None = None
        self._tools: dict[int, int] = {}  # content block index -> tool call index
        self._sent_arguments: set[int] = set()
        self._stopped = False

    def _payload(self, payload: str) -> list[ChatChunk]:
        return self._event(json_event(payload, op=self._op))

    def _missing_end(self) -> str | None:
        """A stream is whole after ``message_stop``."""
        return None if self._stopped else "message_stop"

    def _event(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        if self._stopped:
            return []
        kind = event.get("type")
        if kind == "error":
            raise self._error(event)
        if kind == "message_start":
            return self._start(required_field(event, "message", Mapping, op=self._op, where=""))
        if kind == "content_block_start":
            return self._block_start(event)
        if kind == "content_block_delta":
            return self._delta(event)
        if kind == "content_block_stop":
            return self._block_stop(event)
        if kind == "message_delta":
            self._message_delta(event)
        elif kind == "message_stop":
            return self._stop()
        return []  # ping, and event types added later, carry nothing to keep

    def _error(self, event: Mapping[str, Any]) -> ChatModelError:
        error = event.get("error")
        kind = error.get("type") if isinstance(error, Mapping) else None
        status = ERROR_STATUS.get(kind, 500) if isinstance(kind, str) else 500
        body = json.dumps(event).encode()
        said = f"the server sent an {kind!r} error event mid-stream"
        return error_for_status(status, {}, body, op=self._op, redact=self._redact, reported=said)

    def _start(self, message: Mapping[str, Any]) -> list[ChatChunk]:
        self._model = str(message.get("model") or self._model)
        self._response_id = str(message.get("id") or "") or None
        usage = message.get("usage")
        if isinstance(usage, Mapping) and isinstance(usage.get("input_tokens"), int):
            self._input_tokens = int(usage["input_tokens"])
        return []

    def _index(self, event: Mapping[str, Any]) -> int:
        return int(required_field(event, "index", int, op=self._op, where="stream event "))

    def _block_start(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        index = self._index(event)
        block = required_field(event, "content_block", Mapping, op=self._op, where="")
        if block.get("type") == "tool_use":
            tool = self._tools[index] = len(self._tools)
            call = _block_call({**block, "input": {}}, op=self._op)
            return [self._chunk(tool_call_deltas=(ToolCallDelta(tool, call.id, call.name),))]
        text = block.get("text") if block.get("type") == "text" else None
        return [self._chunk(delta=text)] if isinstance(text, str) and text else []

    def _delta(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        index = self._index(event)
        delta = required_field(event, "delta", Mapping, op=self._op, where="")
        kind = delta.get("type")
        if kind == "text_delta":
            text = required_field(delta, "text", str, op=self._op, where="text_delta ")
            return [self._chunk(delta=text)] if text else []
        if kind == "input_json_delta" and index in self._tools:
            part = required_field(delta, "partial_json", str, op=self._op, where="input delta ")
            if not part:
                return []
            self._sent_arguments.add(index)
            tool = ToolCallDelta(self._tools[index], arguments=part)
            return [self._chunk(tool_call_deltas=(tool,))]
        return []  # thinking, signatures, citations: not part of the answer's text

    def _block_stop(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        index = self._index(event)
        if index in self._tools and index not in self._sent_arguments:
            # A tool called with no input streams no delta; its arguments are still "{}".
            self._sent_arguments.add(index)
            tool = ToolCallDelta(self._tools[index], arguments="{}")
            return [self._chunk(tool_call_deltas=(tool,))]
        return []

    def _message_delta(self, event: Mapping[str, Any]) -> None:
        delta = event.get("delta")
        reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if reason is not None:
            self._finish = parse_stop_reason(reason, op=self._op)
        usage = event.get("usage")
        if usage is not None:
            self._usage = _usage(usage, op=self._op, input_tokens=self._input_tokens or 0)

    def _stop(self) -> list[ChatChunk]:
        if self._finish is None:
            msg = f"{self._op} got message_stop before any stop_reason"
            raise invalid_response(msg, op=self._op)
        self._stopped = True
        return [self._chunk(finish_reason=self._finish, usage=self._usage)]

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(model=self._model, response_id=self._response_id, **fields)
