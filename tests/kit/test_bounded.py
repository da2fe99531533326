"""Bounded calls: a hung or BaseException-raising provider gets a verdict and the run goes on.

The module's own behaviour is checked in-process; the hostile providers of broken_bounds.py
run the suites in a subprocess with ``call_timeout=1``, so a broken bound fails the test at
``BOUND`` seconds (pytester's subprocess timeout) instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.suites import _bounded
from chatmodels.providers.reference import ReferenceProvider

#: Seconds any one subprocess run below may take: startup, the selected tests with
#: ``call_timeout=1`` each, teardown closes (bounded too) and the report, on a busy machine.
BOUND = 150.0
REPORT = "report"
_DURATION = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown) ")


class TestBoundedCall:
    def test_value_and_exception_come_back(self) -> None:
        """A finished call gives its value, or its exception back from get()."""
        assert _bounded.bounded(lambda: 42, "answer()").get() == 42
        outcome = _bounded.bounded(lambda: 1 / 0, "divide()")
        assert isinstance(outcome.error, ZeroDivisionError)
        with pytest.raises(ZeroDivisionError):
            outcome.get()

    def test_a_hung_call_is_abandoned_and_named(self) -> None:
        """A call past its limit times out, naming the call, its thread and where it is stuck."""
        never = threading.Event()
        start = time.monotonic()
        outcome = _bounded.bounded(never.wait, "wait()", 0.2)
        assert time.monotonic() - start < 2.0
        assert outcome.timed_out
        message = outcome.hang_message()
        assert message.startswith("wait() did not return within 0.2 s"), message
        assert outcome.thread in _bounded.abandoned_threads()
        never.set()

    def test_a_blocked_event_loop_is_stopped(self) -> None:
        """A coroutine that blocks its own loop is abandoned at the limit."""

        async def blocks() -> None:
            time.sleep(3)

        start = time.monotonic()
        outcome = _bounded.abounded(blocks, "ainvoke()", 0.2)
        assert time.monotonic() - start < 2.0
        assert outcome.timed_out
        assert "stuck at test_bounded.py" in outcome.hang_message()

    @pytest.mark.parametrize("raised", [KeyboardInterrupt(), SystemExit(3), GeneratorExit()])
    def test_a_base_exception_becomes_a_plain_failure(self, raised: BaseException) -> None:
        """KeyboardInterrupt, SystemExit and the like fail the call, naming what was raised."""

        def call() -> None:
            raise raised

        with pytest.raises(AssertionError, match=type(raised).__name__) as caught:
            _bounded.call_within(call, "invoke()")
        assert "a BaseException that is not an Exception" in str(caught.value)
        assert caught.value.__cause__ is raised

    def test_pytest_outcomes_pass_through(self) -> None:
        """A skip raised inside a bounded call stays a skip."""
        with pytest.raises(pytest.skip.Exception):
            _bounded.call_within(lambda: pytest.skip("not here"), "skip()")

    def test_limits_are_cut_to_the_tests_deadline(self) -> None:
        """No call outlives the deadline of the test that makes it."""
        token = _bounded.use_bounds(30.0, time.monotonic() + 0.2)
        try:
            outcome = _bounded.bounded(threading.Event().wait, "wait()")
        finally:
            _bounded.reset_bounds(token)
        assert outcome.timed_out
        assert outcome.limit <= 0.2

    def test_a_load_of_200_tasks_takes_one_watchdog_thread(self) -> None:
        """200 concurrent ainvoke calls run as one bounded load, not one thread per call."""
        model = ReferenceProvider({"latency": 0.01}).create_chat_model()
        seen: set[int] = set()

        async def load() -> list[Any]:
            seen.add(threading.get_ident())
            return list(await asyncio.gather(*(model.ainvoke(f"q {i}") for i in range(200))))

        try:
            before = len(_bounded.abandoned_threads())
            results = _bounded.run_async(load, "200 concurrent ainvoke() calls", 30.0)
        finally:
            model.close()
        assert len(results) == 200
        assert len(seen) == 1
        assert seen != {threading.get_ident()}
        assert len(_bounded.abandoned_threads()) == before


def _run(pytester: pytest.Pytester, provider: str, *args: str) -> tuple[float, dict[str, Any]]:
    took, report, _ = _timed_run(pytester, provider, *args)
    return took, report


def _timed_run(
    pytester: pytest.Pytester, provider: str, *args: str
) -> tuple[float, dict[str, Any], float]:
    """Run the suites against broken_bounds.<provider> in a subprocess; give wall time, report.

    The slowest test's own duration is printed too (collection alone takes seconds on a busy
    machine, so the wall time says little about the bounds).
    """
    for name in ("broken_bounds.py", "scaffold.py"):  # broken_bounds builds on the scaffold
        shutil.copy(Path(__file__).parents[1] / "catches" / name, pytester.path)
    pytester.makeconftest(
        f"""
        import pytest
        from broken_bounds import {provider}

        @pytest.fixture(scope="session")
        def chatmodels_provider():
            return {provider}
        """
    )
    start = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--chatmodels-conformance",
        "-p",
        "no:cacheprovider",
        "--durations=1",
        "--chatmodels-report",
        REPORT,
        "--chatmodels-setting",
        "call_timeout=1",
        *args,
        timeout=BOUND,
    )
    took = time.monotonic() - start
    line = next((line for line in result.outlines if _DURATION.match(line)), "")
    print(f"{provider} {' '.join(args)}: wall {took:.1f} s; slowest {line.strip()}")
    report = json.loads((pytester.path / REPORT / "chatmodels-conformance.json").read_text())
    match = _DURATION.match(line)
    return took, report, float(match.group(1)) if match else 0.0


def _status(report: dict[str, Any], requirement_id: str) -> tuple[str, str]:
    entry = next(r for r in report["requirements"] if r["id"] == requirement_id)
    return entry["status"], entry["message"]


def _ran(report: dict[str, Any]) -> list[str]:
    return [r["id"] for r in report["requirements"] if r["status"] != "not_run"]


@pytest.mark.slow
class TestHostileProviders:
    @pytest.mark.parametrize(
        ("provider", "requirement_id", "call", "selected"),
        [
            ("BlockedLoopProvider", "ASYNC-001", "ainvoke()", "ASYNC"),
            ("SyncHangProvider", "CORE-001", "invoke()", "CORE"),
            ("EndlessStreamProvider", "STREAM-001", "stream()", "STREAM"),
            ("HangingCloseProvider", "LIFE-001", "close()", "LIFE"),
        ],
    )
    def test_a_hang_fails_its_requirement_and_the_run_ends(
        self,
        pytester: pytest.Pytester,
        provider: str,
        requirement_id: str,
        call: str,
        selected: str,
    ) -> None:
        """The run ends by itself within BOUND, with a report failing the requirement served."""
        took, report = _run(pytester, provider, "--chatmodels-requirements", selected)
        status, message = _status(report, requirement_id)
        assert status == "failed", (status, message)
        assert f"{call} did not return within 1 s" in message, message
        assert took < BOUND

    def test_a_20s_blocking_ainvoke_fails_async_001_quickly(
        self, pytester: pytest.Pytester
    ) -> None:
        """With call_timeout=1, an ainvoke blocking its loop 20 s fails ASYNC-001 within seconds."""
        _, report, slowest = _timed_run(
            pytester, "SlowAinvokeProvider", "--chatmodels-requirements", "ASYNC-001"
        )
        status, message = _status(report, "ASYNC-001")
        assert status == "failed", (status, message)
        assert "ainvoke() did not return within 1 s" in message
        assert 0 < slowest < 10.0, f"ASYNC-001 took {slowest:.1f} s; the 1 s limit did not cut it"

    @pytest.mark.parametrize(
        ("provider", "requirement_id", "raised"),
        [
            ("InterruptingInvokeProvider", "CORE-001", "KeyboardInterrupt"),
            ("ExitingInvokeProvider", "CORE-001", "SystemExit"),
            ("PanickingAinvokeProvider", "ASYNC-001", "ProviderPanic"),
        ],
    )
    def test_a_base_exception_fails_its_requirement_and_the_run_goes_on(
        self, pytester: pytest.Pytester, provider: str, requirement_id: str, raised: str
    ) -> None:
        """The requirement fails naming the BaseException; every selected test still ran."""
        _, report = _run(pytester, provider, "--chatmodels-requirements", "CORE,ASYNC,STREAM")
        status, message = _status(report, requirement_id)
        assert status == "failed", (status, message)
        assert raised in message, message
        selected = [r for r in report["requirements"] if r["area"] in ("CORE", "ASYNC", "STREAM")]
        assert [r["id"] for r in selected if r["status"] == "not_run"] == []


@pytest.mark.slow
def test_the_run_budget_stops_the_run_with_its_report(pytester: pytest.Pytester) -> None:
    """Past run_budget no test starts; the report exists, partial, with the tests that ran."""
    took, report = _run(pytester, "SyncHangProvider", "--chatmodels-setting", "run_budget=4")
    stops = [(s["kind"], s["detail"]) for s in report["run"]["incomplete"]]
    assert ("stopped", "run budget of 4 s exceeded") in stops, stops
    assert 0 < len(_ran(report)) < len(report["requirements"])
    assert took < BOUND


@pytest.mark.slow
def test_a_keyboard_interrupt_from_invoke_leaves_a_complete_report(
    pytester: pytest.Pytester,
) -> None:
    """A whole run against a provider whose invoke raises KeyboardInterrupt is not stopped."""
    _, report = _run(pytester, "InterruptingInvokeProvider")
    assert report["run"]["partial"] is False
    assert report["run"]["incomplete"] == []
    assert [r["id"] for r in report["requirements"] if r["status"] == "not_run"] == []
    status, message = _status(report, "CORE-001")
    assert status == "failed", (status, message)
    assert "KeyboardInterrupt" in message
