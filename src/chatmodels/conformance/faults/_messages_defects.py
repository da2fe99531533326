"""Anthropic Messages defects the fault server commits on purpose, one per Messages WIRE
requirement, each a rewrite of a correct answer."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["MESSAGES_WIRE_DEFECTS", "defect_error", "defect_events"]

#: Every Messages defect, with the WIRE requirement it must fail.
MESSAGES_WIRE_DEFECTS: dict[str, str] = {
    "start_not_first": "WIRE-016",
    "delta_after_block_stop": "WIRE-017",
    "no_stop_reason": "WIRE-018",
    "no_input_tokens": "WIRE-019",
    "short_tool_input": "WIRE-020",
    "bare_error": "WIRE-021",
}


def _positions(events: list[dict[str, Any]], kind: str) -> list[int]:
    return [i for i, event in enumerate(events) if event["type"] == kind]


def defect_events(defect: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite the events of a correct stream to commit *defect*."""
    events = copy.deepcopy(events)
    if defect == "start_not_first":
        start = events.pop(0)
        events.insert(_positions(events, "content_block_start")[0] + 1, start)
    elif defect == "delta_after_block_stop":
        stop = _positions(events, "content_block_stop")[0]
        deltas = [i for i in _positions(events, "content_block_delta") if i < stop]
        if deltas:
            events.insert(stop, events.pop(deltas[-1]))  # the block's last delta, after its stop
    elif defect == "no_stop_reason":
        for i in _positions(events, "message_delta"):
            events[i]["delta"]["stop_reason"] = None
    elif defect == "no_input_tokens":
        del events[0]["message"]["usage"]["input_tokens"]
    elif defect == "short_tool_input":
        json_deltas = [
            i
            for i in _positions(events, "content_block_delta")
            if events[i]["delta"]["type"] == "input_json_delta"
        ]
        if json_deltas:
            del events[json_deltas[-1]]
    return events


def defect_error(defect: str, body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an error envelope; ``bare_error`` flattens it to its message, as some servers do."""
    if defect != "bare_error":
        return body
    return {"message": body.get("error", {}).get("message", "error")}
