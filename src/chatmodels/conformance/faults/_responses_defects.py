"""Open Responses defects the fault server commits on purpose, one per Responses WIRE requirement,
and the two protocol faults a client must handle: a stream that fails, one left incomplete."""

from __future__ import annotations

import copy
from typing import Any

from ._responses_json import TERMINAL_EVENTS

__all__ = ["RESPONSES_WIRE_DEFECTS", "defect_events", "end_as"]

#: Every Open Responses defect, with the WIRE requirement it must fail.
RESPONSES_WIRE_DEFECTS: dict[str, str] = {
    "event_schema": "WIRE-030",
    "shuffled_sequence": "WIRE-031",
    "two_terminals": "WIRE-032",
    "delta_before_added": "WIRE-033",
    "short_call_arguments": "WIRE-034",
}

_DELTAS = ("response.output_text.delta", "response.function_call_arguments.delta")


def _renumber(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def end_as(events: list[dict[str, Any]], status: str) -> list[dict[str, Any]]:
    """End the stream with ``response.<status>`` (failed or incomplete) instead of its own end."""
    events = copy.deepcopy(events)
    final = events[-1]
    final["type"] = f"response.{status}"
    final["response"] = end_response(final["response"], status)
    return events


def end_response(response: dict[str, Any], status: str) -> dict[str, Any]:
    """A finished response object turned *status*: failed with an error, or incomplete."""
    response = {**response, "status": status, "completed_at": None}
    if status == "failed":
        response["error"] = {"code": "server_error", "message": "fault injected: response.failed"}
    else:
        response["incomplete_details"] = {"reason": "max_output_tokens"}
    return response


def defect_events(defect: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rewrite the events of a correct stream to commit *defect*."""
    events = copy.deepcopy(events)
    if defect == "event_schema":
        for event in events:
            if event["type"] == "response.output_text.delta":
                del event["content_index"]
    elif defect == "shuffled_sequence":
        events[2]["sequence_number"], events[3]["sequence_number"] = (
            events[3]["sequence_number"],
            events[2]["sequence_number"],
        )
    elif defect == "two_terminals":
        final = events[-1]
        failed = {"type": "response.failed", "response": end_response(final["response"], "failed")}
        events.insert(len(events) - 1, failed)
        _renumber(events)
    elif defect == "delta_before_added":
        opened = next(e for e in events if e["type"] == "response.output_item.added")
        first = next(i for i, e in enumerate(events) if e["type"] in _DELTAS)
        events.remove(opened)
        events.insert(first, opened)
        _renumber(events)
    elif defect == "short_call_arguments":
        deltas = [e for e in events if e["type"] == "response.function_call_arguments.delta"]
        if deltas:
            deltas[-1]["delta"] = deltas[-1]["delta"][:-1]
    assert events[-1]["type"] in TERMINAL_EVENTS
    return events
