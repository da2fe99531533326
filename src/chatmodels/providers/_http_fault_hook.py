"""The ``fault_code`` hook of HTTP providers: answer every request as a failing upstream would.

The hook replaces the network under the provider's own client, so the provider's retries and
error mapping handle the failure exactly as they would handle the real server's.
"""

from __future__ import annotations

import json

import httpx

from chatmodels.errors import UPSTREAM_CODES, ErrorCode, InvalidConfigError

__all__ = [
    "AsyncFaultHookTransport",
    "FaultHookTransport",
    "parse_fault_code",
    "upstream_failure",
]

#: Error code -> (HTTP status, OpenAI-style error type) the upstream API answers with.
_STATUS_FOR_CODE: dict[ErrorCode, tuple[int, str]] = {
    ErrorCode.INVALID_INPUT: (400, "invalid_request_error"),
    ErrorCode.AUTHENTICATION: (401, "invalid_api_key"),
    ErrorCode.PERMISSION: (403, "permission_denied"),
    ErrorCode.MODEL_NOT_FOUND: (404, "model_not_found"),
    ErrorCode.TIMEOUT: (408, "timeout"),
    ErrorCode.RATE_LIMIT: (429, "rate_limit_exceeded"),
    ErrorCode.QUOTA_EXCEEDED: (429, "insufficient_quota"),
    ErrorCode.SERVER_ERROR: (500, "server_error"),
}


def parse_fault_code(value: object, *, provider: str) -> ErrorCode | None:
    """Read the ``fault_code`` option: unset, ``'none'``, or one of :data:`UPSTREAM_CODES`."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    text = value.value if isinstance(value, ErrorCode) else value
    if isinstance(text, str):
        for code in UPSTREAM_CODES:
            if code.value == text.strip().lower():
                return code
    allowed = ", ".join(repr(code.value) for code in UPSTREAM_CODES)
    msg = f"provider {provider!r} option 'fault_code' must be 'none' or one of {allowed}, "
    msg += f"got {value!r}"
    raise InvalidConfigError(msg, op="create_provider", provider=provider)


def upstream_failure(code: ErrorCode, request: httpx.Request) -> httpx.Response:
    """The answer an upstream failing with *code* gives; a network failure raises instead."""
    if code is ErrorCode.NETWORK:
        msg = "simulated connection reset (fault_code='network')"
        raise httpx.RemoteProtocolError(msg, request=request)
    if code is ErrorCode.INVALID_RESPONSE:
        body = b"<html><body>502 Bad Gateway (simulated)</body></html>"
        return httpx.Response(200, headers={"content-type": "text/html"}, content=body)
    status, kind = _STATUS_FOR_CODE[code]
    error = {"message": f"simulated {code.value} (fault_code)", "type": kind, "code": kind}
    headers = {"content-type": "application/json"}
    if status == 429:
        headers["retry-after"] = "0"
    return httpx.Response(status, headers=headers, content=json.dumps({"error": error}).encode())


class FaultHookTransport(httpx.BaseTransport):
    """A sync transport on which every request fails as an upstream failing with *code*."""

    def __init__(self, code: ErrorCode) -> None:
        self._code = code

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return upstream_failure(self._code, request)


class AsyncFaultHookTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`FaultHookTransport`."""

    def __init__(self, code: ErrorCode) -> None:
        self._code = code

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return upstream_failure(self._code, request)
