"""The reference model's pure rules: tokens, truncation, tool choice and example tool arguments.

Nothing here sleeps, draws random numbers or keeps state, so every rule is testable alone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from chatmodels.messages import FinishReason, Message, Role
from chatmodels.options import ChatOptions, ResponseFormat, ToolSpec
from chatmodels.parts import ImagePart

__all__ = [
    "ANSWER_PREFIX",
    "MEDIA_TOKENS",
    "REFUSAL_TRIGGER",
    "answer_text",
    "count_tokens",
    "example_arguments",
    "example_value",
    "input_tokens",
    "pick_tool",
    "pick_tools",
    "reasoning_text",
    "refusal_text",
    "prompt_of",
    "shape_text",
    "split_tokens",
    "tool_call_id",
    "truncate_tokens",
]

ANSWER_PREFIX = "Reference answer to: "
#: Input tokens each image or other media part counts for.
MEDIA_TOKENS = 8
#: A last user message containing this (any case) is refused.
REFUSAL_TRIGGER = "please refuse"

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SNIPPET_CHARS = 40
_MAX_SCHEMA_DEPTH = 8


def count_tokens(text: str) -> int:
    """Count tokens: each match of ``\\w+|[^\\w\\s]``, a word or one punctuation character."""
    return len(_TOKEN.findall(text))


def input_tokens(messages: Sequence[Message]) -> int:
    """Count a conversation: content and tool-call arguments, plus one per message."""
    return sum(
        count_tokens(m.content)
        + sum(count_tokens(c.arguments) for c in m.tool_calls)
        + MEDIA_TOKENS * len(m.media)
        + 1
        for m in messages
    )


def truncate_tokens(text: str, limit: int) -> tuple[str, bool]:
    """Keep *text* up to the end of its *limit*-th token; tell whether anything was cut."""
    for index, match in enumerate(_TOKEN.finditer(text), start=1):
        if index == limit:
            end = match.end()
            if _TOKEN.search(text, end) is None:
                return text, False
            return text[:end], True
    return text, False


def split_tokens(text: str, size: int) -> list[str]:
    """Split *text* into pieces of *size* tokens that concatenate back to *text* exactly."""
    starts = [m.start() for m in _TOKEN.finditer(text)]
    bounds = [0, *starts[size::size], len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _cut_at_stop(text: str, stops: Sequence[str]) -> str:
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return text[: min(found)] if found else text


def shape_text(raw: str, options: ChatOptions) -> tuple[str, FinishReason]:
    """Apply stop sequences, then max_tokens, then JSON mode, which wraps the cut text."""
    text = _cut_at_stop(raw, options.stop)
    finish = FinishReason.STOP
    if options.max_tokens is not None:
        text, cut = truncate_tokens(text, options.max_tokens)
        if cut:
            finish = FinishReason.LENGTH
    if options.response_format is ResponseFormat.JSON:
        text = json.dumps({"answer": text}, ensure_ascii=False)
    return text, finish


def _last_user(messages: Sequence[Message]) -> Message:
    return next((m for m in reversed(messages) if m.role is Role.USER), messages[-1])


def _media_tags(message: Message) -> str:
    tags = []
    for part in message.media:
        kind = part.media_type if isinstance(part, ImagePart) else part.media_type or part.kind
        tags.append(f" [{part.kind}: {kind or 'by URL'}]")
    return "".join(tags)


def refusal_text(messages: Sequence[Message]) -> str:
    """The refusal for a last user message containing REFUSAL_TRIGGER, else ''."""
    prompt = prompt_of(messages)
    if REFUSAL_TRIGGER not in prompt.lower():
        return ""
    return f"Reference refuses to answer {count_tokens(prompt)} tokens that ask it to refuse."


def reasoning_text(messages: Sequence[Message], effort: str | None) -> str:
    """The shown reasoning: one sentence for any effort above 'none', else ''."""
    if effort in (None, "none"):
        return ""
    prompt = _last_user(messages)
    return (
        f"Reasoning ({effort}): the {prompt.role.value} turn has {count_tokens(prompt.content)} "
        "tokens; the reference answers by echoing it."
    )


def example_value(schema: Mapping[str, Any], prompt: str) -> Any:
    """A JSON value valid against *schema*, filled the way tool arguments are."""
    return _example(schema, prompt, 0)


def prompt_of(messages: Sequence[Message]) -> str:
    """The text being answered: the last user message, else the last message."""
    for message in reversed(messages):
        if message.role is Role.USER:
            return message.content
    return messages[-1].content


def _tool_summary(messages: Sequence[Message]) -> str:
    names = {c.id: c.name for m in messages for c in m.tool_calls}
    trailing: list[Message] = []
    for message in reversed(messages):
        if message.role is not Role.TOOL:
            break
        trailing.append(message)
    lines = []
    for message in reversed(trailing):
        call_id = message.tool_call_id or ""
        who = message.name or names.get(call_id) or call_id
        lines.append(f"Tool {who} returned: {message.content}")
    return "\n".join(lines)


def answer_text(messages: Sequence[Message]) -> str:
    """The unshaped answer: a summary of trailing tool results, else an echo of the prompt."""
    if messages[-1].role is Role.TOOL:
        return _tool_summary(messages)
    return ANSWER_PREFIX + prompt_of(messages) + _media_tags(_last_user(messages))


def pick_tool(messages: Sequence[Message], options: ChatOptions) -> ToolSpec | None:
    """Choose the tool to call, or None for a text answer."""
    if not options.tools or options.tool_choice == "none":
        return None
    by_name = {t.name: t for t in options.tools}
    forced = options.forced_tool
    if forced is not None:
        return by_name[forced]
    prompt = prompt_of(messages).lower()
    mentioned = next((t for t in options.tools if t.name.lower() in prompt), None)
    if options.tool_choice == "required":
        return mentioned or options.tools[0]
    return mentioned if messages[-1].role is Role.USER else None


def pick_tools(messages: Sequence[Message], options: ChatOptions) -> list[ToolSpec]:
    """With parallel_tool_calls=True, every offered tool the prompt mentions; else pick_tool."""
    if (
        options.parallel_tool_calls
        and options.forced_tool is None
        and options.tool_choice != "none"
    ):
        prompt = prompt_of(messages).lower()
        mentioned = [t for t in options.tools if t.name.lower() in prompt]
        if len(mentioned) > 1 and (
            options.tool_choice == "required" or messages[-1].role is Role.USER
        ):
            return mentioned
    tool = pick_tool(messages, options)
    return [] if tool is None else [tool]


def tool_call_id(messages: Sequence[Message], name: str, index: int = 0) -> str:
    """A call id fixed by the conversation, so identical requests get identical calls."""
    digest = hashlib.sha256()
    for m in messages:
        calls = [[c.id, c.name, c.arguments] for c in m.tool_calls]
        row = [m.role.value, m.content, m.tool_call_id, m.name, calls]
        digest.update(json.dumps(row, ensure_ascii=False).encode())
    digest.update(f"\x00{name}\x00{index}".encode())
    return "call_" + digest.hexdigest()[:16]


def _snippet(prompt: str, schema: Mapping[str, Any]) -> str:
    text = prompt[:_SNIPPET_CHARS] or "reference"
    low = schema.get("minLength")
    high = schema.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    return text


def _bounded(value: float, schema: Mapping[str, Any], step: float) -> float:
    low, high = schema.get("minimum"), schema.get("maximum")
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(low, (int, float)) and value < low:
        value = low
    if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool) and value <= ex_low:
        value = ex_low + step
    if isinstance(high, (int, float)) and value > high:
        value = high
    if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool) and value >= ex_high:
        value = ex_high - step
    return value


def _example(schema: object, prompt: str, depth: int) -> Any:
    if not isinstance(schema, Mapping):
        return _snippet(prompt, {})
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return _example(schema[key][0], prompt, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        return example_arguments(schema, prompt, depth + 1)
    if kind == "array":
        count = schema.get("minItems", 0)
        count = count if isinstance(count, int) and depth < _MAX_SCHEMA_DEPTH else 0
        return [_example(schema.get("items", {}), prompt, depth + 1) for _ in range(count)]
    if kind == "integer":
        return math.ceil(_bounded(1, schema, 1))
    if kind == "number":
        return float(_bounded(1.0, schema, 0.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _snippet(prompt, schema)


def example_arguments(schema: Mapping[str, Any], prompt: str, depth: int = 0) -> dict[str, Any]:
    """Fill every declared property of an object schema with a value of its declared type."""
    properties = schema.get("properties")
    if depth > _MAX_SCHEMA_DEPTH or not isinstance(properties, Mapping):
        return {}
    return {str(name): _example(sub, prompt, depth) for name, sub in properties.items()}
