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
from scaffold import Case, declared, params

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


def _run(run_conformance: RunConformance, target: str, *extra: str) -> Any:
    settings = [arg for value in _SMALL for arg in ("--chatmodels-setting", value)]
    return run_conformance(
        target,
        *CONCURRENCY_ONLY,
        *settings,
        *extra,
    )


#: Every broken provider broken_concurrency declares, each run by ``_run`` at a small load.
CASES = declared(broken_concurrency)


class TestCatchesConcurrency:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance: RunConformance, case: Case) -> None:
        """The broken provider fails its requirement (and the documented others) under load."""
        case.check(_run(run_conformance, case.target, *case.args))

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
    def test_cancellation_turned_into_an_error_is_caught(
        self, run_conformance: RunConformance
    ) -> None:
        """Streams that answer cancellation with ChatCancelledError fail CONC-005, quoting it."""
        run = _run(run_conformance, "broken_concurrency:TurnsCancellationIntoError")
        run.assert_caught("CONC-005")
        assert any("ChatCancelledError" in m for m in run.messages["CONC-005"])

    @pytest.mark.catches("CONC-006")
    def test_calls_stranded_by_close_are_caught(self, run_conformance: RunConformance) -> None:
        """Calls left hanging by close() fail CONC-006 with a hung verdict instead of a hung run."""
        run = _run(
            run_conformance,
            "broken_concurrency:HangsInFlightCallsOnClose",
            *("--chatmodels-setting", "conc_timeout=1.5"),  # each stranded close waits this long
        )
        run.assert_caught("CONC-006")
        assert any("hung" in m for m in run.messages["CONC-006"]), run.messages["CONC-006"]

    def test_reference_passes_the_concurrency_suite(self, run_conformance: RunConformance) -> None:
        """The bundled reference provider passes every concurrency requirement at default load."""
        run = run_conformance(None, *CONCURRENCY_ONLY)
        run.assert_all_pass()
        passed = {r for r, status in run.statuses.items() if status == "passed"}
        assert passed >= CONC_IDS, run.statuses
