"""The Open Responses judgements of the wire suite: pure functions from raw captures to problems.

Each reads the events as sent (a ``StreamView`` of the exchange), never the chunks the
provider assembled, and names the event by its position and type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from chatmodels.conformance._responses_schema import event_problems, response_problems
from chatmodels.conformance.suites._wire_judges import Chunk, StreamView

__all__ = [
    "TERMINAL_EVENTS",
    "argument_problems",
    "events",
    "has_function_call",
    "item_order_problems",
    "schema_problems",
    "sequence_problems",
    "terminal_problems",
]

TERMINAL_EVENTS = frozenset({"response.completed", "response.failed", "response.incomplete"})
#: Events that belong to an open output item, named by its output_index.
_INSIDE_ITEM = frozenset(
    {
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_text.annotation.added",
        "response.refusal.delta",
        "response.refusal.done",
        "response.reasoning.delta",
        "response.reasoning.done",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
    }
)


def events(view: StreamView) -> Iterator[tuple[Chunk, Mapping[str, Any]]]:
    """Every event that decoded to a JSON object, in the order sent."""
    return view.objects()


def _name(chunk: Chunk, event: Mapping[str, Any]) -> str:
    return f"event {chunk.position} ({event.get('type')!s})"


def schema_problems(view: StreamView | None, whole: Any = None) -> list[str]:
    """Every way a streamed event, or a whole response, breaks the Open Responses schema."""
    problems: list[str] = []
    if view is not None:
        for chunk in view.chunks:
            if chunk.data is None:
                problems.append(f"event {chunk.position}: not JSON: {chunk.raw[:60]!r}")
                continue
            where = _name(chunk, chunk.data) if isinstance(chunk.data, Mapping) else chunk.where()
            problems += [f"{where}: {p}" for p in event_problems(chunk.data)]
    if whole is not None:
        problems += [f"whole response: {p}" for p in response_problems(whole)]
    return problems


def sequence_problems(view: StreamView) -> list[str]:
    """Events without an integer sequence_number, or whose number does not rise."""
    problems, last = [], None
    for chunk, event in events(view):
        number = event.get("sequence_number")
        if isinstance(number, bool) or not isinstance(number, int):
            problems.append(f"{_name(chunk, event)} has sequence_number {number!r}")
            continue
        if last is not None and number <= last:
            problems.append(f"{_name(chunk, event)} has sequence_number {number} after {last}")
        last = number
    return problems


def terminal_problems(view: StreamView) -> list[str]:
    """A stream without exactly one terminal event, or one whose terminal event is not last."""
    found = [(c, e) for c, e in events(view) if e.get("type") in TERMINAL_EVENTS]
    every = list(events(view))
    if not found:
        return ["the stream has no terminal event (response.completed, .failed or .incomplete)"]
    problems = []
    if len(found) > 1:
        named = ", ".join(_name(c, e) for c, e in found)
        problems.append(f"the stream has {len(found)} terminal events: {named}")
    last_chunk, _ = found[-1]
    if every and every[-1][0] is not last_chunk:
        problems.append(f"{_name(*every[-1])} comes after the terminal {_name(*found[-1])}")
    return problems


def item_order_problems(view: StreamView) -> list[str]:
    """Events of an output item sent before its output_item.added or after its .done."""
    opened: set[int] = set()
    closed: set[int] = set()
    problems = []
    for chunk, event in events(view):
        kind, index = event.get("type"), event.get("output_index")
        if not isinstance(index, int):
            continue
        if kind == "response.output_item.added":
            opened.add(index)
        elif kind == "response.output_item.done":
            if index not in opened:
                problems.append(f"{_name(chunk, event)} closes output {index} never opened")
            closed.add(index)
        elif kind in _INSIDE_ITEM:
            if index not in opened:
                problems.append(f"{_name(chunk, event)} comes before output {index} was opened")
            elif index in closed:
                problems.append(f"{_name(chunk, event)} comes after output {index} was closed")
    return problems


def has_function_call(view: StreamView) -> bool:
    """Tell whether the stream opened a function_call item."""
    return any(_call_item(e) is not None for _, e in events(view))


def _call_item(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    item = event.get("item")
    if isinstance(item, Mapping) and item.get("type") == "function_call":
        return item
    return None


def argument_problems(view: StreamView) -> list[str]:
    """Function calls whose argument deltas do not add up to their done events' arguments."""
    deltas: dict[int, list[str]] = {}
    finals: dict[int, list[tuple[str, Any]]] = {}
    for chunk, event in events(view):
        kind, index = event.get("type"), event.get("output_index")
        if not isinstance(index, int):
            continue
        if kind == "response.function_call_arguments.delta":
            deltas.setdefault(index, []).append(str(event.get("delta", "")))
        elif kind == "response.function_call_arguments.done":
            finals.setdefault(index, []).append((_name(chunk, event), event.get("arguments")))
        elif kind == "response.output_item.done" and (item := _call_item(event)) is not None:
            finals.setdefault(index, []).append((_name(chunk, event), item.get("arguments")))
    problems = []
    for index, parts in sorted(deltas.items()):
        joined = "".join(parts)
        for where, arguments in finals.get(index, []):
            if arguments != joined:
                problems.append(
                    f"output {index}: the deltas join to {_shown(joined)}, but {where} has "
                    f"{_shown(arguments)}"
                )
    return problems


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
