"""Checks that indirect evidence holds on this provider before a verdict relies on it.

Some requirements judge order or ownership by side signals: a longer input is billed more
input tokens, and a deterministic provider answers the same input the same way twice. Where
the provider does not give the signal (constant or zero usage, answers that vary), the verdict
is inconclusive with the reason, never a failure the signal's absence made up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.perfstats import CpuPressure
from chatmodels.conformance.raised import describe_raised
from chatmodels.messages import ChatResult

__all__ = [
    "SHORT_INPUT",
    "LONG_INPUT",
    "inconclusive",
    "unless_saturated",
    "unrepeatable",
    "usage_unusable",
]

SHORT_INPUT = "Usage probe: reply with one word."
LONG_INPUT = " ".join([SHORT_INPUT, *["Please keep the answer short and plain."] * 12])


def inconclusive(reason: str) -> NoReturn:
    """End the test as inconclusive, naming why the evidence could not decide."""
    pytest.skip(f"{INCONCLUSIVE}{reason}")


def unless_saturated(pressure: CpuPressure, gross: bool, miss: str) -> None:
    """End a missed timing rule as inconclusive when a saturated machine explains the *miss*."""
    excuse = pressure.excuse(gross, miss)
    if excuse is not None:
        inconclusive(excuse)


def _words(text: str) -> int:
    return len(text.split())


def usage_unusable(ask: Callable[[str], object], call: str = "invoke") -> str | None:
    """Why input tokens cannot tell a short input from a long one here, or None when they can.

    *ask* makes one call; it is asked a short and a clearly longer input, one after the other.
    """
    tokens: list[int] = []
    for prompt in (SHORT_INPUT, LONG_INPUT):
        try:
            result = ask(prompt)
        except Exception as exc:
            return f"usage could not be probed: {call} of a {_words(prompt)}-word input raised " + (
                describe_raised(exc)
            )
        usage = result.usage if isinstance(result, ChatResult) else None
        if usage is None:
            return f"{call} reported no usage for a {_words(prompt)}-word input"
        tokens.append(usage.input_tokens)
    short, long = tokens
    if long <= short:
        return (
            f"usage does not grow with the input on this provider: {call} billed {short} input "
            f"tokens for a {_words(SHORT_INPUT)}-word input and {long} for a "
            f"{_words(LONG_INPUT)}-word one, so input tokens cannot tell requests apart "
            "(USAGE-002 judges the usage itself)"
        )
    return None


def unrepeatable(
    first: object, ask_again: Callable[[], object], call: str, view: Callable[[object], object]
) -> str | None:
    """Why comparing answers proves nothing: *call* answered the same input differently twice.

    *view* reduces an answer to what must agree; None when the second answer agrees with *first*.
    """
    try:
        again = ask_again()
    except Exception as exc:
        return f"determinism could not be confirmed: {call} asked again raised " + (
            describe_raised(exc)
        )
    if view(again) == view(first):
        return None
    return (
        f"{call} answered the same input differently on two calls alone ({view(first)!r:.120} "
        f"then {view(again)!r:.120}), so answers cannot be compared with each other "
        "(META-001 judges the 'deterministic' declaration)"
    )
