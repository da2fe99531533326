"""The wire suite's judgements of Anthropic Messages: pure functions from raw exchanges (SSE
events as sent, bodies as received) to the problems they show."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from chatmodels.conformance.suites._wire_judges import Chunk, StreamView, clip
from chatmodels.providers._http_capture import WireExchange

__all__ = [
    "STOP_REASONS",
    "block_problems",
    "envelope_problems",
    "input_tokens_problems",
    "message_delta_problems",
    "order_problems",
    "tool_input_problems",
    "whole_inputs",
]

#: The stop reasons the Messages API documents.
STOP_REASONS = frozenset(
    {
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
    }
)


def _events(view: StreamView) -> Iterator[tuple[Chunk, str, Mapping[str, Any]]]:
    """Every event that decoded to an object, with its type ("" when it has none)."""
    for chunk, data in view.objects():
        kind = data.get("type")
        yield chunk, kind if isinstance(kind, str) else "", data


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def order_problems(view: StreamView) -> list[str]:
    """WIRE-016: message_start is the first event and message_stop the last, once each."""
    kinds = [kind for _, kind, _ in _events(view) if kind != "ping"]
    problems = []
    for name in ("message_start", "message_stop"):
        if kinds.count(name) != 1:
            problems.append(f"the stream sent {kinds.count(name)} {name} events; expected one")
    if kinds and kinds[0] != "message_start":
        problems.append(f"the first event is {kinds[0]!r}; expected 'message_start'")
    if kinds and kinds[-1] != "message_stop":
        problems.append(f"the last event is {kinds[-1]!r}; expected 'message_stop'")
    return problems


def block_problems(view: StreamView) -> list[str]:
    """WIRE-017: blocks open at index 0, 1, 2..., one at a time; deltas only inside their block."""
    problems: list[str] = []
    open_index: int | None = None
    next_index = 0
    for chunk, kind, data in _events(view):
        index = data.get("index")
        where = f"{chunk.where()} ({kind} index {clip(index)})"
        if kind == "content_block_start":
            if open_index is not None:
                problems.append(f"{where}: block {open_index} is still open")
            if index != next_index:
                problems.append(f"{where}: expected the next block to be index {next_index}")
            open_index = index if isinstance(index, int) else None
        elif kind == "content_block_delta" and (open_index is None or index != open_index):
            problems.append(f"{where}: no block with that index is open")
        elif kind == "content_block_stop":
            if open_index is None or index != open_index:
                problems.append(f"{where}: closes a block that is not open")
            else:
                next_index = open_index + 1
            open_index = None
        elif kind in ("message_delta", "message_stop") and open_index is not None:
            problems.append(f"{where}: block {open_index} was never closed")
            open_index = None
    return problems


def message_delta_problems(view: StreamView) -> list[str]:
    """WIRE-018: after the last block closes, a message_delta carries stop_reason and usage."""
    events = list(_events(view))
    stops = [i for i, (_, kind, _) in enumerate(events) if kind == "content_block_stop"]
    last_stop = max(stops, default=-1)
    deltas = [(i, c, d) for i, (c, k, d) in enumerate(events) if k == "message_delta"]
    if not deltas:
        return ["the stream sent no message_delta; expected one with stop_reason and usage"]
    problems = [
        f"{chunk.where()}: message_delta before the last content block closed"
        for i, chunk, _ in deltas
        if i < last_stop
    ]
    _, chunk, data = deltas[-1]
    delta = data.get("delta")
    reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
    if reason not in STOP_REASONS:
        problems.append(
            f"{chunk.where()}: message_delta stop_reason is {clip(reason)}; "
            f"expected one of {sorted(STOP_REASONS)}"
        )
    usage = data.get("usage")
    output = usage.get("output_tokens") if isinstance(usage, Mapping) else None
    if not _is_count(output):
        problems.append(
            f"{chunk.where()}: message_delta usage.output_tokens is {clip(output)}; "
            "expected an integer >= 0"
        )
    return problems


def input_tokens_problems(view: StreamView) -> list[str]:
    """WIRE-019: message_start's message carries usage.input_tokens, an integer >= 0."""
    for chunk, kind, data in _events(view):
        if kind != "message_start":
            continue
        message = data.get("message")
        usage = message.get("usage") if isinstance(message, Mapping) else None
        count = usage.get("input_tokens") if isinstance(usage, Mapping) else None
        if _is_count(count):
            return []
        return [
            f"{chunk.where()}: message_start message.usage.input_tokens is {clip(count)}; "
            "expected an integer >= 0"
        ]
    return ["the stream sent no message_start, so no input_tokens"]


def _streamed_inputs(view: StreamView) -> tuple[list[str], list[str]]:
    """The joined input_json_delta text of each tool_use block, in block order."""
    texts: dict[int, str] = {}
    problems = []
    for chunk, kind, data in _events(view):
        index = data.get("index")
        if kind == "content_block_start":
            block = data.get("content_block")
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                texts[index if isinstance(index, int) else len(texts)] = ""
        elif kind == "content_block_delta" and index in texts:
            delta = data.get("delta")
            part = delta.get("partial_json") if isinstance(delta, Mapping) else None
            if isinstance(part, str):
                texts[index] += part
            else:
                problems.append(f"{chunk.where()}: partial_json is {clip(part)}; expected text")
    return [texts[i] for i in sorted(texts)], problems


def whole_inputs(whole: Any) -> list[Any]:
    """The ``input`` of each tool_use block of a whole message, in order."""
    content = whole.get("content") if isinstance(whole, Mapping) else None
    blocks = content if isinstance(content, list) else []
    return [
        block.get("input")
        for block in blocks
        if isinstance(block, Mapping) and block.get("type") == "tool_use"
    ]


def tool_input_problems(view: StreamView, whole: Any) -> tuple[list[str], list[str]]:
    """WIRE-020: (problems, mismatches): each tool_use block's input_json_delta fragments join
    to JSON equal to the non-streamed block's input (no fragment at all means {})."""
    streamed, problems = _streamed_inputs(view)
    expected = whole_inputs(whole)
    mismatches = []
    for position, text in enumerate(streamed):
        try:
            parsed = json.loads(text) if text.strip() else {}
        except ValueError:
            joined = clip(text)
            problems.append(f"tool_use block {position}: the fragments join to {joined}, not JSON")
            continue
        if position < len(expected) and parsed != expected[position]:
            mismatches.append(
                f"tool_use block {position}: streamed input {clip(parsed)} differs from the "
                f"non-streamed {clip(expected[position])}"
            )
    return problems, mismatches


def envelope_problems(exchange: WireExchange) -> list[str]:
    """WIRE-021: an error body is {"type": "error", "error": {"type", "message"}}."""
    where = f"HTTP {exchange.status} to {exchange.method} {exchange.path}"
    try:
        body = json.loads(exchange.response_body)
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, Mapping) else None
    enveloped = isinstance(body, Mapping) and body.get("type") == "error"
    if not enveloped or not isinstance(error, Mapping):
        shown = clip(exchange.response_body.decode("utf-8", "replace"))
        return [f'{where}: body {shown} is not a {{"type": "error", "error": {{...}}}} envelope']
    return [
        f"{where}: error.{key} is {clip(error.get(key))}; expected a string"
        for key in ("type", "message")
        if not isinstance(error.get(key), str)
    ]
