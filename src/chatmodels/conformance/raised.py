"""How verdicts quote an exception a provider raised: a bare exception is framed as such.

Suites describe what a call raised with :func:`describe_raised`. An exception that escapes a
test from provider code is turned, by the ``pytest_runtest_call`` wrapper below, into a failure
that names the call, what it raised and what was expected, instead of a raw traceback line.
"""

from __future__ import annotations

import linecache
import traceback
from collections.abc import Generator
from pathlib import Path

import pytest

from chatmodels.errors import ChatModelError

__all__ = ["describe_raised", "escaped_from_provider", "pytest_runtest_call", "unexpected"]

_KIT = Path(__file__).resolve().parent
_SUITES = _KIT / "suites"
_SHOWN = 200
ANSWER_OR_ERROR = "an answer or a ChatModelError"


def describe_raised(exc: BaseException) -> str:
    """'a bare KeyError: 'x'' for a foreign exception, 'RateLimitError (code ...)' for ours."""
    text = str(exc)
    said = f": {text[:_SHOWN]}{'...' if len(text) > _SHOWN else ''}" if text else ""
    if isinstance(exc, ChatModelError):
        code = getattr(exc.code, "value", exc.code)
        return f"{type(exc).__name__} (code {code!r}){said}"
    return f"a bare {type(exc).__name__}{said}"


def unexpected(call: str, exc: BaseException, expected: str = ANSWER_OR_ERROR) -> str:
    """A failure for *call* raising *exc*: what was observed, and what was expected."""
    return f"{call} raised {describe_raised(exc)}; expected {expected}"


def _inside(path: str, folder: Path) -> bool:
    try:
        return Path(path).resolve().is_relative_to(folder)
    except (OSError, ValueError):
        return False


def escaped_from_provider(exc: BaseException) -> str | None:
    """The failure message for *exc* raised by provider code through a suite; None otherwise.

    The call is the last suite line on the way down; an exception raised by the kit itself
    (its own assertions, or a bug in it) is left as it is.
    """
    if isinstance(exc, AssertionError):
        return None
    frames = [frame for frame, _ in traceback.walk_tb(exc.__traceback__)]
    if not frames or _inside(frames[-1].f_code.co_filename, _KIT):
        return None
    line_numbers = [lineno for _, lineno in traceback.walk_tb(exc.__traceback__)]
    site = None
    for frame, lineno in zip(frames, line_numbers, strict=True):
        filename = frame.f_code.co_filename
        if _inside(filename, _SUITES):
            code = linecache.getline(filename, lineno).strip()
            site = f"`{code}` ({Path(filename).name}:{lineno})"
    if site is None:
        return None
    expected = "an answer" if isinstance(exc, ChatModelError) else ANSWER_OR_ERROR
    return unexpected(site, exc, expected)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Frame an exception that escaped from the provider as a failure naming the call."""
    try:
        return (yield)
    except Exception as exc:
        framed = escaped_from_provider(exc)
        if framed is None:
            raise
        raise AssertionError(framed) from exc
