"""Faults the server can play, and the record it keeps of every request."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._messages_defects import MESSAGES_WIRE_DEFECTS
from ._responses_defects import RESPONSES_WIRE_DEFECTS
from ._wire_defects import WIRE_DEFECTS

__all__ = ["FAULT_HEADER", "FAULT_KINDS", "Fault", "FaultError", "RequestRecord", "parse_fault"]

#: The request header that scripts a fault for that one request.
FAULT_HEADER = "X-Chatmodels-Fault"

FAULT_KINDS = (
    "ok",
    "status",
    "latency",
    "drip",
    "malformed_json",
    "wrong_content_type",
    "cut_stream",
    "reset",
    "huge_body",
    "empty_200",
    "wire",
    "failed_stream",
    "incomplete",
)

#: Every wire defect the server can commit, whichever protocol it breaks.
ALL_WIRE_DEFECTS = (
    frozenset(WIRE_DEFECTS) | frozenset(RESPONSES_WIRE_DEFECTS) | frozenset(MESSAGES_WIRE_DEFECTS)
)

#: Size of a huge_body answer when none is given: large enough to need several reads.
DEFAULT_HUGE_SIZE = 4 * 1024 * 1024


class FaultError(ValueError):
    """A fault was described wrongly: an unknown kind, a bad parameter or a bad header."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted behaviour of the server for one request.

    Build faults with the constructors: ``Fault.ok()``, ``Fault.status(429, retry_after=1)``,
    ``Fault.latency(0.5)``, ``Fault.drip(0.05)``, ``Fault.malformed_json()``,
    ``Fault.wrong_content_type()``, ``Fault.cut_stream(after_chunks=2)``, ``Fault.reset()``,
    ``Fault.huge_body(size=...)``, ``Fault.empty_200()``, ``Fault.wire(defect)``, and on
    ``/v1/responses`` and ``/v1/messages`` only ``Fault.failed_stream()`` and
    ``Fault.incomplete()``. On an
    instance, ``status`` is the HTTP status field; on the class it is the constructor.
    """

    kind: str
    status: int = 200
    retry_after: float | str | None = None
    delay: float = 0.0
    after_chunks: int = 1
    size: int = 0
    defect: str = ""

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            msg = f"Fault.kind must be one of {FAULT_KINDS!r}, got {self.kind!r}"
            raise FaultError(msg)
        if (self.kind == "wire") != (self.defect in ALL_WIRE_DEFECTS):
            msg = f"Fault.defect must be one of {sorted(ALL_WIRE_DEFECTS)!r} exactly when kind is "
            msg += f"'wire', got kind={self.kind!r}, defect={self.defect!r}"
            raise FaultError(msg)
        if isinstance(self.status, bool) or not isinstance(self.status, int):
            msg = f"Fault.status must be an int HTTP status, got {self.status!r}"
            raise FaultError(msg)
        if not 100 <= self.status <= 599:
            msg = f"Fault.status must be an HTTP status in 100..599, got {self.status!r}"
            raise FaultError(msg)
        if not _non_negative(self.delay):
            msg = f"Fault.delay must be a number of seconds >= 0, got {self.delay!r}"
            raise FaultError(msg)
        for name in ("after_chunks", "size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                msg = f"Fault.{name} must be an int >= 0, got {value!r}"
                raise FaultError(msg)

    @classmethod
    def ok(cls) -> Fault:
        """Answer normally."""
        return cls("ok")

    @classmethod
    def http_status(cls, status: int, *, retry_after: float | str | None = None) -> Fault:
        """Answer with *status* and an OpenAI-style error body, plus Retry-After when given.

        ``Fault.status(...)`` is the same constructor; this name also type-checks.
        """
        return cls("status", status=status, retry_after=retry_after)

    @classmethod
    def latency(cls, delay: float) -> Fault:
        """Wait *delay* seconds, then answer normally."""
        return cls("latency", delay=delay)

    @classmethod
    def drip(cls, delay: float) -> Fault:
        """Answer normally, sending each piece *delay* seconds after the previous one."""
        return cls("drip", delay=delay)

    @classmethod
    def malformed_json(cls) -> Fault:
        """Answer 200 with a body that is not valid JSON."""
        return cls("malformed_json")

    @classmethod
    def wrong_content_type(cls) -> Fault:
        """Answer 200 with an HTML page."""
        return cls("wrong_content_type")

    @classmethod
    def cut_stream(cls, after_chunks: int = 1) -> Fault:
        """Send *after_chunks* events, then close without the final one or ``[DONE]``."""
        return cls("cut_stream", after_chunks=after_chunks)

    @classmethod
    def reset(cls) -> Fault:
        """Abort the connection before answering."""
        return cls("reset")

    @classmethod
    def huge_body(cls, size: int = DEFAULT_HUGE_SIZE) -> Fault:
        """Answer correctly, padded with about *size* bytes the client must read and ignore."""
        return cls("huge_body", size=size)

    @classmethod
    def empty_200(cls) -> Fault:
        """Answer 200 with an empty body."""
        return cls("empty_200")

    @classmethod
    def wire(cls, defect: str) -> Fault:
        """Answer, breaking the protocol as *defect* says (see ``ALL_WIRE_DEFECTS``)."""
        return cls("wire", defect=defect)

    @classmethod
    def failed_stream(cls) -> Fault:
        """Fail the answer after it started: response.failed on /v1/responses; on /v1/messages
        an ``error`` event (overloaded_error) mid-stream, or HTTP 529 when not streamed."""
        return cls("failed_stream")

    @classmethod
    def incomplete(cls) -> Fault:
        """End the answer cut by its token limit: response.incomplete on /v1/responses,
        stop_reason max_tokens on /v1/messages."""
        return cls("incomplete")

    def header(self) -> str:
        """Express this fault as a value of the X-Chatmodels-Fault header."""
        parts = [self.kind]
        defaults = Fault("ok")
        for name in ("status", "retry_after", "delay", "after_chunks", "size", "defect"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                parts.append(f"{name}={value}")
        return ";".join(parts)


class _StatusField:
    """Make ``Fault.status`` the constructor on the class and the slot on an instance."""

    def __init__(self, slot: Any, factory: Callable[..., Fault]) -> None:
        self._slot = slot
        self._factory = factory

    def __get__(self, obj: Fault | None, owner: type[Fault] | None = None) -> Any:
        if obj is None:
            return self._factory
        return self._slot.__get__(obj, owner)

    def __set__(self, obj: Fault, value: int) -> None:
        self._slot.__set__(obj, value)

    def __delete__(self, obj: Fault) -> None:
        self._slot.__delete__(obj)


type.__setattr__(Fault, "status", _StatusField(Fault.__dict__["status"], Fault.http_status))


def _non_negative(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _number_or_text(raw: str) -> float | str:
    try:
        return float(raw)
    except ValueError:
        return raw


_HEADER_PARAMS: dict[str, Callable[[str], Any]] = {
    "status": int,
    "retry_after": lambda raw: _number_or_text(raw),
    "delay": float,
    "after_chunks": int,
    "size": int,
    "defect": str,
}


def parse_fault(value: str) -> Fault:
    """Read ``kind[;name=value...]``, the fault header's form, e.g. ``status;status=429``."""
    kind, *params = [part.strip() for part in value.split(";")]
    fields: dict[str, Any] = {}
    for param in params:
        name, sep, raw = param.partition("=")
        name = name.strip()
        if not sep or name not in _HEADER_PARAMS:
            msg = f"fault parameter {param!r} must be name=value with a name among "
            msg += f"{sorted(_HEADER_PARAMS)!r}"
            raise FaultError(msg)
        try:
            fields[name] = _HEADER_PARAMS[name](raw.strip())
        except ValueError:
            msg = f"fault parameter {name!r} has a bad value {raw!r}"
            raise FaultError(msg) from None
    if kind == "huge_body" and "size" not in fields:
        fields["size"] = DEFAULT_HUGE_SIZE
    return Fault(kind, **fields)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the server saw and did for one request; ``time`` is its arrival, monotonic."""

    time: float
    method: str
    path: str
    stream: bool
    fault: str
    status: int | None
    body: Any = None
