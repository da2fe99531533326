"""Raw HTTP exchanges of a provider, recorded by an httpx transport layer only when asked.

A provider with no recorder builds its clients exactly as before and pays nothing. With a
``WireRecorder`` attached, a transport wraps the real one and keeps each exchange as sent and
received: the request, the status and headers (secret ones redacted), and every byte of the
answer with its arrival time, from which the SSE events are cut when someone reads them.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "AsyncCapturingTransport",
    "CapturingTransport",
    "SSEEvent",
    "WireExchange",
    "WireRecorder",
    "redact_headers",
]

#: Header names whose values never reach a record: credentials and anything named like one.
_SECRET_HEADER = re.compile(r"authorization|cookie|key|token(?!s)|secret|password|credential", re.I)
REDACTED = "***"

#: How many exchanges a recorder keeps by default; the oldest go first.
DEFAULT_KEEP = 1024


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy *headers* with the values of secret-looking names replaced by ``***``."""
    return {k: REDACTED if _SECRET_HEADER.search(k) else v for k, v in headers.items()}


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One server-sent event's raw ``data:`` payload and when its last byte arrived."""

    data: str
    at: float


@dataclass(eq=False, slots=True)
class WireExchange:
    """One request and its answer as they crossed the wire; ``at`` times are seconds from start."""

    serial: int
    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    started: float = field(default_factory=time.monotonic)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    parts: list[tuple[float, bytes]] = field(default_factory=list)
    complete: bool = False
    error: str | None = None

    @property
    def response_body(self) -> bytes:
        """Every byte of the answer received so far."""
        return b"".join(part for _, part in self.parts)

    def header(self, name: str) -> str | None:
        """A response header by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.response_headers.items() if k.lower() == wanted), None)

    def events(self) -> list[SSEEvent]:
        """Cut the answer into SSE events (data lines joined), in order, with arrival times."""
        events: list[SSEEvent] = []
        data: list[str] = []
        pending = ""
        for at, part in self.parts:
            pending += part.decode("utf-8", "replace")
            *lines, pending = re.split(r"\r\n|\r|\n", pending)
            for line in lines:
                if not line:
                    if data:
                        events.append(SSEEvent("\n".join(data), at))
                        data = []
                elif line.startswith("data:"):
                    value = line[5:]
                    data.append(value[1:] if value.startswith(" ") else value)
        if pending.startswith("data:"):
            data.append(pending[5:].removeprefix(" "))
        if data:
            events.append(SSEEvent("\n".join(data), self.parts[-1][0] if self.parts else 0.0))
        return events

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view, for reports and failure evidence."""
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "request_headers": self.request_headers,
            "request_body": self.request_body.decode("utf-8", "replace"),
            "response_headers": self.response_headers,
            "response_body": self.response_body.decode("utf-8", "replace"),
            "events": [{"data": e.data, "at": round(e.at, 6)} for e in self.events()],
            "complete": self.complete,
            "error": self.error,
        }

    # -- filled in by the transports ----------------------------------------------------

    def _received(self, part: bytes) -> None:
        self.parts.append((time.monotonic() - self.started, part))

    @contextlib.contextmanager
    def _noting_failure(self) -> Iterator[None]:
        """Keep an exception that escapes the block as this exchange's error; it goes on."""
        try:
            yield
        except Exception as exc:
            self.error = repr(exc)
            raise


class WireRecorder:
    """Keep the last *keep* exchanges of every client it is attached to; thread-safe.

    With ``drain`` set, an answer the client stops reading early (it raised on a broken
    chunk) is still read to its end when the client closes it, so the record is whole.
    """

    drain: bool = False

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self._lock = threading.Lock()
        self._exchanges: collections.deque[WireExchange] = collections.deque(maxlen=keep)
        self._serial = itertools.count()

    def begin(self, request: httpx.Request) -> WireExchange:
        """Start the record of *request*; the transport fills in the answer."""
        try:
            body = request.content
        except httpx.RequestNotRead:
            body = b""
        with self._lock:
            exchange = WireExchange(
                next(self._serial),
                request.method,
                request.url.raw_path.decode("ascii", "replace"),
                redact_headers(request.headers),
                body,
            )
            self._exchanges.append(exchange)
        return exchange

    def mark(self) -> int:
        """The serial the next exchange will get; pass it to ``since``."""
        with self._lock:
            return self._exchanges[-1].serial + 1 if self._exchanges else 0

    def since(self, mark: int) -> list[WireExchange]:
        """The exchanges that began at or after *mark*, oldest first."""
        with self._lock:
            return [e for e in self._exchanges if e.serial >= mark]

    def __len__(self) -> int:
        with self._lock:
            return len(self._exchanges)


def _responded(
    exchange: WireExchange,
    response: httpx.Response,
    body: httpx.SyncByteStream | httpx.AsyncByteStream,
) -> httpx.Response:
    """*response* noted on *exchange* (status, redacted headers), its body read through *body*."""
    exchange.status = response.status_code
    exchange.response_headers = redact_headers(response.headers)
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=body,
        extensions=response.extensions,
    )


class _RecordingStream(httpx.SyncByteStream):
    def __init__(self, inner: httpx.SyncByteStream, exchange: WireExchange, drain: bool) -> None:
        self._inner = inner
        self._exchange = exchange
        self._parts: Iterator[bytes] | None = None
        self._drain = drain

    def _record(self) -> Iterator[bytes]:
        with self._exchange._noting_failure():
            for part in self._inner:
                self._exchange._received(part)
                yield part
        self._exchange.complete = True

    def __iter__(self) -> Iterator[bytes]:
        self._parts = self._record()
        return self._parts

    def close(self) -> None:
        try:
            if self._drain and self._parts is not None and not self._exchange.complete:
                for _ in self._parts:  # the client stopped early: keep the rest for the record
                    pass
        except Exception:  # kept in the record; the close goes on
            pass
        finally:
            if self._parts is not None:
                self._parts.close()  # type: ignore[attr-defined]
            self._inner.close()


class _AsyncRecordingStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, exchange: WireExchange, drain: bool) -> None:
        self._inner = inner
        self._exchange = exchange
        self._parts: AsyncIterator[bytes] | None = None
        self._drain = drain

    async def _record(self) -> AsyncIterator[bytes]:
        with self._exchange._noting_failure():
            async for part in self._inner:
                self._exchange._received(part)
                yield part
        self._exchange.complete = True

    def __aiter__(self) -> AsyncIterator[bytes]:
        self._parts = self._record()
        return self._parts

    async def aclose(self) -> None:
        try:
            if self._drain and self._parts is not None and not self._exchange.complete:
                async for _ in self._parts:  # the client stopped early: keep the rest
                    pass
        except Exception:  # kept in the record; the close goes on
            pass
        finally:
            if self._parts is not None:
                await self._parts.aclose()  # type: ignore[attr-defined]
            await self._inner.aclose()


class CapturingTransport(httpx.BaseTransport):
    """Pass each request to *inner* and record the exchange in *recorder*."""

    def __init__(self, inner: httpx.BaseTransport, recorder: WireRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self._recorder.begin(request)
        with exchange._noting_failure():
            response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        body = _RecordingStream(response.stream, exchange, self._recorder.drain)
        return _responded(exchange, response, body)

    def close(self) -> None:
        self._inner.close()


class AsyncCapturingTransport(httpx.AsyncBaseTransport):
    """The async twin of ``CapturingTransport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, recorder: WireRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self._recorder.begin(request)
        with exchange._noting_failure():
            response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        body = _AsyncRecordingStream(response.stream, exchange, self._recorder.drain)
        return _responded(exchange, response, body)

    async def aclose(self) -> None:
        await self._inner.aclose()
