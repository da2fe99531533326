"""Shared test helpers: run the conformance suites in-process against a chosen provider."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from chatmodels.conformance.outcomes import (
    REQUIREMENT_PROPERTY,
    Outcome,
    TestOutcome,
    classify_skip,
)
from chatmodels.conformance.report import aggregate
from chatmodels.conformance.session import SUITES_DIR


@dataclass
class SuiteRun:
    """The per-requirement verdicts of one in-process conformance run."""

    ret: int
    statuses: dict[str, str] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)
    output: str = ""

    @property
    def failing(self) -> set[str]:
        """Requirement IDs that failed or errored."""
        return {r for r, s in self.statuses.items() if s in ("failed", "error")}

    def assert_caught(
        self, requirement_id: str, *, also: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """Assert *requirement_id* failed, and nothing beyond it and the documented *also*."""
        __tracebackhide__ = True
        assert self.statuses.get(requirement_id) in ("failed", "error"), (
            f"{requirement_id} was {self.statuses.get(requirement_id)!r}, expected failed; "
            f"statuses: {self.statuses}\n{self.output[-4000:]}"
        )
        unexpected = self.failing - {requirement_id} - set(also)
        assert not unexpected, f"also failed: {sorted(unexpected)}; messages: " + repr(
            {r: self.messages.get(r) for r in unexpected}
        )

    def assert_all_pass(self) -> None:
        """Assert no requirement failed, errored or was inconclusive."""
        __tracebackhide__ = True
        bad = {r: s for r, s in self.statuses.items() if s in ("failed", "error", "inconclusive")}
        assert not bad, f"{bad}; messages: { {r: self.messages.get(r) for r in bad} }"


RunConformance = Callable[..., SuiteRun]

# In-process runs restore sys.modules afterwards, so anything first imported inside a run is
# imported (and assertion-rewritten) again by the next one. Importing these once up front
# makes each run cost a fraction of a second instead of seconds.
_WARM_MODULES = (
    "hypothesis",
    "jinja2",
    "jsonschema",
    "httpx",
    "httpcore",
    "opentelemetry.sdk.metrics",
    "opentelemetry.sdk.trace",
    "chatmodels.conformance.fixtures",
    "chatmodels.conformance.report",
    "chatmodels.conformance.session",
    "chatmodels.conformance.faults",
    "chatmodels.providers.reference",
    "chatmodels.providers.openai",
    "chatmodels.telemetry",
)


@pytest.fixture(scope="session")
def _warm_suite_imports() -> None:
    """Import the kit, its heavy dependencies and every suite module once per session."""
    for name in _WARM_MODULES:
        importlib.import_module(name)
    for path in sorted(SUITES_DIR.glob("*.py")):
        try:
            importlib.import_module(f"chatmodels.conformance.suites.{path.stem}")
        except Exception:  # the in-process run reports a broken suite module itself
            continue


@pytest.fixture
def run_conformance(pytester: pytest.Pytester, _warm_suite_imports: None) -> RunConformance:
    """Run ``pytest --chatmodels-conformance`` in-process; *provider* is 'module:Factory'."""

    def run(provider: str | None = None, *args: str) -> SuiteRun:
        if provider is not None:
            module, _, name = provider.partition(":")
            pytester.makeconftest(
                f"""
                import pytest
                from {module} import {name}

                @pytest.fixture(scope="session")
                def chatmodels_provider():
                    return {name}
                """
            )
        recorder = pytester.inline_run(
            "--chatmodels-conformance", "-p", "no:cacheprovider", "-q", *args
        )
        result = SuiteRun(ret=int(recorder.ret))
        lines: list[str] = []
        seen: dict[str, list[Outcome]] = {}
        for report in recorder.getreports("pytest_runtest_logreport"):
            props = dict(report.user_properties)
            requirement_id = props.get(REQUIREMENT_PROPERTY)
            if requirement_id is None:
                continue
            if report.skipped:
                reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
                status, message = classify_skip(str(reason).removeprefix("Skipped: "))
            elif report.failed:
                status = "failed" if report.when == "call" else "error"
                message = str(report.longrepr)[-2000:]
            elif report.when == "call":
                status, message = "passed", ""
            else:
                continue
            seen.setdefault(requirement_id, []).append(status)
            if message:
                result.messages.setdefault(requirement_id, []).append(message)
            lines.append(f"{report.nodeid} {report.when} {status} {message[:300]}")
        result.statuses = {
            rid: aggregate([TestOutcome("", rid, status) for status in statuses])
            for rid, statuses in seen.items()
        }
        result.output = "\n".join(lines)
        return result

    return run
