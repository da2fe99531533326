"""Options of the bundled HTTP providers that declare what a server does, rather than assume it.

``capabilities=-tools,-json_mode`` withdraws features a server lacks (or a plain list names
exactly those it has), so the kit reports them unsupported instead of failed; ``default.*``
options set call parameters, such as ``default.temperature=0``, under every call's own.
Protocol-neutral: the chat-completions, Messages and Responses providers share them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from chatmodels.errors import ChatModelError, InvalidConfigError
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability

__all__ = ["DEFAULT_OPTION_NAMES", "parse_call_defaults", "parse_capabilities"]


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_DEFAULT_PARSERS: dict[str, Callable[[str], Any]] = {
    "temperature": _float,
    "top_p": _float,
    "max_tokens": int,
    "seed": int,
    "timeout": _float,
    "stop": lambda text: tuple(s for s in text.split(",") if s),
}

#: The provider options that set call defaults.
DEFAULT_OPTION_NAMES = tuple(f"default.{name}" for name in _DEFAULT_PARSERS)


def _bad(provider: str, name: str, value: object, expected: str) -> InvalidConfigError:
    msg = f"option {name!r} must be {expected}, got {value!r}"
    return InvalidConfigError(msg, op="create_provider", provider=provider)


def parse_capabilities(
    value: object, offered: frozenset[Capability], *, provider: str
) -> frozenset[Capability]:
    """Apply ``-name`` removals (or ``+name`` additions) to *offered*, or take a plain list."""
    if value is None or value == "":
        return offered
    if not isinstance(value, str):
        raise _bad(provider, "capabilities", value, "a comma-separated string")
    items = [item.strip() for item in value.split(",") if item.strip()]
    signed = [item[0] in "+-" for item in items]
    if any(signed) and not all(signed):
        expected = "all signed ('-tools,-json_mode') or none signed ('streaming,tools')"
        raise _bad(provider, "capabilities", value, expected)
    known = sorted(c.value for c in Capability)
    chosen = set() if not all(signed) else set(offered)
    for item in items:
        name = item.lstrip("+-")
        try:
            capability = Capability(name)
        except ValueError:
            raise _bad(provider, "capabilities", name, f"one of {known!r}") from None
        if item.startswith("-"):
            chosen.discard(capability)
        else:
            chosen.add(capability)
    return frozenset(chosen)


def parse_call_defaults(options: Mapping[str, Any], *, provider: str) -> ChatOptions | None:
    """Read the ``default.*`` options into call defaults; None when there are none."""
    values: dict[str, Any] = {}
    for name, parse in _DEFAULT_PARSERS.items():
        raw = options.get(f"default.{name}")
        if raw is None or raw == "":
            continue
        try:
            value = parse(raw.strip()) if isinstance(raw, str) else raw
            ChatOptions(**{name: value})  # the options' own checks name what they expect
        except (ValueError, TypeError, ChatModelError) as exc:
            raise _bad(provider, f"default.{name}", raw, f"a valid {name} ({exc})") from None
        values[name] = value
    return ChatOptions(**values) if values else None
