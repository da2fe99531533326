"""The openai provider: any OpenAI-compatible chat-completions server, spoken to over httpx."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any

import httpx

from chatmodels.base import BaseChatModel, BaseProvider, result_as_chunk
from chatmodels.errors import ChatModelError, ChatTimeoutError, ClosedError
from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions, OptionsLike, coerce_options
from chatmodels.provider import Capability, HealthState, HealthStatus, ProviderMetadata
from chatmodels.providers._http_capture import (
    AsyncCapturingTransport,
    CapturingTransport,
    WireRecorder,
)
from chatmodels.providers._http_declared import (
    DEFAULT_OPTION_NAMES,
    parse_call_defaults,
    parse_capabilities,
)
from chatmodels.providers._http_fault_hook import AsyncFaultHookTransport, FaultHookTransport
from chatmodels.providers._openai_clients import ClientPool
from chatmodels.providers._openai_errors import (
    HTTPX_ROOT_ERRORS,
    PROVIDER_NAME,
    Redactor,
    error_for_status,
    invalid_response,
    map_httpx_error,
)
from chatmodels.providers._openai_settings import OpenAISettings, parse_settings
from chatmodels.providers._openai_wire import (
    StreamAssembler,
    build_request_body,
    is_json_type,
    parse_completion,
    parse_json_body,
)

__all__ = ["OpenAIChatModel", "OpenAIProvider"]

_CAPABILITIES = frozenset(
    {
        Capability.STREAMING,
        Capability.ASYNC,
        Capability.BATCH,
        Capability.TOOLS,
        Capability.TOOL_CHOICE,
        Capability.JSON_MODE,
        Capability.STOP_SEQUENCES,
        Capability.MAX_TOKENS,
        Capability.USAGE,
        Capability.SYSTEM_MESSAGES,
        Capability.CANCELLATION,
        Capability.TIMEOUT,
        Capability.OPENAI_COMPATIBLE,
    }
)


def _is_event_stream(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == "text/event-stream"


class OpenAIChatModel(BaseChatModel):
    """One model on an OpenAI-compatible server, with pooled connections and bounded retries.

    The provider's ``timeout`` bounds each attempt, a stream's whole length included;
    ``total_timeout``, and a caller's per-call ``ChatOptions.timeout``, bound all attempts
    and the waits between them.
    """

    def __init__(
        self,
        *,
        metadata: ProviderMetadata,
        model: str,
        settings: OpenAISettings,
        defaults: OptionsLike = None,
        recorder: WireRecorder | None = None,
    ) -> None:
        super().__init__(metadata=metadata, model=model, defaults=defaults)
        self._settings = settings
        self._url = f"{settings.base_url}/chat/completions"
        self._redact = Redactor(settings.api_key)
        self._rng = random.Random()
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

        self._clients = ClientPool(sync_client, async_client, self._closed_error)

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
                raise ChatTimeoutError(msg, op=op, provider=PROVIDER_NAME)
            timeout = min(timeout, remaining)
        return timeout, time.monotonic() + timeout

    def _check_deadline(self, end: float, timeout: float, op: str) -> None:
        if time.monotonic() > end:
            msg = f"{op} did not finish within {timeout:.3g}s"
            raise ChatTimeoutError(msg, op=op, provider=PROVIDER_NAME)

    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        remaining = None if deadline is None else deadline - time.monotonic()
        return self._settings.retry.delay(attempt, error, remaining, self._rng)

    def _map(self, exc: Exception, op: str) -> ChatModelError:
        if self.closed:
            # close() shut the connection under an in-flight call: report that, not the I/O.
            msg = f"{op}() was interrupted because the chat model was closed"
            return ClosedError(msg, op=op, provider=PROVIDER_NAME, cause=exc)
        return map_httpx_error(exc, op=op, redact=self._redact)

    # -- interpreting answers ----------------------------------------------------------

    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        if not 200 <= response.status_code < 300:
            raise error_for_status(
                response.status_code, response.headers, body, op=op, redact=self._redact
            )
        payload = parse_json_body(body, response.headers.get("content-type"), op=op)
        return parse_completion(payload, op=op, fallback_model=self._model)

    def _not_a_stream(self, response: httpx.Response, body: bytes, op: str) -> ChatChunk:
        """Handle a stream request answered without SSE: an error, or one whole JSON answer."""
        content_type = response.headers.get("content-type")
        if 200 <= response.status_code < 300 and not is_json_type(content_type):
            msg = f"{op} expected a text/event-stream answer, got Content-Type {content_type!r}"
            raise invalid_response(msg, op=op)
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
        body = build_request_body(self._model, messages, options, stream=False)
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
                if not _is_event_stream(response.headers.get("content-type")):
                    data = self._read(response.iter_bytes(), end, timeout, "stream")
                    yield self._not_a_stream(response, data, "stream")
                    return
                assembler = StreamAssembler(op="stream", fallback_model=self._model)
                for line in response.iter_lines():
                    self._check_deadline(end, timeout, "stream")
                    yield from assembler.feed_line(line)
                yield from assembler.finish()
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "stream") from exc

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        body = build_request_body(
            self._model, messages, options, stream=True, stream_usage=self._settings.stream_usage
        )
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
        body = build_request_body(self._model, messages, options, stream=False)
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
                if not _is_event_stream(response.headers.get("content-type")):
                    data = await self._aread(response.aiter_bytes(), end, timeout, "astream")
                    yield self._not_a_stream(response, data, "astream")
                    return
                assembler = StreamAssembler(op="astream", fallback_model=self._model)
                async for line in response.aiter_lines():
                    self._check_deadline(end, timeout, "astream")
                    for chunk in assembler.feed_line(line):
                        yield chunk
                for chunk in assembler.finish():
                    yield chunk
        except HTTPX_ROOT_ERRORS as exc:
            raise self._map(exc, "astream") from exc

    async def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        body = build_request_body(
            self._model, messages, options, stream=True, stream_usage=self._settings.stream_usage
        )
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
        try:
            with self._clients.sync_client("health_check") as client:
                response = client.get(f"{self._settings.base_url}/models", timeout=timeout)
        except ClosedError as exc:
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, str(exc))
        except HTTPX_ROOT_ERRORS as exc:
            detail = str(self._map(exc, "health_check"))
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, detail)
        elapsed = time.perf_counter() - start
        if not 200 <= response.status_code < 300:
            error = error_for_status(
                response.status_code,
                response.headers,
                response.content,
                op="health_check",
                redact=self._redact,
            )
            return HealthStatus(HealthState.UNHEALTHY, elapsed, str(error))
        return HealthStatus(HealthState.HEALTHY, elapsed)

    def _close(self) -> None:
        self._clients.close()

    async def _aclose(self) -> None:
        await self._clients.aclose()


class OpenAIProvider(BaseProvider):
    """Talk to any OpenAI-compatible server; declares DETERMINISTIC only when told it is."""

    metadata = ProviderMetadata(
        name=PROVIDER_NAME,
        version="1",
        description="Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp...).",
        required_options=("base_url",),
        optional_options=(
            "api_key",
            "model",
            "timeout",
            "total_timeout",
            "max_retries",
            "backoff_base",
            "backoff_max",
            "deterministic",
            "max_connections",
            "organization",
            "stream_usage",
            "headers",
            "capabilities",
            "fault_code",
            *DEFAULT_OPTION_NAMES,
        ),
        secret_options=("api_key",),
        capabilities=_CAPABILITIES,
    )

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self._settings = parse_settings(self.options)
        self._recorder: WireRecorder | None = None
        offered = set(_CAPABILITIES)
        if self._settings.deterministic:
            offered.add(Capability.DETERMINISTIC)
        capabilities = parse_capabilities(
            self.options.get("capabilities"), frozenset(offered), provider=PROVIDER_NAME
        )
        self._call_defaults = parse_call_defaults(self.options, provider=PROVIDER_NAME)
        self.metadata = dataclasses.replace(
            type(self).metadata,
            capabilities=capabilities,
            default_model=self._settings.model,
        )

    @property
    def settings(self) -> OpenAISettings:
        """The parsed options; the API key is kept out of the repr."""
        return self._settings

    def record_wire(self, recorder: WireRecorder | None) -> None:
        """Record every HTTP exchange of models made from now on in *recorder*; None stops."""
        self._recorder = recorder

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> OpenAIChatModel:
        """Make a model for *model*, else the ``model`` option; *options* become call defaults,
        over the ``default.*`` options."""
        defaults = coerce_options(options)
        if self._call_defaults is not None:
            defaults = defaults.merged_over(self._call_defaults)
        return OpenAIChatModel(
            metadata=self.metadata,
            model=self.metadata.resolve_model(model),
            settings=self._settings,
            defaults=defaults,
            recorder=self._recorder,
        )
