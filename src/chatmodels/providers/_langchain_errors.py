"""Translate what a LangChain chat model raises into ChatModelError, where its type says what.

The SDKs under the common integrations (openai, anthropic, and httpx below both) are
recognised by type when they are importable. Anything else propagates unchanged, so the
conformance suites report it as the bare exception it is instead of a guessed code.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Mapping
from types import ModuleType

import httpx

from chatmodels.errors import ChatModelError, ErrorCode, make_error
from chatmodels.providers._http_errors import (
    HTTPX_ROOT_ERRORS,
    Redactor,
    error_for_status,
    map_httpx_error,
)

__all__ = ["SDK_MODULES", "LangChainRedactor", "map_exception"]

#: SDKs whose exception trees (APIStatusError, APITimeoutError...) the bridge recognises.
SDK_MODULES = ("openai", "anthropic")

#: What each SDK exception class (by name, checked most specific first) means.
_SDK_CODES: tuple[tuple[str, ErrorCode], ...] = (
    ("APITimeoutError", ErrorCode.TIMEOUT),
    ("APIConnectionError", ErrorCode.NETWORK),
    ("APIResponseValidationError", ErrorCode.INVALID_RESPONSE),
)


class LangChainRedactor(Redactor):
    """Blank every secret option value out of text before it reaches an error message."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(None)
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return "<LangChainRedactor>"


def _sdk(name: str) -> ModuleType | None:
    module = sys.modules.get(name)
    if module is not None:
        return module
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _body_bytes(exc: BaseException) -> bytes:
    body = getattr(exc, "body", None)
    if body is not None:
        try:
            wrapped = body if isinstance(body, Mapping) and "error" in body else {"error": body}
            return json.dumps(wrapped).encode()
        except (TypeError, ValueError):
            pass
    return str(getattr(exc, "message", "") or exc).encode()


def _retry_after_ms(headers: Mapping[str, str]) -> float | None:
    try:
        return float(headers["retry-after-ms"]) / 1000
    except (KeyError, ValueError):
        return None


def _from_sdk(exc: BaseException, *, op: str, redact: LangChainRedactor) -> ChatModelError | None:
    for name in SDK_MODULES:
        module = _sdk(name)
        if module is None:
            continue
        status_error = getattr(module, "APIStatusError", None)
        if isinstance(status_error, type) and isinstance(exc, status_error):
            response: httpx.Response = exc.response  # type: ignore[attr-defined]
            headers = response.headers
            error = error_for_status(
                exc.status_code,  # type: ignore[attr-defined]
                headers,
                _body_bytes(exc),
                op=op,
                redact=redact,
            )
            if error.retry_after is None:
                error.retry_after = _retry_after_ms(headers)
            error.__cause__ = exc
            return error
        for class_name, code in _SDK_CODES:
            cls = getattr(module, class_name, None)
            if isinstance(cls, type) and isinstance(exc, cls):
                msg = f"{op} failed: {type(exc).__name__}: {redact(str(exc)) or 'no detail'}"
                return make_error(code, msg, op=op, cause=exc)
    return None


def _from_langchain(
    exc: BaseException, *, op: str, redact: LangChainRedactor
) -> ChatModelError | None:
    from langchain_core.exceptions import OutputParserException

    if isinstance(exc, OutputParserException):
        msg = f"{op} failed: the model's answer did not parse: {redact(str(exc))[:300]}"
        return make_error(ErrorCode.INVALID_RESPONSE, msg, op=op, cause=exc)
    return None


def map_exception(
    exc: BaseException, *, op: str, provider: str, redact: LangChainRedactor
) -> BaseException:
    """Return the ChatModelError *exc* means, or *exc* itself when its type says nothing."""
    if isinstance(exc, ChatModelError):
        error: ChatModelError | None = exc
    elif isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        error = error_for_status(response.status_code, response.headers, b"", op=op, redact=redact)
        error.__cause__ = exc
    elif isinstance(exc, HTTPX_ROOT_ERRORS):
        error = map_httpx_error(exc, op=op, redact=redact)
    else:
        error = _from_sdk(exc, op=op, redact=redact) or _from_langchain(exc, op=op, redact=redact)
    if error is None:
        return exc
    error.op = error.op or op
    error.provider = provider
    return error
