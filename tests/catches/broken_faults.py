"""Deliberately broken HTTP providers: the openai provider with one fault-handling bug each."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx

from chatmodels.errors import (
    ChatModelError,
    ErrorCode,
    InvalidInputError,
    NetworkError,
    ServerError,
    make_error,
)
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Message
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.providers._openai_wire import parse_completion
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider
from scaffold import catching


class _Broken(OpenAIProvider):
    """An openai provider whose models are of ``model_class``."""

    model_class: ClassVar[type[OpenAIChatModel]] = OpenAIChatModel

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> OpenAIChatModel:
        return self.model_class(
            metadata=self.metadata,
            model=self.metadata.resolve_model(model),
            settings=self.settings,
            defaults=options,
        )


class _RetryAware(OpenAIChatModel):
    """Tell a retry from a first attempt: the retry loop resends the same body object."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bodies: dict[int, dict[str, Any]] = {}

    def _is_retry(self, body: dict[str, Any]) -> bool:
        if self._bodies.get(id(body)) is body:
            return True
        self._bodies[id(body)] = body
        return False


# -- FAULT-001 .. FAULT-005: mapping ----------------------------------------------------


class _AllClientErrorsInvalidInput(OpenAIChatModel):
    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        status = response.status_code
        if 400 <= status < 500 and status not in (408, 429):
            msg = f"{op} failed with HTTP {status}"
            raise InvalidInputError(msg, op=op, provider="openai")
        return super()._completion(response, body, op)


@catching("FAULT-001")
class AllClientErrorsInvalidInput(_Broken):
    """Maps 401, 403 and 404 to invalid_input, like a 400."""

    model_class = _AllClientErrorsInvalidInput


class _RateLimitKeyError(OpenAIChatModel):
    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        if response.status_code == 429:
            wait = float(response.headers["x-ratelimit-reset-requests"])  # absent: KeyError
            msg = f"{op} was rate limited; retry in {wait}s"
            raise ChatModelError(msg, code=ErrorCode.RATE_LIMIT, op=op, retry_after=wait)
        return super()._completion(response, body, op)


@catching(
    "FAULT-002",
    also={"FAULT-007", "FAULT-014", "FAULT-016"},
    because="the bare KeyError also escapes the Retry-After retry, the load test and the "
    "one-off 429",
)
class RateLimitKeyError(_Broken):
    """Reads a rate-limit header the server does not send, so 429 escapes as a bare KeyError."""

    model_class = _RateLimitKeyError


class _ServerErrorsNotRetryable(OpenAIChatModel):
    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        if response.status_code >= 500:
            msg = f"{op} failed with HTTP {response.status_code}"
            raise ServerError(msg, op=op, provider="openai", retryable=False)
        return super()._completion(response, body, op)


@catching(
    "FAULT-003",
    also={"FAULT-016"},
    because="not retryable means the single 503 of FAULT-016 is not retried either",
)
class ServerErrorsNotRetryable(_Broken):
    """Marks 5xx errors as not retryable."""

    model_class = _ServerErrorsNotRetryable


class _DisconnectAsServerError(OpenAIChatModel):
    def _map(self, exc: Exception, op: str) -> ChatModelError:
        if isinstance(exc, httpx.RemoteProtocolError) and "Server disconnected" in str(exc):
            return ServerError(f"{op} failed: the server hung up", op=op, provider="openai")
        return super()._map(exc, op)


@catching("FAULT-004")
class DisconnectAsServerError(_Broken):
    """Reports a connection reset as a server_error."""

    model_class = _DisconnectAsServerError


class _MalformedJsonEscapes(OpenAIChatModel):
    def _completion(self, response: httpx.Response, body: bytes, op: str) -> ChatResult:
        if 200 <= response.status_code < 300:
            return parse_completion(json.loads(body), op=op, fallback_model=self._model)
        return super()._completion(response, body, op)


@catching("FAULT-005")
class MalformedJsonEscapes(_Broken):
    """Parses 2xx bodies with json.loads and no checks: a bad body raises JSONDecodeError."""

    model_class = _MalformedJsonEscapes


# -- FAULT-006 .. FAULT-009, FAULT-016: retries and timeouts ----------------------------


class _RetriesServerErrorsForever(OpenAIChatModel):
    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        if error.code is ErrorCode.SERVER_ERROR and attempt < 50:
            return 0.001
        return super()._retry_wait(attempt, error, deadline)


@catching("FAULT-006")
class RetriesServerErrorsForever(_Broken):
    """Retries 5xx without a bound (50 times here, so the test ends), ignoring max_retries."""

    model_class = _RetriesServerErrorsForever


class _IgnoresRetryAfter(OpenAIChatModel):
    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        stripped = make_error(error.code, error.message, retryable=error.retryable)
        return super()._retry_wait(attempt, stripped, deadline)


@catching("FAULT-007")
class IgnoresRetryAfter(_Broken):
    """Retries on its own backoff, never waiting for Retry-After."""

    model_class = _IgnoresRetryAfter


class _RetriesEverything(OpenAIChatModel):
    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        if attempt < self._settings.retry.max_retries:
            return max(0.001, error.retry_after or 0.0)
        return None


@catching("FAULT-008")
class RetriesEverything(_Broken):
    """Retries every error, a 400 or a 401 included."""

    model_class = _RetriesEverything


class _NoTimeout(OpenAIChatModel):
    def _attempt_window(
        self, options: ChatOptions, deadline: float | None, op: str
    ) -> tuple[float, float]:
        return 3600.0, time.monotonic() + 3600.0


@catching("FAULT-009")
class NoTimeout(_Broken):
    """Ignores its timeout option: every attempt may take an hour."""

    model_class = _NoTimeout


class _NeverRetries(OpenAIChatModel):
    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        return None


@catching("FAULT-016")
class NeverRetries(_Broken):
    """Surfaces every transient fault at once, whatever max_retries says."""

    model_class = _NeverRetries


# -- FAULT-010 .. FAULT-015: recovery, content, concurrency, secrets ----------------------


class _CutStreamComplete(OpenAIChatModel):
    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        started = False
        try:
            for chunk in super()._stream(messages, options):
                started = True
                yield chunk
        except ChatModelError:
            if not started:
                raise
            yield ChatChunk(finish_reason=FinishReason.STOP)  # "the server closed: that is the end"


@catching("FAULT-010")
class CutStreamComplete(_Broken):
    """Ends a stream cut after its first chunks as if it were complete."""

    model_class = _CutStreamComplete


class _InvokeReturnsPartial(OpenAIChatModel):
    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        chunks: list[ChatChunk] = []
        try:
            chunks.extend(self._stream(messages, options))
        except ChatModelError:
            if not chunks:
                raise
        text = "".join(c.delta for c in chunks)
        response_id = next((c.response_id for c in chunks if c.response_id), "partial")
        return ChatResult(Message.assistant(text), FinishReason.STOP, self._model, response_id)


@catching("FAULT-010")
class InvokeReturnsPartial(_Broken):
    """Invokes by streaming, and returns what arrived when the stream breaks."""

    model_class = _InvokeReturnsPartial


class _StaleConnectionAfterReset(OpenAIChatModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stale = False

    def _map(self, exc: Exception, op: str) -> ChatModelError:
        error = super()._map(exc, op)
        self._stale = self._stale or error.code is ErrorCode.NETWORK
        return error

    def _attempt_window(
        self, options: ChatOptions, deadline: float | None, op: str
    ) -> tuple[float, float]:
        if self._stale:
            self._stale = False
            msg = f"{op} failed: the pooled connection is dead"
            raise NetworkError(msg, op=op, provider="openai")
        return super()._attempt_window(options, deadline, op)


@catching("FAULT-011")
class StaleConnectionAfterReset(_Broken):
    """Puts the reset connection back in its pool, so the next call fails on it too."""

    model_class = _StaleConnectionAfterReset


class _TrimsConversationOnRetry(_RetryAware):
    def _invoke_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> ChatResult:
        if self._is_retry(body):
            body = {**body, "messages": body["messages"][:1]}
        return super()._invoke_once(body, options, deadline)


@catching("FAULT-012")
class TrimsConversationOnRetry(_Broken):
    """Retries with the conversation cut to its first message, answering the wrong question."""

    model_class = _TrimsConversationOnRetry


class _RejectsHugeBodies(OpenAIChatModel):
    def _read(self, parts: Any, end: float, timeout: float, op: str) -> bytes:
        data = super()._read(parts, end, timeout, op)
        if len(data) > 1024 * 1024:
            msg = f"answer of {len(data)} bytes is too large"
            raise OverflowError(msg)
        return data


@catching("FAULT-013")
class RejectsHugeBodies(_Broken):
    """Refuses bodies over 1 MiB with a bare OverflowError."""

    model_class = _RejectsHugeBodies


class _SharedRetryBody(_RetryAware):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._last_body: dict[str, Any] = {}

    def _invoke_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> ChatResult:
        if self._is_retry(body):
            body = self._last_body  # another caller's request, once calls overlap
        else:
            self._last_body = body
        return super()._invoke_once(body, options, deadline)

    async def _ainvoke_once(
        self, body: dict[str, Any], options: ChatOptions, deadline: float | None
    ) -> ChatResult:
        if self._is_retry(body):
            body = self._last_body
        else:
            self._last_body = body
        return await super()._ainvoke_once(body, options, deadline)


@catching("FAULT-014")
class SharedRetryBody(_Broken):
    """Keeps the request to retry on the model, so concurrent retries resend another's."""

    model_class = _SharedRetryBody


class _RetryBackoffHangs(OpenAIChatModel):
    def _retry_wait(
        self, attempt: int, error: ChatModelError, deadline: float | None
    ) -> float | None:
        return 60.0  # a backoff that ignores the call's deadline; daemon threads outlive it


@catching("FAULT-014")
class RetryBackoffHangs(_Broken):
    """Backs off a minute before each retry, whatever the deadline: calls that retry hang."""

    model_class = _RetryBackoffHangs


class _LeaksApiKey(OpenAIChatModel):
    def _map(self, exc: Exception, op: str) -> ChatModelError:
        error = super()._map(exc, op)
        msg = f"{error.message} (request headers: Authorization: Bearer {self._settings.api_key})"
        return make_error(error.code, msg, op=op, provider="openai", cause=exc)


@catching("FAULT-015")
class LeaksApiKey(_Broken):
    """Quotes the request's Authorization header in transport errors."""

    model_class = _LeaksApiKey
