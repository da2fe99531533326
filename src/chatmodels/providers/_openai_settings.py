"""Options of the openai provider, parsed once; values from a command line arrive as strings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatmodels.errors import ErrorCode, InvalidConfigError
from chatmodels.providers._http_fault_hook import parse_fault_code
from chatmodels.providers._openai_errors import PROVIDER_NAME, RetryPolicy

__all__ = ["OpenAISettings", "parse_headers", "parse_settings"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True, slots=True)
class OpenAISettings:
    """Validated provider options; the API key never appears in the repr."""

    base_url: str
    api_key: str | None = field(default=None, repr=False)
    model: str | None = None
    organization: str | None = None
    timeout: float = 60.0
    total_timeout: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    deterministic: bool = False
    max_connections: int = 10
    stream_usage: bool = True
    extra_headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: The fault hook: every request fails as an upstream failing with this code would.
    fault_code: ErrorCode | None = None

    def headers(self) -> dict[str, str]:
        """The headers every request carries."""
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        headers.update(self.extra_headers)
        return headers


def _bad(name: str, value: object, expected: str) -> InvalidConfigError:
    shown = f"a value of type {type(value).__name__}" if name == "api_key" else repr(value)
    msg = f"option {name!r} must be {expected}, got {shown}"
    return InvalidConfigError(msg, op="create_provider", provider=PROVIDER_NAME)


def _number(name: str, value: object, *, minimum: float, strict: bool) -> float:
    expected = f"a number {'>' if strict else '>='} {minimum:g}"
    if isinstance(value, bool):
        raise _bad(name, value, expected)
    try:
        number = float(value) if isinstance(value, (int, float, str)) else math.nan
    except ValueError:
        raise _bad(name, value, expected) from None
    if not math.isfinite(number) or number < minimum or (strict and number == minimum):
        raise _bad(name, value, expected)
    return number


def _integer(name: str, value: object, *, minimum: int) -> int:
    expected = f"an int >= {minimum}"
    number: object = value
    if isinstance(value, str):
        try:
            number = int(value.strip())
        except ValueError:
            raise _bad(name, value, expected) from None
    if isinstance(number, bool) or not isinstance(number, int) or number < minimum:
        raise _bad(name, value, expected)
    return number


def _boolean(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _bad(name, value, "a bool or one of 'true', 'false', '1', '0', 'yes', 'no'")


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _bad(name, value, "a string")
    return value or None


def _base_url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise _bad(
            "base_url", value, "an http:// or https:// URL such as 'http://127.0.0.1:8000/v1'"
        )
    return value.rstrip("/")


def parse_headers(value: object) -> tuple[tuple[str, str], ...]:
    """Read ``Name:Value`` headers: lines of one string, a list of them, or a mapping."""
    if value is None or value == "":
        return ()
    if isinstance(value, Mapping):
        items = [(str(k), str(v)) for k, v in value.items()]
    else:
        lines = value.splitlines() if isinstance(value, str) else value
        if not isinstance(lines, (list, tuple)) or not all(isinstance(x, str) for x in lines):
            raise _bad("headers", value, "'Name:Value' lines, a list of them, or a mapping")
        items = []
        for line in (x.strip() for x in lines):
            name, sep, text = line.partition(":")
            if line and (not sep or not name.strip()):
                raise _bad("headers", line, "'Name:Value', e.g. 'X-Fault:status;status=429'")
            if line:
                items.append((name.strip(), text.strip()))
    for name, _ in items:
        if not name.isascii() or any(c in name for c in " \t\r\n:"):
            raise _bad("headers", name, "an HTTP header name")
    return tuple(items)


def parse_settings(options: Mapping[str, Any]) -> OpenAISettings:
    """Check and convert every option, naming the option that is wrong."""
    total = options.get("total_timeout")
    retry = RetryPolicy(
        max_retries=_integer("max_retries", options.get("max_retries", 2), minimum=0),
        backoff_base=_number(
            "backoff_base", options.get("backoff_base", 0.5), minimum=0, strict=False
        ),
        backoff_max=_number(
            "backoff_max", options.get("backoff_max", 8.0), minimum=0, strict=False
        ),
    )
    return OpenAISettings(
        base_url=_base_url(options.get("base_url")),
        api_key=_text("api_key", options.get("api_key")),
        model=_text("model", options.get("model")),
        organization=_text("organization", options.get("organization")),
        timeout=_number("timeout", options.get("timeout", 60.0), minimum=0, strict=True),
        total_timeout=None
        if total is None or total == ""
        else _number("total_timeout", total, minimum=0, strict=True),
        retry=retry,
        deterministic=_boolean("deterministic", options.get("deterministic", False)),
        max_connections=_integer("max_connections", options.get("max_connections", 10), minimum=1),
        stream_usage=_boolean("stream_usage", options.get("stream_usage", True)),
        extra_headers=parse_headers(options.get("headers")),
        fault_code=parse_fault_code(options.get("fault_code"), provider=PROVIDER_NAME),
    )
