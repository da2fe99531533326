"""The wire suite's judgements: pure functions from raw exchanges to the problems they show.

Every judge reads only what crossed the wire (``WireExchange``), never a parsed ChatChunk,
so whatever the provider tolerated for its users is still reported here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chatmodels.conformance._wire_schema import format_path, schema_problems
from chatmodels.providers._http_capture import WireExchange

__all__ = [
    "Chunk",
    "StreamView",
    "arguments_problems",
    "content_type_problems",
    "created_problems",
    "done_problems",
    "empty_chunk_problems",
    "envelope_problems",
    "finish_problems",
    "identity_problems",
    "object_problems",
    "owned_schema_field",
    "schema_problem_lines",
    "clip",
    "streamed_arguments",
    "tool_index_problems",
    "tool_once_problems",
    "usage_problems",
    "whole_arguments",
]


@dataclass(frozen=True, slots=True)
class Chunk:
    """One SSE event of a stream: its position, raw text and decoded JSON (None if not JSON)."""

    position: int
    raw: str
    data: Any

    def where(self) -> str:
        return f"chunk {self.position}"


@dataclass(frozen=True, slots=True)
class StreamView:
    """A streamed exchange cut into its chunks, and whether it ended with [DONE]."""

    exchange: WireExchange
    chunks: tuple[Chunk, ...]
    events: tuple[str, ...]

    @classmethod
    def of(cls, exchange: WireExchange) -> StreamView:
        events = tuple(e.data for e in exchange.events())
        chunks = []
        for position, raw in enumerate(events):
            if raw.strip() == "[DONE]":
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                data = None
            chunks.append(Chunk(position, raw, data))
        return cls(exchange, tuple(chunks), events)

    def objects(self) -> Iterator[tuple[Chunk, Mapping[str, Any]]]:
        """The chunks that decoded to JSON objects."""
        for chunk in self.chunks:
            if isinstance(chunk.data, Mapping):
                yield chunk, chunk.data

    def choices(self) -> Iterator[tuple[Chunk, int, Mapping[str, Any]]]:
        """Every (chunk, choice index, choice) in order; a choice without index counts as 0."""
        for chunk, data in self.objects():
            choices = data.get("choices")
            for choice in choices if isinstance(choices, list) else ():
                if isinstance(choice, Mapping):
                    index = choice.get("index", 0)
                    yield chunk, index if isinstance(index, int) else 0, choice

    def tool_deltas(self) -> Iterator[tuple[Chunk, int, Mapping[str, Any]]]:
        """Every streamed tool-call delta, with the position it came in (not its index)."""
        for chunk, _, choice in self.choices():
            delta = choice.get("delta")
            calls = delta.get("tool_calls") if isinstance(delta, Mapping) else None
            for position, call in enumerate(calls if isinstance(calls, list) else ()):
                if isinstance(call, Mapping):
                    yield chunk, position, call


def _request(exchange: WireExchange) -> Mapping[str, Any]:
    try:
        body = json.loads(exchange.request_body)
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _body(exchange: WireExchange) -> Any:
    try:
        return json.loads(exchange.response_body)
    except ValueError:
        return None


def clip(value: Any) -> str:
    """*value* as a problem quotes it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# -- streams -------------------------------------------------------------------------------


def content_type_problems(view: StreamView) -> list[str]:
    """WIRE-001: a 2xx stream is announced as text/event-stream."""
    media = (view.exchange.header("content-type") or "").split(";", 1)[0].strip().lower()
    if media == "text/event-stream":
        return []
    shown = view.exchange.header("content-type")
    return [f"the streamed answer came with Content-Type {shown!r}; expected text/event-stream"]


def identity_problems(view: StreamView) -> list[str]:
    """WIRE-002: one id and one model across the stream."""
    problems = []
    for name in ("id", "model"):
        values = list(dict.fromkeys(data.get(name) for _, data in view.objects()))
        if len(values) > 1:
            problems.append(
                f"the chunks name {len(values)} different {name}s: {clip(values[:4])}; "
                f"expected one {name} on every chunk"
            )
    return problems


def object_problems(view: StreamView | None, whole: Any = None) -> list[str]:
    """WIRE-003: the object value of chunks and of a whole answer."""
    problems = []
    for chunk, data in view.objects() if view is not None else ():
        if data.get("object") != "chat.completion.chunk":
            problems.append(
                f"{chunk.where()}: object is {clip(data.get('object'))}; "
                "expected 'chat.completion.chunk'"
            )
    if isinstance(whole, Mapping) and whole.get("object") != "chat.completion":
        problems.append(
            f"the whole answer: object is {clip(whole.get('object'))}; expected 'chat.completion'"
        )
    return problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def created_problems(view: StreamView | None, whole: Any = None) -> list[str]:
    """WIRE-004: created is an integer everywhere."""
    problems = []
    for chunk, data in view.objects() if view is not None else ():
        if not _is_int(data.get("created")):
            problems.append(
                f"{chunk.where()}: created is {clip(data.get('created'))}; expected an integer"
            )
    if isinstance(whole, Mapping) and not _is_int(whole.get("created")):
        problems.append(
            f"the whole answer: created is {clip(whole.get('created'))}; expected an integer"
        )
    return problems


def finish_problems(view: StreamView) -> list[str]:
    """WIRE-005: one finish reason per choice, on its last chunk."""
    seen: dict[int, list[int]] = {}
    last: dict[int, int] = {}
    for chunk, index, choice in view.choices():
        last[index] = chunk.position
        if choice.get("finish_reason") is not None:
            seen.setdefault(index, []).append(chunk.position)
    problems = []
    for index, final in sorted(last.items()):
        at = seen.get(index, [])
        if len(at) != 1:
            problems.append(
                f"choice {index}: finish_reason is set on {len(at)} chunks (at {at[:6]}); "
                "expected exactly one"
            )
        elif at[0] != final:
            problems.append(
                f"choice {index}: finish_reason came at chunk {at[0]} but the choice went on "
                f"to chunk {final}; expected it on the choice's last chunk"
            )
    return problems


def usage_problems(view: StreamView) -> list[str]:
    """WIRE-006: usage on exactly one final chunk if asked for, else never."""
    options = _request(view.exchange).get("stream_options")
    asked = isinstance(options, Mapping) and bool(options.get("include_usage"))
    at = [chunk.position for chunk, data in view.objects() if data.get("usage") is not None]
    final = view.chunks[-1].position if view.chunks else None
    if not asked:
        if at:
            return [
                f"usage came on chunks {at[:6]} of a stream that did not set "
                "stream_options.include_usage; expected none"
            ]
        return []
    if len(at) != 1:
        return [
            f"with stream_options.include_usage, usage came on {len(at)} chunks (at {at[:6]}); "
            "expected exactly one, the final chunk"
        ]
    if at[0] != final:
        return [f"usage came on chunk {at[0]}, but chunk {final} followed; expected it last"]
    return []


def done_problems(view: StreamView) -> list[str]:
    """WIRE-007: the last event is [DONE]."""
    if view.events and view.events[-1].strip() == "[DONE]":
        return []
    tail = clip(view.events[-1]) if view.events else "nothing"
    return [f"the stream's last event was {tail}; expected data: [DONE]"]


def _has_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_empty(data: Mapping[str, Any]) -> bool:
    if data.get("usage") is not None:
        return False
    choices = data.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, Mapping) or choice.get("finish_reason") is not None:
            return False
        delta = choice.get("delta")
        if not isinstance(delta, Mapping):
            return False
        if delta.get("role") or delta.get("tool_calls") or delta.get("function_call"):
            return False
        if _has_text(delta.get("content")) or _has_text(delta.get("refusal")):
            return False
    return True


def empty_chunk_problems(view: StreamView) -> list[str]:
    """WIRE-008: every chunk carries something."""
    empty = [chunk.position for chunk, data in view.objects() if _is_empty(data)]
    if not empty:
        return []
    return [
        f"{len(empty)} chunks (at {empty[:6]}) carry no role, content, tool-call delta, "
        "finish reason or usage; expected none"
    ]


def tool_index_problems(view: StreamView) -> list[str]:
    """WIRE-009: every tool-call delta has an integer index."""
    return [
        f"{chunk.where()}: choices[..].delta.tool_calls[{position}].index is "
        f"{'missing' if 'index' not in call else clip(call['index'])}; expected an integer"
        for chunk, position, call in view.tool_deltas()
        if not _is_int(call.get("index"))
    ]


def tool_once_problems(view: StreamView) -> list[str]:
    """WIRE-010: each call's id and function name are sent once, in its first delta."""
    sent: dict[int, dict[str, list[int]]] = {}
    first: dict[int, int] = {}
    for chunk, position, call in view.tool_deltas():
        index = call.get("index", position)
        key = index if _is_int(index) else position
        first.setdefault(key, chunk.position)
        function = call.get("function")
        name = function.get("name") if isinstance(function, Mapping) else None
        for field, value in (("id", call.get("id")), ("function.name", name)):
            if _has_text(value):
                sent.setdefault(key, {}).setdefault(field, []).append(chunk.position)
    problems = []
    for key, start in sorted(first.items()):
        for field in ("id", "function.name"):
            at = sent.get(key, {}).get(field, [])
            if len(at) != 1 or at[0] != start:
                problems.append(
                    f"tool call {key}: {field} was sent on chunks {at[:6]}; expected once, "
                    f"on the call's first delta (chunk {start})"
                )
    return problems


def streamed_arguments(view: StreamView) -> tuple[dict[int, str], list[str]]:
    """WIRE-011: join each call's argument fragments; non-text fragments are problems."""
    joined: dict[int, str] = {}
    problems = []
    for chunk, position, call in view.tool_deltas():
        index = call.get("index", position)
        key = index if _is_int(index) else position
        function = call.get("function")
        fragment = function.get("arguments") if isinstance(function, Mapping) else None
        if fragment is None:
            joined.setdefault(key, "")
            continue
        if not isinstance(fragment, str):
            problems.append(
                f"{chunk.where()}: tool call {key} sent arguments {clip(fragment)}; "
                "expected a string fragment"
            )
            continue
        joined[key] = joined.get(key, "") + fragment
    return joined, problems


def whole_arguments(whole: Any) -> list[Any]:
    """The raw ``arguments`` of each tool call of a whole answer, in order."""
    try:
        calls = whole["choices"][0]["message"].get("tool_calls") or []
        return [call["function"].get("arguments") for call in calls]
    except (KeyError, IndexError, TypeError, AttributeError):
        return []


def arguments_problems(view: StreamView, whole: Any) -> tuple[list[str], list[str]]:
    """WIRE-011: (problems, mismatches) of streamed arguments against the whole answer's."""
    joined, problems = streamed_arguments(view)
    expected = whole_arguments(whole)
    mismatches = []
    for key, text in sorted(joined.items()):
        try:
            parsed = json.loads(text)
        except ValueError:
            problems.append(
                f"tool call {key}: the argument fragments join to {clip(text)}, which is not JSON"
            )
            continue
        if key >= len(expected):
            continue
        want = expected[key]
        if isinstance(want, str):
            try:
                want = json.loads(want)
            except ValueError:
                continue
        if parsed != want:
            mismatches.append(
                f"tool call {key}: streamed arguments {clip(parsed)} differ from the "
                f"non-streamed {clip(want)}"
            )
    return problems, mismatches


# -- whole answers and errors ------------------------------------------------------------


def whole_arguments_problems(whole: Any) -> list[str]:
    """WIRE-012: arguments of a whole answer are strings."""
    return [
        f"choices[0].message.tool_calls[{i}].function.arguments is {clip(value)}; "
        "expected a JSON string"
        for i, value in enumerate(whole_arguments(whole))
        if not isinstance(value, str)
    ]


def envelope_problems(exchange: WireExchange) -> list[str]:
    """WIRE-013: an error body is {"error": {"message", "type", "code"}}."""
    where = f"HTTP {exchange.status} to {exchange.method} {exchange.path}"
    body = _body(exchange)
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        shown = clip(exchange.response_body.decode("utf-8", "replace"))
        return [f'{where}: body {shown} is not an {{"error": {{...}}}} envelope']
    problems = []
    missing = [k for k in ("message", "type", "code") if k not in error]
    if missing:
        problems.append(f"{where}: error object lacks {missing}; got keys {sorted(error)}")
    for key in ("message", "type"):
        if key in error and not isinstance(error[key], str):
            problems.append(f"{where}: error.{key} is {clip(error[key])}; expected a string")
    return problems


#: Fields judged by their own requirement, left out of WIRE-014 so one defect fails one ID.
_OWNED = {"object": "WIRE-003", "created": "WIRE-004"}


def owned_schema_field(path: Sequence[str | int]) -> str | None:
    """The requirement that owns a schema problem at *path*, if not WIRE-014."""
    if len(path) == 1 and path[0] in _OWNED:
        return _OWNED[str(path[0])]
    if "tool_calls" in path and path[-1] == "index":
        return "WIRE-009"
    if "tool_calls" in path and path[-1] == "arguments":
        return "WIRE-011" if "delta" in path else "WIRE-012"
    return None


def schema_problem_lines(payload: Any, kind: str, where: str) -> list[str]:
    """WIRE-014: schema problems of one payload not owned by another requirement."""
    if payload is None:
        return [f"{where}: not JSON"]
    return [
        f"{where}: {format_path(p.path) or '(payload)'}: {p.message}"
        for p in schema_problems(payload, kind)
        if owned_schema_field(p.path) is None
    ]
