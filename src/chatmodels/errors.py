"""Structured errors raised by chat models, providers and the registry.

ChatModelError                          every error the library raises; has op, code, provider
├── InvalidInputError (ValueError)      the request was malformed: messages, options
├── InvalidConfigError (ValueError)     a provider was configured wrongly
├── AuthenticationError                 credentials were missing or rejected
├── PermissionDeniedError               credentials lack access to the resource
├── ModelNotFoundError (LookupError)    the named model does not exist
├── RateLimitError                      too many requests; retryable, may carry retry_after
├── QuotaExceededError                  the account's quota is spent; not retryable
├── ChatTimeoutError (TimeoutError)     the call exceeded its deadline
├── NetworkError (ConnectionError)      the connection failed or was reset
├── ServerError                         the upstream service failed (5xx)
├── InvalidResponseError                the upstream answer was malformed or cut short
├── ChatCancelledError                  the call was cancelled by its caller
├── UnsupportedError                    the provider does not support a requested feature
├── ProviderNotFoundError (LookupError) no provider is registered under the name
├── ProviderAlreadyRegisteredError      a provider name is taken
├── ProviderLoadError                   a provider's entry point failed to load
└── ClosedError                         the chat model was used after close()
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = [
    "RETRYABLE_CODES",
    "UPSTREAM_CODES",
    "AuthenticationError",
    "ChatCancelledError",
    "ChatModelError",
    "ChatTimeoutError",
    "ClosedError",
    "ErrorCode",
    "InvalidConfigError",
    "InvalidInputError",
    "InvalidResponseError",
    "ModelNotFoundError",
    "NetworkError",
    "PermissionDeniedError",
    "ProviderAlreadyRegisteredError",
    "ProviderLoadError",
    "ProviderNotFoundError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "UnsupportedError",
    "error_class_for",
    "make_error",
]


class ErrorCode(str, enum.Enum):
    """The closed set of reasons a chat-model operation can fail."""

    INVALID_INPUT = "invalid_input"
    INVALID_CONFIG = "invalid_config"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMIT = "rate_limit"
    QUOTA_EXCEEDED = "quota_exceeded"
    TIMEOUT = "timeout"
    NETWORK = "network"
    SERVER_ERROR = "server_error"
    INVALID_RESPONSE = "invalid_response"
    CANCELLED = "cancelled"
    UNSUPPORTED = "unsupported"
    PROVIDER_NOT_FOUND = "provider_not_found"
    PROVIDER_ALREADY_REGISTERED = "provider_already_registered"
    PROVIDER_LOAD_FAILED = "provider_load_failed"
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


#: Codes whose failures are transient: the same request may succeed when retried.
RETRYABLE_CODES: frozenset[ErrorCode] = frozenset(
    {ErrorCode.RATE_LIMIT, ErrorCode.TIMEOUT, ErrorCode.NETWORK, ErrorCode.SERVER_ERROR}
)

#: Codes a remote API can fail with: the codes a provider's ``fault_code`` hook plays.
UPSTREAM_CODES: tuple[ErrorCode, ...] = (
    ErrorCode.INVALID_INPUT,
    ErrorCode.AUTHENTICATION,
    ErrorCode.PERMISSION,
    ErrorCode.MODEL_NOT_FOUND,
    ErrorCode.RATE_LIMIT,
    ErrorCode.QUOTA_EXCEEDED,
    ErrorCode.TIMEOUT,
    ErrorCode.NETWORK,
    ErrorCode.SERVER_ERROR,
    ErrorCode.INVALID_RESPONSE,
)


class ChatModelError(Exception):
    """A chat-model operation failed; ``code`` says why and ``retryable`` whether to retry."""

    default_code: ErrorCode = ErrorCode.SERVER_ERROR

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | str | None = None,
        op: str = "",
        provider: str = "",
        retryable: bool | None = None,
        retry_after: float | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = ErrorCode(code) if code is not None else self.default_code
        self.op = op
        self.provider = provider
        self.retryable = self.code in RETRYABLE_CODES if retryable is None else retryable
        self.retry_after = retry_after
        if cause is not None:
            self.__cause__ = cause

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code.value!r}, "
            f"op={self.op!r}, provider={self.provider!r}, retryable={self.retryable!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_error,
            (
                type(self),
                self.message,
                self.code.value,
                self.op,
                self.provider,
                self.retryable,
                self.retry_after,
            ),
        )


def _rebuild_error(
    cls: type[ChatModelError],
    message: str,
    code: str,
    op: str,
    provider: str,
    retryable: bool,
    retry_after: float | None,
) -> ChatModelError:
    return cls(
        message, code=code, op=op, provider=provider, retryable=retryable, retry_after=retry_after
    )


class InvalidInputError(ChatModelError, ValueError):
    """The request was malformed: a message, an option or their combination."""

    default_code = ErrorCode.INVALID_INPUT


class InvalidConfigError(ChatModelError, ValueError):
    """A provider or model was configured with a missing or bad option."""

    default_code = ErrorCode.INVALID_CONFIG


class AuthenticationError(ChatModelError):
    """Credentials were missing or rejected."""

    default_code = ErrorCode.AUTHENTICATION


class PermissionDeniedError(ChatModelError):
    """Credentials were accepted but lack access to the resource."""

    default_code = ErrorCode.PERMISSION


class ModelNotFoundError(ChatModelError, LookupError):
    """The requested model does not exist at the provider."""

    default_code = ErrorCode.MODEL_NOT_FOUND


class RateLimitError(ChatModelError):
    """The provider throttled the call; wait ``retry_after`` seconds when given."""

    default_code = ErrorCode.RATE_LIMIT


class QuotaExceededError(ChatModelError):
    """The account's quota is spent; retrying will not help."""

    default_code = ErrorCode.QUOTA_EXCEEDED


class ChatTimeoutError(ChatModelError, TimeoutError):
    """The call did not finish within its deadline."""

    default_code = ErrorCode.TIMEOUT


class NetworkError(ChatModelError, ConnectionError):
    """The connection to the provider failed or was reset."""

    default_code = ErrorCode.NETWORK


class ServerError(ChatModelError):
    """The upstream service failed on its side."""

    default_code = ErrorCode.SERVER_ERROR


class InvalidResponseError(ChatModelError):
    """The upstream answer was malformed, of the wrong type, or cut short."""

    default_code = ErrorCode.INVALID_RESPONSE


class ChatCancelledError(ChatModelError):
    """The caller cancelled the call before it finished."""

    default_code = ErrorCode.CANCELLED


class UnsupportedError(ChatModelError):
    """The provider does not support a feature the call asked for."""

    default_code = ErrorCode.UNSUPPORTED


class ProviderNotFoundError(ChatModelError, LookupError):
    """No provider is registered under the requested name."""

    default_code = ErrorCode.PROVIDER_NOT_FOUND


class ProviderAlreadyRegisteredError(ChatModelError):
    """A provider is already registered under the name."""

    default_code = ErrorCode.PROVIDER_ALREADY_REGISTERED


class ProviderLoadError(ChatModelError):
    """A provider's entry point could not be imported or was not a provider factory."""

    default_code = ErrorCode.PROVIDER_LOAD_FAILED


class ClosedError(ChatModelError):
    """The chat model was used after it was closed."""

    default_code = ErrorCode.CLOSED


_CLASS_FOR_CODE: dict[ErrorCode, type[ChatModelError]] = {
    cls.default_code: cls
    for cls in (
        InvalidInputError,
        InvalidConfigError,
        AuthenticationError,
        PermissionDeniedError,
        ModelNotFoundError,
        RateLimitError,
        QuotaExceededError,
        ChatTimeoutError,
        NetworkError,
        ServerError,
        InvalidResponseError,
        ChatCancelledError,
        UnsupportedError,
        ProviderNotFoundError,
        ProviderAlreadyRegisteredError,
        ProviderLoadError,
        ClosedError,
    )
}


def error_class_for(code: ErrorCode | str) -> type[ChatModelError]:
    """Return the most specific error class for *code*."""
    return _CLASS_FOR_CODE[ErrorCode(code)]


def make_error(code: ErrorCode | str, message: str, **context: Any) -> ChatModelError:
    """Build the most specific error for *code*, so callers can catch builtins like ValueError."""
    return error_class_for(code)(message, code=code, **context)
