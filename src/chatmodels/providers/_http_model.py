"""The chat model every HTTP provider shares: clients, deadlines, retries and error mapping.

A protocol subclasses ``HttpChatModel`` and fills four hooks: ``path`` (the endpoint under
``base_url``), ``_request_body``, ``_parse_answer`` (one JSON answer) and ``_stream_parser``
(SSE lines to chunks). Everything else, the retry loops of all four call styles included,
lives here once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from typing import Any, ClassVar, Protocol

import httpx

from chatmodels.base import BaseChatModel, result_as_chunk
from chatmodels.errors import ChatModelError, ChatTimeoutError, ClosedError
from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.provider import HealthState, HealthStatus, ProviderMetadata
from chatmodels.providers._http_capture import (
    AsyncCapturingTransport,
    CapturingTransport,
    WireRecorder,
)
from chatmodels.providers._http_clients import ClientPool
from chatmodels.providers._http_errors import (
    HTTPX_ROOT_ERRORS,
    Redactor,
    error_for_status,
    invalid_response,
    map_httpx_error,
)
from chatmodels.providers._http_fault_hook import AsyncFaultHookTransport, FaultHookTransport
from chatmodels.providers._http_payload import is_event_stream, is_json_type, parse_json_body
from chatmodels.providers._http_settings import HttpSettings

__all__ = ["HttpChatModel", "StreamParser"]


class StreamParser(Protocol):
    """Turns the lines of one SSE answer into chunks; ``finish`` refuses a stream cut short."""

    def feed_line(self, line: str) -> list[ChatChunk]:
        """Take one line of the stream; return the chunks it completes."""
        ...

    def finish(self) -> list[ChatChunk]:
        """Close the stream: the last chunks, or an error when it ended too early."""
        ...


class HttpChatModel(BaseChatModel):
    """One model on an HTTP server, with pooled connections and bounded retries.

    The provider's ``timeout`` bounds each attempt, a stream's whole length included;
    ``total_timeout``, and a caller's per-call ``ChatOptions.timeout``, bound all attempts
    and the waits between them.
    """

    #: The endpoint under ``base_url`` that chat requests go to.
    path: ClassVar[str] = ""
    #: The endpoint under ``base_url`` that a health check reads.
    health_path: ClassVar[str] = "/models"

    def __init__(
        self,
        *,
        metadata: ProviderMetadata,
        model: str,
        settings: HttpSettings,
        defaults: OptionsLike = None,
        recorder: WireRecorder | None = None,
    ) -> None:
        super().__init__(metadata=metadata, model=model, defaults=defaults)
        self._settings = settings
        self._url = f"{settings.base_url}{self.path}"
        self._redact = Redactor(settings.api_key)
        self._rng = random.Random()
        self._clients = self._client_pool(settings, recorder)

    def _client_pool(self, settings: HttpSettings, recorder: WireRecorder | None) -> ClientPool:
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        headers = settings.headers()
        fault = settings.fault_code  # the fault hook: a failing upstream in place of the network

        def sync_client() -> httpx.Client:
            if fault is None and recorder is None:  # the network, env proxies honoured
                return httpx.Client(headers=headers, limits=limits, timeout=settings.timeout)
            net: httpx.BaseTransport = (
                httpx.HTTPTransport(limits=limits) if fault is None else FaultHookTransport(fault)
            )
            if recorder is not None:  # recording: keep every exchange
                net = CapturingTransport(net, recorder)
            return httpx.Client(headers=headers, timeout=settings.timeout, transport=net)

        def async_client() -> httpx.AsyncClient:
            if fault is None and recorder is None:
                return httpx.AsyncClient(headers=headers, limits=limits, timeout=settings.timeout)
            net: httpx.AsyncBaseTransport = (
                httpx.AsyncHTTPTransport(limits=limits)
                if fault is None
                else AsyncFaultHookTransport(fault)
            )
            if recorder is not None:
                net = AsyncCapturingTransport(net, recorder)
            return httpx.AsyncClient(headers=headers, timeout=settings.timeout, transport=net)

        return ClientPool(sync_client, async_client, self._closed_error)

    # -- the protocol's hooks ------------------------------------------------------------

    def _request_body(
        self, messages: tuple[Message, ...], options: ChatOptions, *, stream: bool
    ) -> dict[str, Any]:
        """The JSON body of one chat request."""
        raise NotImplementedError

    def _parse_answer(self, payload: Any, op: str) -> ChatResult:
        """Turn one decoded 2xx JSON answer into a result, refusing what is malformed."""
        raise NotImplementedError

    def _stream_parser(self, op: str) -> StreamParser:
        """A fresh parser for one streamed answer."""
        raise NotImplementedError

    # -- timing and retries ------------------------------------------------------------

    def _total_deadline(self, options: ChatOptions) -> float | None:
        """The end of the whole call: a caller's per-call timeout bounds retries too."""
        limits = [t for t in (self._settings.total_timeout, options.timeout) if t is not None]
        return time.monotonic() + min(limits) if limits else None

    def _attempt_window(
        self, options: ChatOptions, deadline: float | None, op: str
    ) -> tuple[float, float]:
        """Return (timeout, end) of one attempt: the per-call timeout cut to the total one."""
        timeout = options.timeout or self._settings.timeout
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = f"{op} did not finish within its deadline"
                raise ChatTimeoutError(msg, op=op, provider=self._metadata.name)
            timeout = min(timeout, remaining)
        return timeout, time.monotonic() + timeout

    def _check_deadline(self, end: float, timeout: float, op: str) -> None:
        if time.monotonic() > end:
            msg = f"{op} did not finish within {timeout:.3g}s"
            raise ChatTimeoutError(msg, op=op, provider=self._metadata.name)

    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        remaining = None if deadline is None else deadline - time.monotonic()
        return self._settings.retry.delay(attempt, error, remaining, self._rng)

    def _map(self, exc: Exception, op: str) -> ChatModelError:
        if self.closed:
            # close() shut the connection under an in-flight call: report that, not the I/O.
            msg = f"{op}() was interrupted because the chat model was closed"
            return ClosedError(msg, op=op, provider=self._metadata.name, cause=exc)
        return map_httpx_error(exc, op=op, redact=self._redact, provider=self._metadata.name)

    # -- interpreting answers ----------------------------------------------------------

    def _status_error(self, response: httpx.Response, body: bytes, op: str) -> ChatModelError:
        return error_for_status(
            response.status_code,
            response.headers,
            body,
            op=op,
            redact=self._redact,
            provider=self._metadata.name,
        )

    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        if not 200 <= response.status_code < 300:
            raise self._status_error(response, body, op)
        payload = parse_json_body(body, response.headers.get("content-type"), op=op)
        return self._parse_answer(payload, op)

    def _not_a_stream(self, response: httpx.Response, body: bytes, op: str) -> ChatChunk:
        """Handle a stream request answered without SSE: an error, or one whole JSON answer."""
        content_type = response.headers.get("content-type")
        if 200 <= response.status_code < 300 and not is_json_type(content_type):
            msg = f"{op} expected a text/event-stream answer, got Content-Type {content_type!r}"
            raise invalid_response(msg, op=op, provider=self._metadata.name)
        return result_as_chunk(self._completion(response, body, op))

    # -- sync --------------------------------------------------------------------------

    def _read(self, parts: Iterable[bytes], end: float, timeout: float, op: str) -> bytes:
        data = bytearray()
        for part in parts:
            self._check_deadline(end, timeout, op)
            data += part
        return bytes(data)

    def _invoke_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> ChatResult:
        timeout, end = self._attempt_window(options, deadline, "invoke")
        try:
            with (
                self._clients.sync_client("invoke") as client,
                client.stream("POST", self._url, json=body, timeout=timeout) as response,
            ):
                data = self._read(response.iter_bytes(), end, timeout, "invoke")
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "invoke") from exc
        return self._completion(response, data, "invoke")

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        body = self._request_body(messages, options, stream=False)
        deadline = self._total_deadline(options)
        attempt = 0
        while True:
            try:
                return self._invoke_once(body, options, deadline)
            except ChatModelError as exc:
                wait = self._retry_wait(attempt, exc, deadline)
                if wait is None:
                    raise
            time.sleep(wait)
            attempt += 1

    def _stream_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> Generator[ChatChunk, None, None]:
        timeout, end = self._attempt_window(options, deadline, "stream")
        try:
            with (
                self._clients.sync_client("stream") as client,
                client.stream("POST", self._url, json=body, timeout=timeout) as response,
            ):
                if not is_event_stream(response.headers.get("content-type")):
                    data = self._read(response.iter_bytes(), end, timeout, "stream")
                    yield self._not_a_stream(response, data, "stream")
                    return
                parser = self._stream_parser("stream")
                for line in response.iter_lines():
                    self._check_deadline(end, timeout, "stream")
                    yield from parser.feed_line(line)
                yield from parser.finish()
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "stream") from exc

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        body = self._request_body(messages, options, stream=True)
        deadline = self._total_deadline(options)
        attempt = 0
        while True:
            started = False
            try:
                with contextlib.closing(self._stream_once(body, options, deadline)) as chunks:
                    for chunk in chunks:
                        started = True
                        yield chunk
                return
            except ChatModelError as exc:
                wait = None if started else self._retry_wait(attempt, exc, deadline)
                if wait is None:
                    raise
            time.sleep(wait)
            attempt += 1

    # -- async -------------------------------------------------------------------------

    async def _aread(
        self, parts: AsyncIterator[bytes], end: float, timeout: float, op: str
    ) -> bytes:
        data = bytearray()
        async for part in parts:
            self._check_deadline(end, timeout, op)
            data += part
        return bytes(data)

    async def _ainvoke_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> ChatResult:
        timeout, end = self._attempt_window(options, deadline, "ainvoke")
        try:
            async with (
                self._clients.async_client("ainvoke") as client,
                client.stream("POST", self._url, json=body, timeout=timeout) as response,
            ):
                data = await self._aread(response.aiter_bytes(), end, timeout, "ainvoke")
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "ainvoke") from exc
        return self._completion(response, data, "ainvoke")

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        body = self._request_body(messages, options, stream=False)
        deadline = self._total_deadline(options)
        attempt = 0
        while True:
            try:
                return await self._ainvoke_once(body, options, deadline)
            except ChatModelError as exc:
                wait = self._retry_wait(attempt, exc, deadline)
                if wait is None:
                    raise
            await asyncio.sleep(wait)
            attempt += 1

    async def _astream_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> AsyncGenerator[ChatChunk, None]:
        timeout, end = self._attempt_window(options, deadline, "astream")
        try:
            async with (
                self._clients.async_client("astream") as client,
                client.stream("POST", self._url, json=body, timeout=timeout) as response,
            ):
                if not is_event_stream(response.headers.get("content-type")):
                    data = await self._aread(response.aiter_bytes(), end, timeout, "astream")
                    yield self._not_a_stream(response, data, "astream")
                    return
                parser = self._stream_parser("astream")
                async for line in response.aiter_lines():
                    self._check_deadline(end, timeout, "astream")
                    for chunk in parser.feed_line(line):
                        yield chunk
                for chunk in parser.finish():
                    yield chunk
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "astream") from exc

    async def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        body = self._request_body(messages, options, stream=True)
        deadline = self._total_deadline(options)
        attempt = 0
        while True:
            started = False
            chunks = self._astream_once(body, options, deadline)
            try:
                async for chunk in chunks:
                    started = True
                    yield chunk
                return
            except ChatModelError as exc:
                wait = None if started else self._retry_wait(attempt, exc, deadline)
                if wait is None:
                    raise
            finally:
                await chunks.aclose()
            await asyncio.sleep(wait)
            attempt += 1

    # -- lifecycle ---------------------------------------------------------------------

    def _health_check(self) -> HealthStatus:
        start = time.perf_counter()
        if self.closed:
            return HealthStatus(HealthState.UNHEALTHY, 0.0, "the chat model is closed")
        timeout = min(self._settings.timeout, self._metadata.health_timeout)
        url = f"{self._settings.base_url}{self.health_path}"
        try:
            with self._clients.sync_client("health_check") as client:
                response = client.get(url, timeout=timeout)
        except ClosedError as exc:
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, str(exc))
        except HTTPX_ROOT_ERRORS as exc:
            detail = str(self._map(exc, "health_check"))
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, detail)
        elapsed = time.perf_counter() - start
        if not 200 <= response.status_code < 300:
            error = self._status_error(response, response.content, "health_check")
            return HealthStatus(HealthState.UNHEALTHY, elapsed, str(error))
        return HealthStatus(HealthState.HEALTHY, elapsed)

    def _close(self) -> None:
        self._clients.close()

    async def _aclose(self) -> None:
        await self._clients.aclose()
