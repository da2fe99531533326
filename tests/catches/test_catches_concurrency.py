"""The concurrency suite catches each deliberately broken provider, and passes the reference."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import pytest

import broken_concurrency
from chatmodels.conformance.catalogue.concurrency import REQUIREMENTS
from chatmodels.conformance.session import SUITES_DIR

RunConformance = Callable[..., Any]

CONC_IDS = {r.id for r in REQUIREMENTS}

_OURS = sorted(SUITES_DIR.glob("suite_concurrency*.py"))

# Imported once here so each in-process run reuses them: with PYTHONDONTWRITEBYTECODE set,
# importing them afresh per run costs seconds of assertion rewriting.
_PRELOADED = [
    importlib.import_module(name)
    for name in (
        "hypothesis",
        "chatmodels.conformance.fixtures",
        "chatmodels.conformance.report",
        *(f"chatmodels.conformance.suites.{path.stem}" for path in _OURS),
    )
]

# Collect only this suite's modules: importing the others would cost each run seconds.
CONCURRENCY_ONLY = ["--chatmodels-suite", "concurrency"] + [
    f"--ignore={path}" for path in sorted(SUITES_DIR.glob("suite_*.py")) if path not in _OURS
]

# Small loads keep each run to a few seconds; every bug below still shows at this size.
_SMALL = (
    "conc_threads=16",
    "conc_calls_per_thread=2",
    "conc_async_tasks=32",
    "conc_cancel_streams=20",
    "conc_timeout=3",
)


def _run(run_conformance: RunConformance, broken: str, *extra: str) -> Any:
    settings = [arg for value in _SMALL for arg in ("--chatmodels-setting", value)]
    return run_conformance(
        f"broken_concurrency:{broken}",
        *CONCURRENCY_ONLY,
        *settings,
        *extra,
    )


class TestCatchesConcurrency:
    @pytest.mark.catches("CONC-001")
    def test_empty_answers_under_load_are_caught(self, run_conformance: RunConformance) -> None:
        """invoke answering empty text while another call is in flight fails CONC-001."""
        _run(run_conformance, "EmptiesAnswersUnderLoad").assert_caught("CONC-001")

    @pytest.mark.catches("CONC-002")
    def test_shared_response_buffer_is_caught(self, run_conformance: RunConformance) -> None:
        """A model-wide response buffer hands callers each other's answers and fails CONC-002."""
        _run(run_conformance, "SharesResponseBuffer").assert_caught("CONC-002")

    @pytest.mark.catches("CONC-003")
    def test_bare_runtime_error_under_contention_is_caught(
        self, run_conformance: RunConformance
    ) -> None:
        """A RuntimeError escaping contended calls fails CONC-003, and with it CONC-001/006.

        The failed calls return no answer (CONC-001) and fail in flight during close (CONC-006).
        """
        run = _run(run_conformance, "RaisesRuntimeErrorUnderContention")
        run.assert_caught("CONC-003", also={"CONC-001", "CONC-006"})

    @pytest.mark.catches("CONC-004")
    def test_time_sleep_in_async_code_is_caught(self, run_conformance: RunConformance) -> None:
        """Async calls that wait with time.sleep stall the heartbeat and fail CONC-004."""
        _run(run_conformance, "BlocksEventLoop").assert_caught("CONC-004")

    @pytest.mark.catches("CONC-004")
    @pytest.mark.catches("ASYNC-005")
    def test_time_sleep_in_ainvoke_is_quoted(self, run_conformance: RunConformance) -> None:
        """A 20 ms time.sleep in _ainvoke fails CONC-004 and ASYNC-005, each quoting that line."""
        run = run_conformance(
            "broken_concurrency:SleepsInAinvoke",
            "--chatmodels-requirements",
            "CONC-004,ASYNC-005",
        )
        run.assert_caught("CONC-004", also={"ASYNC-005"})
        line = next(
            i
            for i, text in enumerate(inspect.getsource(broken_concurrency).splitlines(), 1)
            if "time.sleep(SLEEP_IN_AINVOKE)" in text
        )
        for requirement in ("CONC-004", "ASYNC-005"):
            quoted = " ".join(run.messages[requirement])
            assert f"time.sleep at broken_concurrency.py:{line}" in quoted, quoted

    @pytest.mark.catches("CONC-005")
    def test_swallowed_cancellation_is_caught(self, run_conformance: RunConformance) -> None:
        """Streams that swallow CancelledError and run to the end fail CONC-005."""
        _run(run_conformance, "IgnoresCancellation").assert_caught("CONC-005")

    @pytest.mark.catches("CONC-005")
    def test_cancellation_turned_into_an_error_is_caught(
        self, run_conformance: RunConformance
    ) -> None:
        """Streams that answer cancellation with ChatCancelledError fail CONC-005, quoting it."""
        run = _run(run_conformance, "TurnsCancellationIntoError")
        run.assert_caught("CONC-005")
        assert any("ChatCancelledError" in m for m in run.messages["CONC-005"])

    @pytest.mark.catches("CONC-006")
    def test_calls_stranded_by_close_are_caught(self, run_conformance: RunConformance) -> None:
        """Calls left hanging by close() fail CONC-006 with a hung verdict instead of a hung run."""
        run = _run(
            run_conformance,
            "HangsInFlightCallsOnClose",
            *("--chatmodels-setting", "conc_timeout=1.5"),  # each stranded close waits this long
        )
        run.assert_caught("CONC-006")
        assert any("hung" in m for m in run.messages["CONC-006"]), run.messages["CONC-006"]

    @pytest.mark.catches("CONC-007")
    def test_answers_after_close_are_caught(self, run_conformance: RunConformance) -> None:
        """A model that keeps answering after close() fails CONC-007."""
        _run(run_conformance, "KeepsAnsweringAfterClose").assert_caught("CONC-007")

    @pytest.mark.catches("CONC-008")
    def test_thread_per_call_is_caught(self, run_conformance: RunConformance) -> None:
        """A helper thread left behind by every call fails CONC-008."""
        # Its stream threads outlive closed streams too, which is CONC-014.
        _run(run_conformance, "LeaksThreadPerCall").assert_caught("CONC-008", also={"CONC-014"})

    @pytest.mark.catches("CONC-009")
    def test_descriptor_per_call_is_caught(self, run_conformance: RunConformance) -> None:
        """A file descriptor kept open by every call fails CONC-009."""
        _run(run_conformance, "LeaksFileDescriptorPerCall").assert_caught("CONC-009")

    @pytest.mark.catches("CONC-010")
    def test_unclosed_socket_is_caught(self, run_conformance: RunConformance) -> None:
        """A socket dropped unclosed by every call fails CONC-010.

        ResourceWarning is ignored for the run, as Python does by default, so only the test
        that records warnings on purpose sees it.
        """
        run = _run(run_conformance, "LeaksSocketPerCall", "-W", "ignore::ResourceWarning")
        run.assert_caught("CONC-010")

    @pytest.mark.catches("CONC-011")
    def test_unawaited_coroutine_is_caught(self, run_conformance: RunConformance) -> None:
        """A coroutine created and dropped by ainvoke fails CONC-011.

        RuntimeWarning is ignored for the run, so only the recording test sees it.
        """
        run = _run(run_conformance, "LeavesCoroutineUnawaited", "-W", "ignore::RuntimeWarning")
        run.assert_caught("CONC-011")

    @pytest.mark.catches("CONC-012")
    def test_non_reentrant_provider_factory_is_caught(
        self, run_conformance: RunConformance
    ) -> None:
        """A provider whose construction refuses to overlap with itself fails CONC-012."""
        _run(run_conformance, "NotReentrantProvider").assert_caught("CONC-012")

    @pytest.mark.catches("CONC-013")
    def test_racy_model_creation_is_caught(self, run_conformance: RunConformance) -> None:
        """A provider that hands one new model to two concurrent creators fails CONC-013."""
        _run(run_conformance, "RacyModelCreation").assert_caught("CONC-013")

    def test_reference_passes_the_concurrency_suite(self, run_conformance: RunConformance) -> None:
        """The bundled reference provider passes every concurrency requirement at default load."""
        run = run_conformance(None, *CONCURRENCY_ONLY)
        run.assert_all_pass()
        passed = {r for r, status in run.statuses.items() if status == "passed"}
        assert passed >= CONC_IDS, run.statuses
