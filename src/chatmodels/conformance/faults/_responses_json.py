"""Translate Open Responses JSON to reference calls, and reference answers back to responses.

A request's ``input`` (a string or message / function_call / function_call_output items) and
``instructions`` become chatmodels messages; an answer becomes a response object, or the
streaming events that build it, each with its ``sequence_number``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Message, Role, ToolCall, Usage
from chatmodels.options import ChatOptions, JsonSchemaFormat, ResponseFormat, ToolSpec

from ._openai_json import BadRequest, load_request, number_field, refused_as_bad_request

__all__ = [
    "ResponsesRequest",
    "TERMINAL_EVENTS",
    "parse_responses_request",
    "response_events",
    "response_json",
]

#: The events that end a stream; exactly one ends a correct one.
TERMINAL_EVENTS = ("response.completed", "response.failed", "response.incomplete")

_ROLES = {
    "system": Role.SYSTEM,
    "developer": Role.SYSTEM,
    "user": Role.USER,
    "assistant": Role.ASSISTANT,
}


@dataclass(frozen=True, slots=True)
class ResponsesRequest:
    """A validated create-response request, in chatmodels terms, and what to echo back."""

    model: str
    messages: tuple[Message, ...]
    options: ChatOptions
    stream: bool
    echo: Mapping[str, Any]


def _text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        kinds = ("input_text", "output_text", "text")
        texts = [
            p.get("text") for p in content if isinstance(p, Mapping) and p.get("type") in kinds
        ]
        if len(texts) == len(content) and all(isinstance(t, str) for t in texts):
            return "".join(str(t) for t in texts)
    msg = f"{where} must be a string or a list of input_text parts, got {content!r}"
    raise BadRequest(msg, where)


def _item_messages(items: list[Any]) -> Iterator[Message]:
    """Read input items; consecutive function_call items form one assistant turn."""
    calls: list[ToolCall] = []
    for index, item in enumerate(items):
        where = f"input[{index}]"
        if not isinstance(item, Mapping):
            raise BadRequest(f"{where} must be an object, got {item!r}", where)
        kind = item.get("type", "message")
        if kind == "function_call":
            arguments = item.get("arguments")
            if not isinstance(arguments, str):
                raise BadRequest(f"{where}.arguments must be a JSON string, got {arguments!r}")
            calls.append(ToolCall(str(item.get("call_id") or ""), str(item.get("name")), arguments))
            continue
        if calls:
            yield Message.assistant("", tuple(calls))
            calls = []
        if kind == "function_call_output":
            output = _text(item.get("output"), f"{where}.output")
            yield Message.tool(output, str(item.get("call_id") or ""))
        elif kind == "message":
            role = item.get("role")
            if role not in _ROLES:
                msg = f"{where}.role must be one of {sorted(_ROLES)!r}, got {role!r}"
                raise BadRequest(msg, f"{where}.role")
            yield Message(role=_ROLES[role], content=_text(item.get("content"), f"{where}.content"))
        else:
            msg = f"{where}.type must be message, function_call or function_call_output, "
            raise BadRequest(msg + f"got {kind!r}", f"{where}.type")
    if calls:
        yield Message.assistant("", tuple(calls))


def _messages(body: Mapping[str, Any]) -> tuple[Message, ...]:
    found: list[Message] = []
    instructions = body.get("instructions")
    if instructions is not None:
        found.append(Message.system(_text(instructions, "instructions")))
    given = body.get("input")
    if isinstance(given, str):
        found.append(Message.user(given))
    elif isinstance(given, list):
        found.extend(_item_messages(given))
    else:
        raise BadRequest(f"input must be a string or a list of items, got {given!r}", "input")
    if not any(m.role is not Role.SYSTEM for m in found):
        raise BadRequest("input must hold at least one message that is not a system one", "input")
    return tuple(found)


def _tools(value: Any) -> tuple[ToolSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadRequest(f"tools must be a list, got {value!r}", "tools")
    specs = []
    for tool in value:
        if not isinstance(tool, Mapping) or tool.get("type") != "function":
            raise BadRequest(f"tools holds {tool!r}; expected a function tool", "tools")
        parameters = tool.get("parameters") or {"type": "object", "properties": {}}
        description = tool.get("description") or ""
        specs.append(ToolSpec(str(tool.get("name") or ""), description, parameters))
    return tuple(specs)


def _tool_choice(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Mapping) and value.get("type") == "function":
        return str(value.get("name"))
    raise BadRequest(f"tool_choice must be a mode or a function, got {value!r}", "tool_choice")


def _options(body: Mapping[str, Any]) -> ChatOptions:
    limit = body.get("max_output_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        msg = f"max_output_tokens must be an integer >= 1, got {limit!r}"
        raise BadRequest(msg, "max_output_tokens")
    return ChatOptions(
        temperature=number_field(body, "temperature", 0, 2),
        top_p=number_field(body, "top_p", 0, 1) or None,
        max_tokens=limit,
        tools=_tools(body.get("tools")),
        tool_choice=_tool_choice(body.get("tool_choice")),
        response_format=_format(_shape(body)),
    )


def _shape(body: Mapping[str, Any]) -> Mapping[str, Any]:
    text = body.get("text")
    shape = text.get("format") if isinstance(text, Mapping) else None
    return shape if isinstance(shape, Mapping) else {"type": "text"}


def _format(shape: Mapping[str, Any]) -> ResponseFormat | JsonSchemaFormat:
    """text.format as chatmodels reads it: text, JSON mode, or a JSON Schema to follow."""
    kind = shape.get("type")
    if kind == "json_object":
        return ResponseFormat.JSON
    if kind != "json_schema":
        return ResponseFormat.TEXT
    if not isinstance(shape.get("schema"), Mapping):
        msg = f"text.format.schema must be a JSON Schema object, got {shape.get('schema')!r}"
        raise BadRequest(msg, "text.format.schema")
    return JsonSchemaFormat(
        schema=shape["schema"],
        name=str(shape.get("name") or "response"),
        strict=bool(shape.get("strict")),
        description=str(shape.get("description") or ""),
    )


def _echoed_format(shape: Mapping[str, Any]) -> dict[str, Any]:
    """The format as the spec's response object holds it (its json_schema keeps no schema)."""
    if shape.get("type") == "json_schema":
        return {
            "type": "json_schema",
            "name": str(shape.get("name") or "response"),
            "description": shape.get("description"),
            "schema": None,
            "strict": bool(shape.get("strict")),
        }
    return {"type": "json_object" if shape.get("type") == "json_object" else "text"}


def _echo(body: Mapping[str, Any]) -> dict[str, Any]:
    """The request fields a response repeats, in the shapes the spec gives them."""
    tools = [
        {
            "type": "function",
            "name": t.get("name"),
            "description": t.get("description"),
            "parameters": t.get("parameters"),
            "strict": t.get("strict"),
        }
        for t in body.get("tools") or ()
    ]
    return {
        "instructions": body.get("instructions"),
        "tools": tools,
        "tool_choice": body.get("tool_choice") or "auto",
        "text": {"format": _echoed_format(_shape(body))},
        "temperature": body.get("temperature", 1.0),
        "top_p": body.get("top_p", 1.0),
        "max_output_tokens": body.get("max_output_tokens"),
    }


def parse_responses_request(raw: bytes) -> ResponsesRequest:
    """Validate a create-response body the way an Open Responses server does."""
    body, model = load_request(raw)
    with refused_as_bad_request():
        return ResponsesRequest(
            model=model,
            messages=_messages(body),
            options=_options(body),
            stream=bool(body.get("stream")),
            echo=_echo(body),
        )


def _usage(usage: Usage | None) -> Any:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens or 0},
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
    }


def _message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if text else []
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _call_item(item_id: str, call: ToolCall, arguments: str, status: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.id,
        "name": call.name,
        "arguments": arguments,
        "status": status,
    }


def _ids(response_id: str) -> tuple[str, str]:
    """The response's id and the stem of its items' ids, from the reference's id."""
    stem = response_id.removeprefix("ref-") or "0"
    return f"resp_{stem}", stem


def _output(result: ChatResult, stem: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if result.text or not result.tool_calls:
        items.append(_message_item(f"msg_{stem}", result.text, _item_status(result)))
    for index, call in enumerate(result.tool_calls):
        items.append(_call_item(f"fc_{stem}_{index}", call, call.arguments, "completed"))
    return items


def _item_status(result: ChatResult) -> str:
    return "incomplete" if result.finish_reason is FinishReason.LENGTH else "completed"


def _status(result: ChatResult) -> tuple[str, Any]:
    if result.finish_reason is FinishReason.LENGTH:
        return "incomplete", {"reason": "max_output_tokens"}
    return "completed", None


def response_json(
    result: ChatResult,
    echo: Mapping[str, Any],
    *,
    created: int,
    status: str | None = None,
    output: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Express a reference result as a response object (*status* overrides the result's own)."""
    response_id, stem = _ids(result.response_id)
    own_status, incomplete = _status(result)
    status = status or own_status
    done = status in ("completed", "incomplete", "failed")
    return {
        "id": response_id,
        "object": "response",
        "created_at": created,
        "completed_at": created if status == "completed" else None,
        "status": status,
        "incomplete_details": incomplete if status == "incomplete" else None,
        "model": result.model,
        "previous_response_id": None,
        "output": _output(result, stem) if output is None else output,
        "error": None,
        "truncation": "disabled",
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "top_logprobs": 0,
        "reasoning": None,
        "usage": _usage(result.usage) if done else None,
        "max_tool_calls": None,
        "store": False,
        "background": False,
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
        **echo,
    }


class _Events:
    """Numbered events of one stream: every event gets the next sequence_number."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._numbers = itertools.count()

    def add(self, kind: str, **fields: Any) -> None:
        self.events.append({"type": kind, "sequence_number": next(self._numbers), **fields})


def _text_events(events: _Events, chunks: Sequence[ChatChunk], item_id: str, status: str) -> None:
    part = {"type": "output_text", "text": "", "annotations": []}
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    events.add(
        "response.output_item.added", output_index=0, item=_message_item(item_id, "", "in_progress")
    )
    events.add("response.content_part.added", **where, part=part)
    text = ""
    for chunk in chunks:
        if chunk.delta:
            text += chunk.delta
            events.add("response.output_text.delta", **where, delta=chunk.delta, logprobs=[])
    events.add("response.output_text.done", **where, text=text, logprobs=[])
    events.add("response.content_part.done", **where, part={**part, "text": text})
    events.add(
        "response.output_item.done", output_index=0, item=_message_item(item_id, text, status)
    )


def _call_events(
    events: _Events, chunks: Sequence[ChatChunk], calls: Sequence[ToolCall], stem: str, first: int
) -> None:
    for index, call in enumerate(calls):
        item_id, output_index = f"fc_{stem}_{index}", first + index
        where = {"item_id": item_id, "output_index": output_index}
        item = _call_item(item_id, call, "", "in_progress")
        events.add("response.output_item.added", output_index=output_index, item=item)
        arguments = ""
        for chunk in chunks:
            for delta in chunk.tool_call_deltas:
                if delta.index == index and delta.arguments:
                    arguments += delta.arguments
                    events.add(
                        "response.function_call_arguments.delta", **where, delta=delta.arguments
                    )
        events.add("response.function_call_arguments.done", **where, arguments=arguments)
        item = _call_item(item_id, call, arguments, "completed")
        events.add("response.output_item.done", output_index=output_index, item=item)


def response_events(
    result: ChatResult, chunks: Sequence[ChatChunk], echo: Mapping[str, Any], *, created: int
) -> list[dict[str, Any]]:
    """Express a reference stream as Open Responses events, the terminal one last."""
    _, stem = _ids(result.response_id)
    events = _Events()
    opening = response_json(result, echo, created=created, status="in_progress", output=[])
    events.add("response.created", response=opening)
    events.add("response.in_progress", response=opening)
    has_text = bool(result.text or not result.tool_calls)
    if has_text:
        _text_events(events, chunks, f"msg_{stem}", _item_status(result))
    _call_events(events, chunks, result.tool_calls, stem, int(has_text))
    final = response_json(result, echo, created=created)
    events.add(f"response.{final['status']}", response=final)
    return events.events
