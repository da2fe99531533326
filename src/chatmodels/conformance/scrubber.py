"""Keep the secret values a run was given out of everything pytest prints or writes.

The kit knows every secret option value (named secret, declared by the provider, or read
with ``env:``); this plugin masks them, whole or cut short, in failure texts, captured
output and log sections, user properties (so the JUnit XML) and warnings.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from typing import Any

import pytest

from chatmodels.conformance.subject import is_secret

__all__ = ["MIN_SECRET_LENGTH", "REDACTED", "Scrubber", "given_secrets", "scrub"]

REDACTED = "***"

#: Secret values shorter than this are not scrubbed from text: masking "0" or "no" would
#: mangle every message, and a value that short protects nothing.
MIN_SECRET_LENGTH = 4

#: Any run of this many characters of a secret is masked, so a secret cut short by a
#: truncated repr (its head or its tail) is masked too.
_FRAGMENT = 8


def given_secrets(raw: Mapping[str, str], resolved: Mapping[str, str]) -> list[str]:
    """The resolved values of options named secret or read from the environment (``env:``)."""
    return [
        value
        for key, value in resolved.items()
        if value and (is_secret(key) or str(raw.get(key, "")).startswith("env:"))
    ]


def _pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    pieces: set[str] = set()
    for secret in secrets:
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        if len(secret) <= _FRAGMENT:
            pieces.add(secret)
        else:
            pieces.update(secret[i : i + _FRAGMENT] for i in range(len(secret) - _FRAGMENT + 1))
    if not pieces:
        return None
    # A lookahead finds overlapping fragments, so adjacent ones merge into one masked span.
    alternatives = "|".join(re.escape(p) for p in sorted(pieces, key=len, reverse=True))
    return re.compile(f"(?=({alternatives}))")


def _mask(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None or not text:
        return text
    spans: list[list[int]] = []
    for match in pattern.finditer(text):
        start, end = match.start(1), match.end(1)
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    for start, end in reversed(spans):
        text = text[:start] + REDACTED + text[end:]
    return text


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Mask every secret in *text*, also any run of eight or more of its characters."""
    return _mask(text, _pattern(secrets))


class Scrubber:
    """A pytest plugin that rewrites reports, sections and warnings before anything shows them."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Learn more secret values, e.g. options the provider declares secret."""
        new = [s for s in secrets if s and s not in self.secrets]
        if new:
            self.secrets.extend(new)
            self._pattern = _pattern(self.secrets)

    def text(self, text: str) -> str:
        """*text* with every known secret masked."""
        return _mask(text, self._pattern)

    def _value(self, value: Any, seen: set[int]) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            value[:] = [self._value(v, seen) for v in value]
            return value
        if isinstance(value, tuple):
            items = [self._value(v, seen) for v in value]
            return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
        if isinstance(value, dict):
            return {k: self._value(v, seen) for k, v in value.items()}
        if hasattr(value, "__dict__") and type(value).__module__.startswith("_pytest."):
            self._object(value, seen)
        return value

    def _object(self, obj: Any, seen: set[int]) -> None:
        """Mask strings inside one of pytest's report objects (a traceback repr, say) in place."""
        if id(obj) in seen:
            return
        seen.add(id(obj))
        for name, value in list(vars(obj).items()):
            cleaned = self._value(value, seen)
            if cleaned is not value:
                object.__setattr__(obj, name, cleaned)

    def clean(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        """Mask secrets in a report's failure text, output sections and user properties."""
        if self._pattern is None:
            return
        seen: set[int] = set()
        report.longrepr = self._value(report.longrepr, seen)
        if self._pattern.search(str(report.longrepr or "")):
            report.longrepr = self.text(str(report.longrepr))  # a shape not walked above
        report.sections = [(self.text(t), self.text(c)) for t, c in report.sections]
        if isinstance(report, pytest.TestReport):
            report.user_properties = [(k, self._value(v, seen)) for k, v in report.user_properties]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        self.clean(report)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self,
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        self.clean(report)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_warning_recorded(self, warning_message: Any) -> None:
        message = str(warning_message.message)
        if self._pattern is None or not self._pattern.search(message):
            return
        try:
            warning_message.message = warning_message.category(self.text(message))
        except Exception:  # a warning class with its own signature: keep the text, not the type
            warning_message.message = UserWarning(self.text(message))
