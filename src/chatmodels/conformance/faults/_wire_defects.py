"""Protocol defects the fault server can commit on purpose, one per WIRE requirement.

Each defect rewrites a correct answer (stream events, a completion or an error body) the
way a real server gets the chat-completions protocol wrong, so a test can show that the
WIRE requirement it targets, and no other, catches it.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
from typing import Any

__all__ = [
    "WIRE_DEFECTS",
    "defect_completion",
    "defect_error_body",
    "defect_stream",
    "stream_content_type",
    "stream_ends_with_done",
]

#: Every defect, with the WIRE requirement it must fail.
WIRE_DEFECTS: dict[str, str] = {
    "no_content_type": "WIRE-001",
    "changing_ids": "WIRE-002",
    "wrong_object": "WIRE-003",
    "string_created": "WIRE-004",
    "repeated_finish": "WIRE-005",
    "usage_every_chunk": "WIRE-006",
    "no_done": "WIRE-007",
    "keepalive_empty": "WIRE-008",
    "no_tool_index": "WIRE-009",
    "repeated_tool_name": "WIRE-010",
    "bad_stream_arguments": "WIRE-011",
    "object_arguments": "WIRE-012",
    "non_envelope_error": "WIRE-013",
    "no_choice_index": "WIRE-014",
    "ignores_seed": "WIRE-015",
}

_serial = itertools.count()


def stream_content_type(defect: str) -> str | None:
    """The Content-Type of a streamed answer; None sends no such header at all."""
    return None if defect == "no_content_type" else "text/event-stream"


def stream_ends_with_done(defect: str) -> bool:
    """Whether the stream is closed with ``data: [DONE]``."""
    return defect != "no_done"


def _choice_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("choices")]


def defect_stream(defect: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite the chunk events of a correct stream to commit *defect*."""
    events = copy.deepcopy(events)
    choice_events = _choice_events(events)
    if defect == "changing_ids":
        for event in events:
            event["id"] = f"chatcmpl-wire-{next(_serial)}"
    elif defect == "wrong_object":
        for event in events:
            event["object"] = "chat.completion"
    elif defect == "string_created":
        for event in events:
            event["created"] = str(event["created"])
    elif defect == "repeated_finish":
        final = choice_events[-1]["choices"][0]["finish_reason"]
        for event in choice_events:
            event["choices"][0]["finish_reason"] = final
    elif defect == "usage_every_chunk":
        usage = next((e["usage"] for e in events if e.get("usage")), None)
        usage = usage or {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        for event in events:
            event["usage"] = usage
    elif defect == "keepalive_empty":
        blank = copy.deepcopy(choice_events[-1])
        blank["choices"][0].update(delta={}, finish_reason=None)
        events.insert(1, blank)
    elif defect in ("no_tool_index", "repeated_tool_name", "bad_stream_arguments"):
        _tool_deltas(defect, choice_events)
    elif defect == "no_choice_index":
        for event in choice_events:
            del event["choices"][0]["index"]
    elif defect == "ignores_seed":
        _scramble(choice_events)
    return events


def _tool_deltas(defect: str, events: list[dict[str, Any]]) -> None:
    first: dict[int, dict[str, Any]] = {}
    deltas = [d for e in events for d in e["choices"][0]["delta"].get("tool_calls") or ()]
    for delta in deltas:
        first.setdefault(delta["index"], delta)
    for delta in deltas:
        if defect == "no_tool_index":
            del delta["index"]
        elif defect == "repeated_tool_name":
            head = first[delta["index"]]
            delta["id"] = head["id"]
            delta["type"] = "function"
            delta["function"]["name"] = head["function"]["name"]
    if defect == "bad_stream_arguments" and deltas:
        last = deltas[-1]["function"]
        last["arguments"] = last["arguments"][:-1]


def _scramble(events: list[dict[str, Any]]) -> None:
    for event in events:
        delta = event["choices"][0]["delta"]
        if delta.get("content"):
            delta["content"] += f" {random.randrange(10**6)}"
            return


def defect_completion(defect: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a correct chat.completion object to commit *defect*."""
    payload = copy.deepcopy(payload)
    message = payload["choices"][0]["message"]
    if defect == "wrong_object":
        payload["object"] = "chat.completion.chunk"
    elif defect == "string_created":
        payload["created"] = str(payload["created"])
    elif defect == "object_arguments":
        for call in message.get("tool_calls") or ():
            call["function"]["arguments"] = json.loads(call["function"]["arguments"])
    elif defect == "no_choice_index":
        del payload["choices"][0]["index"]
    elif defect == "ignores_seed" and message.get("content"):
        message["content"] += f" {random.randrange(10**6)}"
    return payload


def defect_error_body(defect: str, body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAI error envelope; ``non_envelope_error`` flattens it as some servers do."""
    if defect != "non_envelope_error":
        return body
    return {"detail": body.get("error", {}).get("message", "error")}
