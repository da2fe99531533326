"""Reading HTTP answers of any protocol: JSON bodies, typed fields and server-sent events."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from chatmodels.messages import ChatChunk
from chatmodels.providers._http_errors import invalid_response

__all__ = [
    "SSEChunkParser",
    "SSEDecoder",
    "is_event_stream",
    "is_json_type",
    "json_event",
    "known_value",
    "parse_json_body",
    "required_field",
]


def is_json_type(content_type: str | None) -> bool:
    """Tell whether a Content-Type header announces JSON."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def is_event_stream(content_type: str | None) -> bool:
    """Tell whether a Content-Type header announces server-sent events."""
    return (content_type or "").split(";", 1)[0].strip().lower() == "text/event-stream"


def parse_json_body(body: bytes, content_type: str | None, *, op: str) -> Any:
    """Decode a 2xx body, refusing empty bodies, other media types and invalid JSON."""
    if not is_json_type(content_type):
        msg = f"{op} expected an application/json answer, got Content-Type {content_type!r}"
        raise invalid_response(msg, op=op)
    if not body.strip():
        msg = f"{op} got an empty answer body with HTTP 2xx"
        raise invalid_response(msg, op=op)
    try:
        return json.loads(body)
    except ValueError as exc:
        msg = f"{op} got an answer that is not valid JSON: {body[:80]!r}"
        raise invalid_response(msg, op=op, cause=exc) from exc


def json_event(payload: str, *, op: str) -> Mapping[str, Any]:
    """Decode one SSE payload that must be a JSON object."""
    try:
        event = json.loads(payload)
    except ValueError as exc:
        msg = f"{op} got a stream event that is not JSON: {payload[:80]!r}"
        raise invalid_response(msg, op=op, cause=exc) from exc
    if not isinstance(event, Mapping):
        msg = f"{op} got a stream event that is not an object: {payload[:80]!r}"
        raise invalid_response(msg, op=op)
    return event


def required_field(
    data: Any, name: str, kind: type | tuple[type, ...], *, op: str, where: str
) -> Any:
    """Read *name* from a JSON object, refusing a missing or mistyped value (bools never pass)."""
    value = data.get(name) if isinstance(data, Mapping) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        msg = f"{op} got an answer whose {where}{name!r} is {value!r}; expected {_kind_name(kind)}"
        raise invalid_response(msg, op=op)
    return value


_T = TypeVar("_T")


def known_value(value: Any, table: Mapping[str, _T], name: str, *, op: str) -> _T:
    """Map the API's *name* through *table*; an unknown value means the answer cannot be trusted."""
    if isinstance(value, str) and value in table:
        return table[value]
    msg = f"{op} got {name} {value!r}; expected one of {sorted(table)!r}"
    raise invalid_response(msg, op=op)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


class SSEDecoder:
    """Cut a text/event-stream into the data payloads of its events (their ``type`` names them)."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed(self, line: str) -> str | None:
        """Take one line; return a payload when a blank line ends an event that carried data."""
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if name == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """Return the pending payload, if any; called at a blank line and at the end of input."""
        if not self._data:
            return None
        payload = "\n".join(self._data)
        self._data = []
        return payload


class SSEChunkParser(ABC):
    """What every protocol's stream parser shares: SSE lines in, each event's payload handed to
    ``_payload``, and a stream that ends before its last event refused as cut short."""

    #: The provider named on the cut-short error, where the protocol names one.
    _provider: ClassVar[str | None] = None

    def __init__(self, *, op: str, fallback_model: str) -> None:
        self._op = op
        self._decoder = SSEDecoder()
        self._model = fallback_model

    def feed_line(self, line: str) -> list[ChatChunk]:
        """Take one line of the stream; return the chunks it completes."""
        payload = self._decoder.feed(line)
        return [] if payload is None else self._payload(payload)

    def finish(self) -> list[ChatChunk]:
        """Close the stream: the last chunks, or an error when it was cut short."""
        payload = self._decoder.flush()
        chunks = [] if payload is None else self._payload(payload)
        missing = self._missing_end()
        if missing is not None:
            msg = f"{self._op} ended before {missing}: the stream was cut short"
            raise invalid_response(msg, op=self._op, provider=self._provider)
        return chunks

    @abstractmethod
    def _payload(self, payload: str) -> list[ChatChunk]:
        """The chunks one event's data completes."""

    @abstractmethod
    def _missing_end(self) -> str | None:
        """What the stream still lacks to be whole (said in the error), or None when whole."""
