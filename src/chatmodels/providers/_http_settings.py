"""Options every HTTP provider shares, parsed once; values from a command line arrive as strings.

A protocol subclasses ``HttpSettings`` for its own fields and headers, and reads its extra
options with the same ``option_*`` readers, so every bad value is reported the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatmodels.errors import ErrorCode, InvalidConfigError
from chatmodels.providers._http_errors import RetryPolicy
from chatmodels.providers._http_fault_hook import parse_fault_code

__all__ = [
    "HTTP_OPTION_NAMES",
    "HttpSettings",
    "option_boolean",
    "option_integer",
    "option_number",
    "option_text",
    "parse_headers",
    "parse_http_options",
]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})

#: The options every HTTP provider takes besides its own (and ``base_url``).
HTTP_OPTION_NAMES = (
    "api_key",
    "model",
    "timeout",
    "total_timeout",
    "max_retries",
    "backoff_base",
    "backoff_max",
    "deterministic",
    "max_connections",
    "headers",
    "fault_code",
)


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Validated options of an HTTP provider; the API key never appears in the repr."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    timeout: float = 60.0
    total_timeout: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deterministic: bool = False
    max_connections: int = 10
    extra_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: The fault hook: every request fails as an upstream failing with this code would.
    fault_code: ErrorCode | None = None

    def protocol_headers(self) -> dict[str, str]:
        """The headers the protocol itself needs (credentials, versions); a subclass adds them."""
        return {}

    def headers(self) -> dict[str, str]:
        """The headers every request carries: JSON, the protocol's, then the user's own."""
        headers = {"Accept": "application/json", **self.protocol_headers()}
        headers.update(self.extra_headers)
        return headers


def _bad(provider: str, name: str, value: object, expected: str) -> InvalidConfigError:
    shown = f"a value of type {type(value).__name__}" if name == "api_key" else repr(value)
    msg = f"option {name!r} must be {expected}, got {shown}"
    return InvalidConfigError(msg, op="create_provider", provider=provider)


def option_number(
    provider: str, name: str, value: object, *, minimum: float, strict: bool
) -> float:
    """Read a finite number at or above *minimum* (above it when *strict*)."""
    expected = f"a number {'>' if strict else '>='} {minimum:g}"
    if isinstance(value, bool):
        raise _bad(provider, name, value, expected)
    try:
        number = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        raise _bad(provider, name, value, expected) from None
    if not math.isfinite(number) or number < minimum or (strict and number == minimum):
        raise _bad(provider, name, value, expected)
    return number


def option_integer(provider: str, name: str, value: object, *, minimum: int) -> int:
    """Read an int at or above *minimum*; a string of digits counts."""
    expected = f"an int >= {minimum}"
    number: object = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise _bad(provider, name, value, expected) from None
    if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
        raise _bad(provider, name, value, expected)
    return number


def option_boolean(provider: str, name: str, value: object) -> bool:
    """Read a bool, or its usual spellings as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(provider, name, value, "a bool or one of 'true', 'false', '1', '0', 'yes', 'no'")


def option_text(provider: str, name: str, value: object) -> str | None:
    """Read an optional string; empty means absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(provider, name, value, "a string")
    return value or None


def _base_url(provider: str, value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        expected = "an http:// or https:// URL such as 'http://127.0.0.1:8000/v1'"
        raise _bad(provider, "base_url", value, expected)
    return value.rstrip("/")


def parse_headers(value: object, *, provider: str) -> tuple[tuple[str, str], ...]:
    """Read ``Name:Value`` headers: lines of one string, a list of them, or a mapping."""
    if value is None or value == "":
        return ()
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        lines = value.splitlines() if isinstance(value, str) else value
        if not isinstance(lines, (list, tuple)) or not all(isinstance(x, str) for x in lines):
            expected = "'Name:Value' lines, a list of them, or a mapping"
            raise _bad(provider, "headers", value, expected)
        items = []
        for line in (x.strip() for x in lines):
            name, sep, text = line.partition(":")
            if line and (not sep or not name.strip()):
                expected = "'Name:Value', e.g. 'X-Fault:status;status=429'"
                raise _bad(provider, "headers", line, expected)
            if line:
                items.append((name.strip(), text.strip()))
    for name, _ in items:
        if not name.isascii() or any(c in name for c in " \t\r\n:"):
            raise _bad(provider, "headers", name, "an HTTP header name")
    return tuple(items)


def parse_http_options(
    options: Mapping[str, Any], *, provider: str, base_url: str | None = None
) -> dict[str, Any]:
    """Check and convert the shared options into ``HttpSettings`` fields, naming a wrong one.

    *base_url* is the default when the protocol has a well-known server; None requires it.
    """
    total = options.get("total_timeout")
    retry = RetryPolicy(
        max_retries=option_integer(
            provider, "max_retries", options.get("max_retries", 2), minimum=0
        ),
        backoff_base=option_number(
            provider, "backoff_base", options.get("backoff_base", 0.5), minimum=0, strict=False
        ),
        backoff_max=option_number(
            provider, "backoff_max", options.get("backoff_max", 8.0), minimum=0, strict=False
        ),
    )
    return {
        "base_url": _base_url(provider, options.get("base_url") or base_url),
        "api_key": option_text(provider, "api_key", options.get("api_key")),
        "model": option_text(provider, "model", options.get("model")),
        "timeout": option_number(
            provider, "timeout", options.get("timeout", 60.0), minimum=0, strict=True
        ),
        "total_timeout": None
        if total is None or total == ""
        else option_number(provider, "total_timeout", total, minimum=0, strict=True),
        "retry": retry,
        "deterministic": option_boolean(
            provider, "deterministic", options.get("deterministic", False)
        ),
        "max_connections": option_integer(
            provider, "max_connections", options.get("max_connections", 10), minimum=1
        ),
        "extra_headers": parse_headers(options.get("headers"), provider=provider),
        "fault_code": parse_fault_code(options.get("fault_code"), provider=provider),
    }
