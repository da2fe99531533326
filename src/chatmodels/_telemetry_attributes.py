"""Span attributes and message JSON for the GenAI semantic conventions, from chatmodels types."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from chatmodels import _semconv as sc
from chatmodels.errors import ChatModelError
from chatmodels.messages import (
    FinishReason,
    Message,
    MessageLike,
    Role,
    ToolCall,
    Usage,
    coerce_messages,
)
from chatmodels.options import ChatOptions

Attributes = dict[str, Any]


def error_type(exc: BaseException) -> str:
    """Classify *exc* for ``error.type``: the error code, else the qualified class name."""
    if isinstance(exc, ChatModelError):
        return exc.code.value
    if isinstance(exc, (asyncio.CancelledError, GeneratorExit)):
        return sc.ERROR_TYPE_CANCELLED
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def request_attributes(base: Attributes, options: ChatOptions) -> Attributes:
    attrs = dict(base)
    if options.temperature is not None:
        attrs[sc.GEN_AI_REQUEST_TEMPERATURE] = float(options.temperature)
    if options.top_p is not None:
        attrs[sc.GEN_AI_REQUEST_TOP_P] = float(options.top_p)
    if options.max_tokens is not None:
        attrs[sc.GEN_AI_REQUEST_MAX_TOKENS] = options.max_tokens
    if options.stop:
        attrs[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = options.stop
    if options.seed is not None:
        attrs[sc.GEN_AI_REQUEST_SEED] = options.seed
    if options.wants_json:
        attrs[sc.GEN_AI_OUTPUT_TYPE] = sc.OUTPUT_TYPE_JSON
    if options.model is not None:
        attrs[sc.GEN_AI_REQUEST_MODEL] = options.model
    return attrs


def response_attributes(
    finish: FinishReason | None,
    response_id: str | None,
    model: str | None,
    usage: Usage | None,
    output: str | None,
) -> Attributes:
    attrs: Attributes = {}
    if finish is not None:
        attrs[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (finish.value,)
    if response_id:
        attrs[sc.GEN_AI_RESPONSE_ID] = response_id
    if model:
        attrs[sc.GEN_AI_RESPONSE_MODEL] = model
    if usage is not None:
        attrs[sc.GEN_AI_USAGE_INPUT_TOKENS] = usage.input_tokens
        attrs[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = usage.output_tokens
    if output is not None:
        attrs[sc.GEN_AI_OUTPUT_MESSAGES] = output
    return attrs


def _tool_call_part(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments)
    except ValueError:
        arguments = call.arguments
    return {"type": "tool_call", "id": call.id, "name": call.name, "arguments": arguments}


def _message_json(message: Message) -> dict[str, Any]:
    if message.role is Role.TOOL:
        part = {"type": "tool_call_response", "id": message.tool_call_id, "result": message.content}
        return {"role": message.role.value, "parts": [part]}
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"type": "text", "content": message.content})
    parts.extend(_tool_call_part(call) for call in message.tool_calls)
    return {"role": message.role.value, "parts": parts}


def input_messages(messages: Sequence[MessageLike] | str) -> str | None:
    try:
        coerced = coerce_messages(messages)
    except ChatModelError:
        return None
    return json.dumps([_message_json(m) for m in coerced], ensure_ascii=False)


def output_messages(message: Message, finish: FinishReason | None) -> str:
    entry = _message_json(message)
    if finish is not None:
        entry["finish_reason"] = finish.value
    return json.dumps([entry], ensure_ascii=False)
