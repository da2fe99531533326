"""Options of the reference provider, parsed from Python values or command-line strings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatmodels.errors import ErrorCode, InvalidConfigError

__all__ = ["DEFAULT_CONFIG", "OPTION_NAMES", "ReferenceConfig", "parse_config"]


@dataclass(frozen=True, slots=True)
class ReferenceConfig:
    """How the simulated model behaves: its delays, stream chunking, faults and input limit."""

    latency: float = 0.005
    chunk_latency: float = 0.0
    chunk_tokens: int = 2
    fault_code: ErrorCode | None = None
    fault_rate: float = 0.0
    seed: int = 0
    max_input_tokens: int = 8192


DEFAULT_CONFIG = ReferenceConfig()

OPTION_NAMES: tuple[str, ...] = (
    "latency",
    "chunk_latency",
    "chunk_tokens",
    "fault_code",
    "fault_rate",
    "seed",
    "max_input_tokens",
)

_NO_FAULT = ("", "none", "null")


def _invalid(provider: str, name: str, value: object, expected: str) -> InvalidConfigError:
    msg = f"provider {provider!r} option {name!r} must be {expected}, got {value!r}"
    return InvalidConfigError(msg, op="create_provider", provider=provider)


def _parse_float(provider: str, name: str, value: object, high: float = math.inf) -> float:
    expected = "a number of seconds >= 0" if high == math.inf else f"a number in [0, {high:g}]"
    number: float | None = None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    if number is None or not math.isfinite(number) or not 0 <= number <= high:
        raise _invalid(provider, name, value, expected)
    return number


def _parse_int(provider: str, name: str, value: object, low: int | None) -> int:
    expected = "an int" if low is None else f"an int >= {low}"
    number: int | None = None
    if isinstance(value, str):
        try:
            number = int(value.strip(), 10)
        except ValueError:
            number = None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    if number is None or (low is not None and number < low):
        raise _invalid(provider, name, value, expected)
    return number


def _parse_code(provider: str, value: object) -> ErrorCode | None:
    if value is None or isinstance(value, ErrorCode):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _NO_FAULT:
            return None
        try:
            return ErrorCode(text)
        except ValueError:
            pass
    allowed = ", ".join(repr(c.value) for c in ErrorCode)
    raise _invalid(provider, "fault_code", value, f"'none' or an error code among {allowed}")


def parse_config(options: Mapping[str, Any], *, provider: str = "reference") -> ReferenceConfig:
    """Validate provider options once, so a bad value fails at creation and never mid-call."""
    if not options:
        return DEFAULT_CONFIG
    code = _parse_code(provider, options.get("fault_code"))
    if "fault_rate" in options:
        rate = _parse_float(provider, "fault_rate", options["fault_rate"], high=1.0)
    else:
        rate = 1.0 if code is not None else 0.0
    if code is None and rate > 0:
        msg = (
            f"provider {provider!r} option 'fault_rate' is {options['fault_rate']!r} but "
            "'fault_code' is unset; set fault_code to the error code to inject"
        )
        raise InvalidConfigError(msg, op="create_provider", provider=provider)
    base = DEFAULT_CONFIG
    return ReferenceConfig(
        latency=_parse_float(provider, "latency", options.get("latency", base.latency)),
        chunk_latency=_parse_float(
            provider, "chunk_latency", options.get("chunk_latency", base.chunk_latency)
        ),
        chunk_tokens=_parse_int(
            provider, "chunk_tokens", options.get("chunk_tokens", base.chunk_tokens), 1
        ),
        fault_code=code,
        fault_rate=rate,
        seed=_parse_int(provider, "seed", options.get("seed", base.seed), None),
        max_input_tokens=_parse_int(
            provider,
            "max_input_tokens",
            options.get("max_input_tokens", base.max_input_tokens),
            1,
        ),
    )
