"""The suites catch the defects the 2.0 suite let through (issue 14), each at its requirement."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import broken_gaps
from chatmodels.conformance.faults import FaultServer
from chatmodels.providers._reference_config import OPTION_NAMES
from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceProvider
from scaffold import Case, caught, declared, params

RunConformance = Callable[..., Any]

#: The broken providers broken_gaps declares; the others below need checks of their own.
CASES = declared(broken_gaps)

#: Requirements whose broken providers live in this file; the per-area catch files leave them
#: out of their own "every requirement has a case" checks.
CAUGHT_HERE = frozenset(
    {"STREAM-008", "MSG-008", "OTEL-018", "CONC-014", "HEALTH-003", "HEALTH-004"}
)

#: A small concurrency load: every defect below still shows at this size.
_SMALL = ("conc_threads=16", "conc_async_tasks=32", "conc_timeout=10")


def _settings(*values: str) -> list[str]:
    return [arg for value in values for arg in ("--chatmodels-setting", value)]


#: A conftest that swaps the telemetry capture for a broken one from broken_gaps.
_CAPTURE_CONFTEST = """
import pytest
from broken_gaps import {name}

@pytest.fixture
def chatmodels_telemetry():
    capture = {name}()
    yield capture
    capture.shutdown()
"""


class NoFaultHook(ReferenceProvider):
    """The reference without the ``fault_code`` option: an SDK-backed provider before the hook."""

    metadata = dataclasses.replace(
        REFERENCE_METADATA,
        optional_options=tuple(o for o in OPTION_NAMES if o not in ("fault_code", "fault_rate")),
    )


def _http_options(base_url: str) -> tuple[str, ...]:
    return (
        "--chatmodels-option",
        f"base_url={base_url}",
        "--chatmodels-option",
        "model=reference-echo",
    )


class TestCatchesGaps:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance, case: Case) -> None:
        """A broken provider declared in broken_gaps fails its requirement alone."""
        run = run_conformance(case.target, "--chatmodels-requirements", case.selected, *case.args)
        case.check(run)

    @pytest.mark.catches("MSG-008")
    def test_dropped_system_messages_are_caught(self, run_conformance) -> None:
        """An adapter that never sends system messages fails MSG-008 alone (MSG-002 passes)."""
        run = run_conformance(
            "broken_gaps:DropsSystemMessages", "--chatmodels-requirements", "MSG,USAGE,CORE"
        )
        run.assert_caught("MSG-008")
        assert run.statuses["MSG-002"] == "passed"

    @pytest.mark.catches("OTEL-018")
    @pytest.mark.parametrize("edition", ["semconv-1.41.1", "genai-0.1.0"])
    def test_durations_in_milliseconds_are_caught(
        self, pytester: pytest.Pytester, run_conformance, edition: str
    ) -> None:
        """Durations recorded in ms under unit 's' fail OTEL-018 alone, in either edition."""
        pytester.makeconftest(_CAPTURE_CONFTEST.format(name="DurationInMsCapture"))
        run = run_conformance(
            None,
            "--chatmodels-requirements",
            "OTEL-010,OTEL-012,OTEL-013,OTEL-017,OTEL-018",
            *_settings(f"otel_semconv={edition}"),
        )
        run.assert_caught("OTEL-018")

    @pytest.mark.catches("CONC-014")
    @pytest.mark.parametrize(
        ("broken", "left"),
        [
            ("ProducerOutlivesConsumer", "task(s) still ran on the loop"),
            ("SyncProducerOutlivesConsumer", "more thread(s) than before"),
        ],
    )
    def test_producers_outliving_their_consumers_are_caught(
        self, run_conformance, broken: str, left: str
    ) -> None:
        """A producer task or thread still reading an abandoned stream fails CONC-014."""
        run = run_conformance(f"broken_gaps:{broken}", "--chatmodels-requirements", "CONC-014")
        run.assert_caught("CONC-014")
        assert left in run.messages["CONC-014"][0]

    @pytest.mark.catches("HEALTH-004")
    def test_healthy_without_probing_is_caught(self, run_conformance) -> None:
        """An HTTP health check that never asks the server fails HEALTH-004 alone."""
        with FaultServer() as server:
            run = run_conformance(
                "broken_gaps:HealthyWithoutProbing",
                "--chatmodels-requirements",
                "HEALTH,LIFE",
                *_http_options(server.url),
            )
        run.assert_caught("HEALTH-004")
        notes = run.messages["HEALTH-004"][0]
        for backend in ("dead port", "HTTP 500", "resetting"):
            assert backend in notes, notes


class TestFaultHook:
    @pytest.mark.catches("ERR-001")
    def test_rate_limit_escaping_as_key_error_is_caught(self, run_conformance) -> None:
        """A 429 surfaced as a bare KeyError fails ERR-001, seen through the fault hook."""
        run = run_conformance("broken_gaps:RateLimitAsKeyError", "--chatmodels-requirements", "ERR")
        run.assert_caught("ERR-001")
        assert any(
            "fault_code='rate_limit' raised a bare KeyError" in m for m in run.messages["ERR-001"]
        )

    @pytest.mark.catches("ERR-002")
    def test_retryable_authentication_is_caught(self, run_conformance) -> None:
        """An authentication failure marked retryable fails ERR-002, seen through the hook."""
        run = run_conformance(
            "broken_gaps:RetryableAuthentication", "--chatmodels-requirements", "ERR"
        )
        run.assert_caught("ERR-002")
        assert any("fault_code='authentication'" in m for m in run.messages["ERR-002"])

    @pytest.mark.catches("CONC-003")
    def test_rate_limit_escaping_under_concurrency_is_caught(self, run_conformance) -> None:
        """The same bare KeyError, met by threads and tasks at once, fails CONC-003 alone."""
        run = run_conformance(
            "broken_gaps:RateLimitAsKeyError",
            "--chatmodels-requirements",
            "CONC-001,CONC-002,CONC-003",
            *_settings(*_SMALL),
        )
        run.assert_caught("CONC-003")
        assert any("fault_code='rate_limit'" in m for m in run.messages["CONC-003"])

    def test_a_provider_without_the_hook_is_unsupported_there(self, run_conformance) -> None:
        """Without 'fault_code' the upstream checks are unsupported, the others still pass."""
        run = run_conformance(
            "test_catches_gaps:NoFaultHook",
            "--chatmodels-requirements",
            "ERR-001,ERR-002,CONC-003",
            *_settings(*_SMALL),
        )
        assert not run.failing, run.messages
        for requirement_id in ("ERR-001", "ERR-002", "CONC-003"):
            notes = run.messages.get(requirement_id, [])
            assert any("offers no fault hook" in m for m in notes), (requirement_id, notes)


def test_caught_here_lists_this_files_cases() -> None:
    """CAUGHT_HERE names exactly the new requirements this file and broken_gaps.py catch."""
    marked = set(re.findall(r'catches\("([A-Z]+-\d{3})"\)', Path(__file__).read_text()))
    assert (marked | caught(CASES)) - {"ERR-001", "ERR-002", "CONC-003"} == CAUGHT_HERE
