"""Errors and retries shared by the HTTP providers: every failure becomes a ChatModelError.

Protocol-neutral: a status and an error body (``{"error": {"message": ...}}``, the shape the
chat-completions, Messages and Responses APIs share) map to the same codes for each.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from chatmodels.errors import ChatModelError, ErrorCode, make_error

__all__ = [
    "HTTPX_ERROR_CODES",
    "HTTPX_ROOT_ERRORS",
    "RetryPolicy",
    "Redactor",
    "error_for_status",
    "invalid_response",
    "map_httpx_error",
    "parse_retry_after",
]

#: How much of a server's error text an error message quotes.
MAX_SERVER_TEXT = 300

#: Every exception class httpx exports, each with the code it becomes; a test keeps it complete.
HTTPX_ERROR_CODES: dict[type[Exception], ErrorCode] = {
    httpx.HTTPError: ErrorCode.NETWORK,
    httpx.RequestError: ErrorCode.NETWORK,
    httpx.TransportError: ErrorCode.NETWORK,
    httpx.TimeoutException: ErrorCode.TIMEOUT,
    httpx.ConnectTimeout: ErrorCode.TIMEOUT,
    httpx.ReadTimeout: ErrorCode.TIMEOUT,
    httpx.WriteTimeout: ErrorCode.TIMEOUT,
    httpx.PoolTimeout: ErrorCode.TIMEOUT,
    httpx.NetworkError: ErrorCode.NETWORK,
    httpx.ConnectError: ErrorCode.NETWORK,
    httpx.ReadError: ErrorCode.NETWORK,
    httpx.WriteError: ErrorCode.NETWORK,
    httpx.CloseError: ErrorCode.NETWORK,
    httpx.ProtocolError: ErrorCode.NETWORK,
    httpx.LocalProtocolError: ErrorCode.NETWORK,
    httpx.RemoteProtocolError: ErrorCode.NETWORK,
    httpx.ProxyError: ErrorCode.NETWORK,
    httpx.UnsupportedProtocol: ErrorCode.NETWORK,
    httpx.DecodingError: ErrorCode.INVALID_RESPONSE,
    httpx.TooManyRedirects: ErrorCode.INVALID_RESPONSE,
    httpx.HTTPStatusError: ErrorCode.SERVER_ERROR,
    httpx.InvalidURL: ErrorCode.INVALID_CONFIG,
    httpx.CookieConflict: ErrorCode.INVALID_RESPONSE,
    httpx.StreamError: ErrorCode.INVALID_RESPONSE,
    httpx.StreamConsumed: ErrorCode.INVALID_RESPONSE,
    httpx.StreamClosed: ErrorCode.INVALID_RESPONSE,
    httpx.ResponseNotRead: ErrorCode.INVALID_RESPONSE,
    httpx.RequestNotRead: ErrorCode.INVALID_RESPONSE,
}

#: The roots of httpx's exception tree: catching these catches everything httpx raises.
HTTPX_ROOT_ERRORS: tuple[type[Exception], ...] = (
    httpx.HTTPError,
    httpx.InvalidURL,
    httpx.CookieConflict,
    httpx.StreamError,
)


class Redactor:
    """Blank a secret out of any text before it reaches a message."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str | None) -> None:
        self._secret = secret or None

    def __call__(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def __repr__(self) -> str:
        return "<Redactor>"


def invalid_response(
    message: str, *, op: str, cause: BaseException | None = None, provider: str | None = None
) -> ChatModelError:
    """Build the error for an answer that is malformed, mistyped or cut short."""
    return make_error(ErrorCode.INVALID_RESPONSE, message, op=op, provider=provider, cause=cause)


def map_httpx_error(
    exc: Exception, *, op: str, redact: Redactor, provider: str | None = None
) -> ChatModelError:
    """Translate an httpx exception by its nearest listed class; the caller raises it ``from``."""
    code = next(
        (HTTPX_ERROR_CODES[cls] for cls in type(exc).__mro__ if cls in HTTPX_ERROR_CODES),
        ErrorCode.NETWORK,
    )
    detail = redact(str(exc)) or "no detail"
    msg = f"{op} failed: {type(exc).__name__}: {_truncate(detail)}"
    return make_error(code, msg, op=op, provider=provider, cause=exc)


def _code_for_status(status: int, body: str) -> ErrorCode:
    if status in (400, 413, 422):
        return ErrorCode.INVALID_INPUT
    if status == 429 and "insufficient_quota" in body:
        return ErrorCode.QUOTA_EXCEEDED
    fixed = {
        401: ErrorCode.AUTHENTICATION,
        403: ErrorCode.PERMISSION,
        404: ErrorCode.MODEL_NOT_FOUND,
        408: ErrorCode.TIMEOUT,
        429: ErrorCode.RATE_LIMIT,
    }
    if status in fixed:
        return fixed[status]
    if status >= 500:
        return ErrorCode.SERVER_ERROR
    if status >= 400:
        return ErrorCode.INVALID_INPUT
    return ErrorCode.INVALID_RESPONSE


def _server_text(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return text


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_SERVER_TEXT else text[:MAX_SERVER_TEXT] + "..."


def error_for_status(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    op: str,
    redact: Redactor,
    provider: str | None = None,
    reported: str | None = None,
) -> ChatModelError:
    """Build the error a non-2xx answer means, quoting the server's own (truncated) message.

    *reported* says how the server reported it when that was not the status line (an error
    event mid-stream, which maps as its status would).
    """
    raw = body.decode("utf-8", errors="replace")
    code = _code_for_status(status, raw)
    text = _truncate(redact(_server_text(body))) or "no message"
    said = reported or f"the server answered HTTP {status}"
    msg = f"{op} failed: {said}: {text}"
    retry_after = parse_retry_after(headers.get("retry-after"))
    return make_error(code, msg, op=op, provider=provider, retry_after=retry_after)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read a Retry-After header given in seconds or as an HTTP date; unreadable means absent."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded retries with jittered exponential backoff that honours Retry-After."""

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0

    def delay(
        self, attempt: int, error: ChatModelError, remaining: float | None, rng: random.Random
    ) -> float | None:
        """Seconds to wait before retry number *attempt* + 1, or None to give up and raise."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        backoff = self.backoff_base * float(2**attempt) * rng.uniform(0.5, 1.0)
        wait = min(max(backoff, error.retry_after or 0.0), self.backoff_max)
        if remaining is not None:
            if (error.retry_after or 0.0) >= remaining or remaining <= 0:
                return None
            wait = min(wait, remaining)
        return wait
