"""Translate OpenAI chat-completions JSON to reference calls and reference answers back to JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chatmodels.errors import ChatModelError
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    Message,
    Role,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from chatmodels.options import ChatOptions, JsonSchemaFormat, ResponseFormat, ToolSpec
from chatmodels.parts import ContentPart, coerce_part

__all__ = [
    "BadRequest",
    "ChatRequest",
    "chunk_events",
    "completion_json",
    "error_json",
    "load_request",
    "number_field",
    "parse_chat_request",
    "refused_as_bad_request",
]

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
    "tool": Role.TOOL,
}


class BadRequest(Exception):
    """The request is one a real server would refuse with HTTP 400."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A validated chat-completions request, in chatmodels terms."""

    model: str
    messages: tuple[Message, ...]
    options: ChatOptions
    stream: bool
    include_usage: bool


def error_json(
    message: str, *, kind: str, param: str | None = None, code: str | None = None
) -> Any:
    """Build an OpenAI-style error body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _content(value: Any, index: int) -> tuple[str, tuple[ContentPart, ...]]:
    """The text of a content, or its parts: text, image_url, input_audio and file."""
    if value is None or isinstance(value, str):
        return value or "", ()
    if isinstance(value, list) and value:
        with refused_as_bad_request():
            return "", tuple(coerce_part(p) for p in value if isinstance(p, Mapping))
    msg = f"messages[{index}].content must be a string or a list of content parts, got {value!r}"
    raise BadRequest(msg, f"messages[{index}].content")


def _tool_calls(value: Any, index: int) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    where = f"messages[{index}].tool_calls"
    if not isinstance(value, list):
        raise BadRequest(f"{where} must be a list, got {value!r}", where)
    calls = []
    for call in value:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            raise BadRequest(f"{where} holds {call!r}; expected a function tool call", where)
        calls.append(
            ToolCall(
                id=call.get("id"),
                name=str(function.get("name") or ""),
                arguments=function.get("arguments") or "{}",
            )
        )
    return tuple(calls)


def _message(data: Any, index: int) -> Message:
    if not isinstance(data, Mapping):
        raise BadRequest(f"messages[{index}] must be an object, got {data!r}", "messages")
    role = data.get("role")
    if role not in _ROLES:
        msg = f"messages[{index}].role must be one of {sorted(_ROLES)!r}, got {role!r}"
        raise BadRequest(msg, f"messages[{index}].role")
    content, parts = _content(data.get("content"), index)
    refusal = data.get("refusal") if role == "assistant" else None
    return Message(
        role=_ROLES[role],
        content=content,
        tool_calls=_tool_calls(data.get("tool_calls"), index),
        tool_call_id=data.get("tool_call_id") if role == "tool" else None,
        name=data.get("name") if isinstance(data.get("name"), str) else None,
        parts=parts,
        refusal=refusal or "",
    )


def number_field(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not low <= value <= high:
        raise BadRequest(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}", name)
    return float(value)


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise BadRequest(f"{name} must be an integer >= 1, got {value!r}", name)
        return value
    return None


def _tools(value: Any) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest(f"tools must be a list, got {value!r}", "tools")
    specs = []
    for tool in value:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or tool.get("type") != "function":
            raise BadRequest(f"tools holds {tool!r}; expected a function tool", "tools")
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        specs.append(
            ToolSpec(
                name=str(function.get("name") or ""),
                description=function.get("description") or "",
                parameters=parameters,
            )
        )
    return tuple(specs)


def _tool_choice(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    function = value.get("function") if isinstance(value, Mapping) else None
    if isinstance(function, Mapping) and isinstance(function.get("name"), str):
        return str(function["name"])
    raise BadRequest(
        f"tool_choice must be a mode or a function object, got {value!r}", "tool_choice"
    )


def _options(body: Mapping[str, Any]) -> ChatOptions:
    if body.get("n") not in (None, 1):
        raise BadRequest(f"n must be 1, got {body.get('n')!r}", "n")
    stop = body.get("stop")
    response_format = body.get("response_format") or {}
    kind = response_format.get("type") if isinstance(response_format, Mapping) else None
    answer_format: ResponseFormat | JsonSchemaFormat = ResponseFormat.TEXT
    if kind == "json_object":
        answer_format = ResponseFormat.JSON
    elif kind == "json_schema":
        answer_format = JsonSchemaFormat.from_dict(response_format)
    return ChatOptions(
        temperature=number_field(body, "temperature", 0, 2),
        top_p=number_field(body, "top_p", 0, 1) or None,
        max_tokens=_max_tokens(body),
        stop=() if stop is None else ((stop,) if isinstance(stop, str) else tuple(stop)),
        tools=_tools(body.get("tools")),
        tool_choice=_tool_choice(body.get("tool_choice")),
        response_format=answer_format,
        seed=body.get("seed"),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        reasoning_effort=body.get("reasoning_effort"),
    )


def load_request(raw: bytes) -> tuple[Mapping[str, Any], str]:
    """Decode a request body: a JSON object naming its model; returns it and the model."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(body, Mapping):
        raise BadRequest(f"the request body must be a JSON object, got {body!r}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest(f"model must be a non-empty string, got {model!r}", "model")
    return body, model


@contextmanager
def refused_as_bad_request() -> Iterator[None]:
    """Turn what chatmodels refuses while reading a request into the 400 a server sends."""
    try:
        yield
    except ChatModelError as exc:
        raise BadRequest(exc.message) from exc
    except TypeError as exc:
        raise BadRequest(f"the request has a field of the wrong type: {exc}") from exc


def parse_chat_request(raw: bytes) -> ChatRequest:
    """Validate a request body the way an OpenAI-compatible server does."""
    body, model = load_request(raw)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest(f"messages must be a non-empty list, got {messages!r}", "messages")
    stream_options = body.get("stream_options") or {}
    with refused_as_bad_request():
        return ChatRequest(
            model=model,
            messages=tuple(_message(m, i) for i, m in enumerate(messages)),
            options=_options(body),
            stream=bool(body.get("stream")),
            include_usage=isinstance(stream_options, Mapping)
            and bool(stream_options.get("include_usage")),
        )


def _usage_json(usage: Usage | None) -> Any:
    if usage is None:
        return None
    data: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.reasoning_tokens is not None:
        data["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    if usage.cached_input_tokens is not None:
        data["prompt_tokens_details"] = {"cached_tokens": usage.cached_input_tokens}
    return data


def completion_json(result: ChatResult, *, created: int) -> dict[str, Any]:
    """Express a reference result as a chat.completion object."""
    message: dict[str, Any] = {"role": "assistant", "content": result.text, "refusal": None}
    if result.refusal:
        message["content"], message["refusal"] = None, result.refusal
    if result.reasoning:
        message["reasoning_content"] = result.reasoning
    if result.tool_calls:
        message["content"] = result.text or None
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in result.tool_calls
        ]
    return {
        "id": result.response_id,
        "object": "chat.completion",
        "created": created,
        "model": result.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": result.finish_reason.value,
                "logprobs": None,
            }
        ],
        "usage": _usage_json(result.usage),
    }


def _tool_delta_json(delta: ToolCallDelta) -> dict[str, Any]:
    data: dict[str, Any] = {"index": delta.index}
    if delta.id is not None:
        data["id"] = delta.id
        data["type"] = "function"
    function: dict[str, Any] = {"arguments": delta.arguments}
    if delta.name is not None:
        function["name"] = delta.name
    data["function"] = function
    return data


def chunk_events(
    chunks: Sequence[ChatChunk], *, model: str, created: int, include_usage: bool
) -> tuple[list[dict[str, Any]], int]:
    """Express a reference stream as chat.completion.chunk events (without ``[DONE]``).

    Returns the events and how many of them are content events, before the finish event.
    """
    response_id = next((c.response_id for c in chunks if c.response_id), "")
    finish = next((c.finish_reason for c in reversed(chunks) if c.finish_reason), None)
    usage = next((c.usage for c in reversed(chunks) if c.usage), None)
    answer_model = next((c.model for c in chunks if c.model), model)

    def event(delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": response_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": answer_model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}],
        }
        if include_usage:
            data["usage"] = None
        return data

    events = [event({"role": "assistant", "content": ""}, None)]
    for chunk in chunks:
        delta: dict[str, Any] = {}
        if chunk.reasoning:
            delta["reasoning_content"] = chunk.reasoning
        if chunk.delta:
            delta["content"] = chunk.delta
        if chunk.refusal:
            delta["refusal"] = chunk.refusal
        if chunk.tool_call_deltas:
            delta["tool_calls"] = [_tool_delta_json(d) for d in chunk.tool_call_deltas]
        if delta:
            events.append(event(delta, None))
    content_events = len(events)
    events.append(event({}, finish.value if finish else "stop"))
    if include_usage:
        final = event({}, None)
        final["choices"] = []
        final["usage"] = _usage_json(usage)
        events.append(final)
    return events, content_events
