"""The Open Responses wire format: request bodies, response objects and numbered event streams."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chatmodels.errors import ChatModelError, ErrorCode, make_error
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
from chatmodels.providers._http_errors import invalid_response
from chatmodels.providers._http_payload import SSEChunkParser, json_event, required_field

__all__ = [
    "PROVIDER_NAME",
    "ResponsesStreamParser",
    "build_responses_body",
    "parse_response",
]

PROVIDER_NAME = "responses"

#: Why an incomplete response stopped, as a finish reason.
_INCOMPLETE = {
    "max_output_tokens": FinishReason.LENGTH,
    "content_filter": FinishReason.CONTENT_FILTER,
}


def _items(message: Message) -> Iterator[dict[str, Any]]:
    """One message as input items: a tool call and a tool result are items of their own."""
    if message.role is Role.TOOL:
        yield {
            "type": "function_call_output",
            "call_id": message.tool_call_id or "",
            "output": message.content,
        }
        return
    if message.content or not message.tool_calls:
        yield {"type": "message", "role": message.role.value, "content": message.content}
    for call in message.tool_calls:
        yield {
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
        }


def build_responses_body(
    model: str, messages: Sequence[Message], options: ChatOptions, *, stream: bool
) -> dict[str, Any]:
    """Build the JSON body of POST /responses, leaving unset options to the server.

    The spec has no stop sequences and no seed: the provider does not declare
    ``stop_sequences``, so the base class refuses ``stop``; a seed is not sent.
    """
    body: dict[str, Any] = {"model": model, "input": [i for m in messages for i in _items(m)]}
    for name in ("temperature", "top_p"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    if options.max_tokens is not None:
        body["max_output_tokens"] = options.max_tokens
    if options.tools:
        body["tools"] = [
            {
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters),
            }
            for tool in options.tools
        ]
    choice = options.tool_choice
    if choice is not None:
        modes = ("auto", "none", "required")
        body["tool_choice"] = choice if choice in modes else {"type": "function", "name": choice}
    schema = options.json_schema
    if schema is not None:
        shape: dict[str, Any] = {"type": "json_schema", "name": schema.name}
        shape.update(schema=dict(schema.schema), strict=schema.strict)
        if schema.description:
            shape["description"] = schema.description
        body["text"] = {"format": shape}
    elif options.response_format is ResponseFormat.JSON:
        body["text"] = {"format": {"type": "json_object"}}
    if stream:
        body["stream"] = True
    return body


def _usage(value: Any, *, op: str) -> Usage | None:
    """Token counts; the cached and reasoning details when the server gives them."""
    if value is None:
        return None
    return Usage(
        required_field(value, "input_tokens", int, op=op, where="usage "),
        required_field(value, "output_tokens", int, op=op, where="usage "),
        reasoning_tokens=_detail(value, "output_tokens_details", "reasoning_tokens"),
        cached_input_tokens=_detail(value, "input_tokens_details", "cached_tokens"),
    )


def _detail(usage: Mapping[str, Any], group: str, name: str) -> int | None:
    details = usage.get(group)
    value = details.get(name) if isinstance(details, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _failure(response: Any, *, op: str) -> ChatModelError:
    """The error a failed response reports: server_error, with the server's message."""
    error = response.get("error") if isinstance(response, Mapping) else None
    text = error.get("message") if isinstance(error, Mapping) else None
    msg = f"{op} failed: the server reported the response failed: {str(text)[:300]}"
    return make_error(ErrorCode.SERVER_ERROR, msg, op=op, provider=PROVIDER_NAME)


def _finish(response: Mapping[str, Any], has_calls: bool, *, op: str) -> FinishReason:
    status = response.get("status")
    if status == "failed":
        raise _failure(response, op=op)
    if status == "incomplete":
        details = response.get("incomplete_details")
        reason = details.get("reason") if isinstance(details, Mapping) else None
        return _INCOMPLETE.get(str(reason), FinishReason.LENGTH)
    if status != "completed":
        msg = f"{op} got a response with status {status!r}; expected 'completed', "
        raise invalid_response(msg + "'incomplete' or 'failed'", op=op, provider=PROVIDER_NAME)
    return FinishReason.TOOL_CALLS if has_calls else FinishReason.STOP


def _output(response: Mapping[str, Any], *, op: str) -> tuple[str, tuple[ToolCall, ...]]:
    items = required_field(response, "output", list, op=op, where="response ")
    text, calls = [], []
    for item in items:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == "message":
            for part in item.get("content") or ():
                if isinstance(part, Mapping) and part.get("type") == "output_text":
                    text.append(str(part.get("text") or ""))
        elif kind == "function_call":
            arguments = required_field(item, "arguments", str, op=op, where="function_call ")
            call_id = str(item.get("call_id") or item.get("id") or "")
            calls.append(ToolCall(call_id, str(item.get("name") or ""), arguments))
    return "".join(text), tuple(calls)


def parse_response(payload: Any, *, op: str, fallback_model: str) -> ChatResult:
    """Turn a response object into a result; a failed response raises server_error."""
    if not isinstance(payload, Mapping):
        msg = f"{op} got an answer that is not a response object: {str(payload)[:80]!r}"
        raise invalid_response(msg, op=op, provider=PROVIDER_NAME)
    text, calls = _output(payload, op=op)
    finish = _finish(payload, bool(calls), op=op)
    return ChatResult(
        message=Message.assistant(text, calls),
        finish_reason=finish,
        model=str(payload.get("model") or fallback_model),
        response_id=str(payload.get("id") or ""),
        usage=_usage(payload.get("usage"), op=op),
    )


class ResponsesStreamParser(SSEChunkParser):
    """Turn the events of one streamed response into chunks; the last carries finish and usage.

    Events must come in ``sequence_number`` order: one running backwards is refused, since
    text assembled from it would be scrambled. A stream without its terminal event was cut.
    """

    _provider = PROVIDER_NAME

    def __init__(self, *, op: str, fallback_model: str) -> None:
        super().__init__(op=op, fallback_model=fallback_model)
        self._response_id: str | None = None
        self._last_number: int | None = None
        self._calls: dict[int, int] = {}  # output_index -> tool-call index
        self._streamed: set[int] = set()  # tool-call indexes whose arguments came in deltas
        self._done = False

    def _missing_end(self) -> str | None:
        """A stream is whole after response.completed or .incomplete."""
        return None if self._done else "its terminal event"

    def _payload(self, payload: str) -> list[ChatChunk]:
        if self._done:
            return []
        event = json_event(payload, op=self._op)
        self._check_order(event.get("sequence_number"))
        kind = event.get("type")
        if kind == "error":
            error = event.get("error")
            text = error.get("message") if isinstance(error, Mapping) else error
            msg = f"{self._op} failed: the server reported mid-stream: {str(text)[:300]}"
            raise make_error(ErrorCode.SERVER_ERROR, msg, op=self._op, provider=PROVIDER_NAME)
        response = event.get("response")
        if isinstance(response, Mapping):
            self._model = str(response.get("model") or self._model)
            self._response_id = self._response_id or (str(response.get("id") or "") or None)
        if kind in ("response.completed", "response.incomplete", "response.failed"):
            return self._end(response)
        if kind == "response.output_text.delta":
            delta = required_field(event, "delta", str, op=self._op, where="text delta ")
            return [self._chunk(delta=delta)] if delta else []
        if kind in ("response.output_item.added", "response.function_call_arguments.delta"):
            return self._call_delta(kind, event)
        if kind == "response.function_call_arguments.done":
            return self._unstreamed_arguments(event)
        return []

    def _check_order(self, number: Any) -> None:
        if not isinstance(number, int) or isinstance(number, bool):
            return  # a missing number is the server's wire defect; the text is still in order
        if self._last_number is not None and number <= self._last_number:
            msg = f"{self._op} got event sequence_number {number} after {self._last_number}; "
            msg += "events must come in increasing order"
            raise invalid_response(msg, op=self._op, provider=PROVIDER_NAME)
        self._last_number = number

    def _call_delta(self, kind: str, event: Mapping[str, Any]) -> list[ChatChunk]:
        output: int = required_field(event, "output_index", int, op=self._op, where="event ")
        if kind == "response.output_item.added":
            item = event.get("item")
            if not isinstance(item, Mapping) or item.get("type") != "function_call":
                return []
            index = self._calls.setdefault(output, len(self._calls))
            call_id = str(item.get("call_id") or item.get("id") or "")
            name = str(item.get("name") or "")
            return [self._chunk(tool_call_deltas=(ToolCallDelta(index, call_id, name, ""),))]
        found = self._calls.get(output)
        if found is None:
            msg = f"{self._op} got arguments for output_index {output} before its function_call"
            raise invalid_response(msg, op=self._op, provider=PROVIDER_NAME)
        delta = required_field(event, "delta", str, op=self._op, where="arguments delta ")
        self._streamed.add(found)
        return [self._chunk(tool_call_deltas=(ToolCallDelta(found, arguments=delta),))]

    def _unstreamed_arguments(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        """A server that sends arguments only whole: pass them on as one delta."""
        index = self._calls.get(event.get("output_index"))  # type: ignore[arg-type]
        arguments = event.get("arguments")
        if index is None or index in self._streamed or not isinstance(arguments, str):
            return []
        return [self._chunk(tool_call_deltas=(ToolCallDelta(index, arguments=arguments),))]

    def _end(self, response: Any) -> list[ChatChunk]:
        if not isinstance(response, Mapping):
            msg = f"{self._op} got a terminal event without its response object"
            raise invalid_response(msg, op=self._op, provider=PROVIDER_NAME)
        finish = _finish(response, bool(self._calls), op=self._op)
        self._done = True
        usage = _usage(response.get("usage"), op=self._op)
        return [self._chunk(finish_reason=finish, usage=usage)]

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(model=self._model, response_id=self._response_id, **fields)
