"""Small made-up catalogues, runs and outcomes shared by the report, gate and CLI tests."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report import (
    Report,
    RunInfo,
    build_report,
    dumps,
)
from chatmodels.conformance.requirements import SUITE_VERSION, Catalogue, Level, Requirement

SECRET = "sk-live-7f3a9c1e55d2b8"


def catalogue() -> Catalogue:
    """Eight requirements over four areas and all three levels."""
    return Catalogue(
        [
            Requirement(
                "CORE-001", Level.MUST, "chat() returns a ChatResult", "The basic contract."
            ),
            Requirement(
                "CORE-002", Level.MUST, "Empty messages raise InvalidInputError", "Fail fast."
            ),
            Requirement(
                "STREAM-001",
                Level.MUST,
                "Streams end with one final chunk",
                "Consumers rely on it.",
                capability="streaming",
            ),
            Requirement(
                "STREAM-002",
                Level.SHOULD,
                "Usage arrives on the final chunk only",
                "Avoids double counting.",
                capability="streaming",
            ),
            Requirement(
                "PERF-001",
                Level.SHOULD,
                "Instrumentation overhead stays small",
                "Tracing must be cheap.",
                budget=5.0,
                unit="%",
            ),
            Requirement(
                "OTEL-001",
                Level.SHOULD,
                "Spans follow GenAI conventions",
                "Dashboards depend on it.",
                capability="telemetry",
            ),
            Requirement("CONC-001", Level.MAY, "Batches keep input order", "Nice to have."),
            Requirement("CONC-002", Level.MAY, "Cancellation frees the slot", "Nice to have."),
        ]
    )


def run_info(**changes: Any) -> RunInfo:
    """A plausible run description; *changes* override fields."""
    run = RunInfo(
        provider_name="reference",
        provider_version="0.1.0",
        model="ref-echo-1",
        capabilities=("streaming", "telemetry", "usage"),
        options={"temperature": "0", "base_url": "http://127.0.0.1:8000/v1"},
        started_at="2025-01-01T12:00:00Z",
        duration=3.25,
        python="3.11.7",
        platform="Linux-6.1-x86_64",
        pytest_version="9.2.0",
        otel_sdk_version="1.45.1",
        suites=("contract", "concurrency", "telemetry", "performance"),
    )
    return replace(run, **changes)


def outcomes(statuses: Mapping[str, str], **messages: str) -> list[TestOutcome]:
    """One test per requirement with the given status; messages keyed by ID with '-' as '_'."""
    result = []
    for rid, status in statuses.items():
        message = messages.get(
            rid.replace("-", "_"), f"{rid} went wrong" if status != "passed" else ""
        )
        result.append(
            TestOutcome(f"suites/test_{rid.lower()}.py::test_it", rid, status, 0.1, message)
        )  # type: ignore[arg-type]
    return result


ALL_PASS = {
    "CORE-001": "passed",
    "CORE-002": "passed",
    "STREAM-001": "passed",
    "STREAM-002": "passed",
    "PERF-001": "passed",
    "OTEL-001": "passed",
    "CONC-001": "passed",
    "CONC-002": "passed",
}


def report(
    changes: Mapping[str, str] | None = None,
    *,
    waivers: Mapping[str, str] | None = None,
    figures: tuple[Figure, ...] = (),
    **run_changes: Any,
) -> Report:
    """A report over :func:`catalogue` where everything passes except *changes*."""
    statuses = {**ALL_PASS, **(changes or {})}
    outs = outcomes(statuses)
    if figures:
        outs.append(
            TestOutcome(
                "suites/test_perf.py::test_overhead", "PERF-001", "passed", 0.2, "", figures
            )
        )
    return build_report(catalogue(), outs, run_info(**run_changes), waivers)


def write(report_or_data: Report | dict[str, Any], path: Path) -> Path:
    """Write a report (or raw JSON data) to *path* and return it."""
    if isinstance(report_or_data, Report):
        path.write_text(dumps(report_or_data))
    else:
        path.write_text(json.dumps(report_or_data))
    return path


def journal_header(**changes: Any) -> dict[str, Any]:
    """A journal header for a run over :func:`catalogue`, as the plugin writes it."""
    run = run_info()
    header: dict[str, Any] = {
        "suite_version": SUITE_VERSION,
        "catalogue_digest": catalogue().digest(),
        "started_at": run.started_at,
        "provider": {
            "name": run.provider_name,
            "version": run.provider_version,
            "model": run.model,
            "capabilities": list(run.capabilities),
            "options": dict(run.options),
        },
        "environment": {
            "python": run.python,
            "platform": run.platform,
            "pytest": run.pytest_version,
            "opentelemetry_sdk": run.otel_sdk_version,
        },
        "suites": list(run.suites),
        "filters": [],
        "waivers": {},
    }
    header.update(changes)
    return header
