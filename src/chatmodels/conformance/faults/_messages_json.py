"""Translate Anthropic Messages JSON to reference calls, and reference answers back to Messages
JSON: whole ``message`` objects and the SSE events of a streamed one."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Message, Role, ToolCall, Usage
from chatmodels.options import ChatOptions, ResponseFormat, ToolSpec

from ._openai_json import BadRequest, load_request, number_field, refused_as_bad_request

__all__ = [
    "ERROR_TYPES",
    "MessagesRequest",
    "error_body",
    "message_events",
    "message_json",
    "parse_messages_request",
]

#: The error ``type`` of each HTTP status, as the Messages API names them.
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}

_STOP_REASONS = {
    FinishReason.STOP: "end_turn",
    FinishReason.LENGTH: "max_tokens",
    FinishReason.TOOL_CALLS: "tool_use",
    FinishReason.CONTENT_FILTER: "refusal",
    FinishReason.ERROR: "end_turn",
}


@dataclass(frozen=True, slots=True)
class MessagesRequest:
    """A validated create-message request, in chatmodels terms."""

    model: str
    messages: tuple[Message, ...]
    options: ChatOptions
    stream: bool


def error_body(status: int, message: str) -> dict[str, Any]:
    """The Messages error envelope for *status*."""
    kind = ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [b.get("text") for b in content if isinstance(b, Mapping)]
        if all(isinstance(t, str) for t in texts) and len(texts) == len(content):
            return "".join(str(t) for t in texts)
    raise BadRequest(f"{where} must be a string or a list of text blocks, got {content!r}", where)


def _user_turn(content: Any, where: str) -> Iterator[Message]:
    """A user turn: its tool_result blocks become tool messages, its text one user message."""
    if not isinstance(content, list):
        yield Message.user(_text(content, where))
        return
    texts = []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "tool_result":
            answer = block.get("content", "")
            yield Message(
                role=Role.TOOL,
                content=_text(answer, f"{where}.tool_result.content"),
                tool_call_id=block.get("tool_use_id"),
            )
        else:
            texts.append(block)
    if texts:
        yield Message.user(_text(texts, where))


def _assistant_turn(content: Any, where: str) -> Message:
    if not isinstance(content, list):
        return Message.assistant(_text(content, where))
    texts, calls = [], []
    for block in content:
        if isinstance(block, Mapping) and block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
            call_id, name = str(block.get("id") or ""), str(block.get("name") or "")
            calls.append(ToolCall(call_id, name, arguments))
        else:
            texts.append(block)
    return Message.assistant(_text(texts, where), calls)


def _messages(body: Mapping[str, Any]) -> tuple[Message, ...]:
    turns = body.get("messages")
    if not isinstance(turns, list) or not turns:
        raise BadRequest(f"messages must be a non-empty list, got {turns!r}", "messages")
    messages: list[Message] = []
    system = body.get("system")
    if system:
        messages.append(Message.system(_text(system, "system")))
    for index, turn in enumerate(turns):
        where = f"messages.{index}.content"
        role = turn.get("role") if isinstance(turn, Mapping) else None
        if role == "user":
            messages.extend(_user_turn(turn.get("content"), where))
        elif role == "assistant":
            messages.append(_assistant_turn(turn.get("content"), where))
        else:
            msg = f"messages.{index}.role must be 'user' or 'assistant', got {role!r}"
            raise BadRequest(msg, f"messages.{index}.role")
    return tuple(messages)


def _tools(value: Any) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest(f"tools must be a list, got {value!r}", "tools")
    return tuple(
        ToolSpec(
            name=str(tool.get("name") or ""),
            description=tool.get("description") or "",
            parameters=tool.get("input_schema") or {"type": "object", "properties": {}},
        )
        for tool in value
        if isinstance(tool, Mapping)
    )


def _tool_choice(value: Any) -> str | None:
    if value is None:
        return None
    kind = value.get("type") if isinstance(value, Mapping) else None
    modes = {"auto": "auto", "any": "required", "none": "none"}
    if kind in modes:
        return modes[kind]
    if kind == "tool" and isinstance(value.get("name"), str):
        return str(value["name"])
    raise BadRequest(f"tool_choice must be auto, any, none or tool, got {value!r}", "tool_choice")


def _options(body: Mapping[str, Any]) -> ChatOptions:
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise BadRequest(
            f"max_tokens: an integer >= 1 is required, got {max_tokens!r}", "max_tokens"
        )
    output = body.get("output_config") or {}
    form = output.get("format") if isinstance(output, Mapping) else None
    json_mode = isinstance(form, Mapping) and form.get("type") == "json_schema"
    return ChatOptions(
        temperature=number_field(body, "temperature", 0, 1),
        top_p=number_field(body, "top_p", 0, 1) or None,
        max_tokens=max_tokens,
        stop=tuple(body.get("stop_sequences") or ()),
        tools=_tools(body.get("tools")),
        tool_choice=_tool_choice(body.get("tool_choice")),
        response_format=ResponseFormat.JSON if json_mode else ResponseFormat.TEXT,
    )


def parse_messages_request(raw: bytes) -> MessagesRequest:
    """Validate a create-message body the way a Messages server does."""
    body, model = load_request(raw)
    with refused_as_bad_request():
        return MessagesRequest(
            model=model,
            messages=_messages(body),
            options=_options(body),
            stream=bool(body.get("stream")),
        )


def _usage(usage: Usage | None) -> dict[str, int]:
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0}
    return {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}


def _message_id(response_id: str) -> str:
    return response_id if response_id.startswith("msg_") else f"msg_{response_id}"


def message_json(result: ChatResult) -> dict[str, Any]:
    """Express a reference result as a Messages ``message`` object."""
    content: list[dict[str, Any]] = []
    if result.text or not result.tool_calls:
        content.append({"type": "text", "text": result.text})
    content.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments or "{}")}
        for c in result.tool_calls
    )
    return {
        "id": _message_id(result.response_id),
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": result.model,
        "stop_reason": _STOP_REASONS[result.finish_reason],
        "stop_sequence": None,
        "usage": _usage(result.usage),
    }


def _tool_pieces(chunks: Sequence[ChatChunk]) -> dict[int, tuple[str, str, list[str]]]:
    """Each streamed tool call by index: its id, name and argument pieces, in order."""
    tools: dict[int, tuple[str, str, list[str]]] = {}
    for chunk in chunks:
        for delta in chunk.tool_call_deltas:
            call_id, name, pieces = tools.get(delta.index, ("", "", []))
            tools[delta.index] = (call_id or delta.id or "", name or delta.name or "", pieces)
            if delta.arguments:
                pieces.append(delta.arguments)
    return tools


def message_events(result: ChatResult, chunks: Sequence[ChatChunk]) -> list[dict[str, Any]]:
    """Express a reference stream as Messages events: message_start, a ping, each content
    block opened, filled and closed in index order, one message_delta, message_stop."""
    start = {**message_json(result), "content": [], "stop_reason": None}
    start["usage"] = {**_usage(result.usage), "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    index = 0
    texts = [c.delta for c in chunks if c.delta]
    if texts or not result.tool_calls:
        events.append(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            }
        )
        events.extend(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}
            for t in texts
        )
        events.append({"type": "content_block_stop", "index": 0})
        index = 1
    for _, (call_id, name, pieces) in sorted(_tool_pieces(chunks).items()):
        block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events.extend(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": piece},
            }
            for piece in pieces
        )
        events.append({"type": "content_block_stop", "index": index})
        index += 1
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _STOP_REASONS[result.finish_reason], "stop_sequence": None},
            "usage": {"output_tokens": _usage(result.usage)["output_tokens"]},
        }
    )
    events.append({"type": "message_stop"})
    return events
