"""Triage: the preflight, requirements blocked by a failed call style, close failures on
LIFE-001 only, and waivers that cover inconclusive results and map to pytest's xfail."""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.cli import main as cli_main
from chatmodels.conformance.faults import FaultServer
from chatmodels.conformance.report import VERDICT_NOT_RUN

CATCHES = Path(__file__).parents[1] / "catches"

PREFLIGHT = "preflight failed, the suites did not run"


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _report(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (pytester.path / "reports" / "chatmodels-conformance.json").read_text()
    )
    return data


def _use_provider(pytester: pytest.Pytester, factory: str) -> None:
    pytester.syspathinsert(CATCHES)
    pytester.makeconftest(
        f"""
        import pytest
        from broken_triage import {factory}

        @pytest.fixture(scope="session")
        def chatmodels_provider():
            return {factory}
        """
    )


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--chatmodels-conformance", "-p", "no:cacheprovider", *args)


def _gate(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(["gate", str(path), *extra])
    return code, capsys.readouterr().out


def _assert_stopped_by_preflight(
    pytester: pytest.Pytester,
    result: pytest.RunResult,
    capsys: pytest.CaptureFixture[str],
    *needles: str,
    before_collection: bool = True,
) -> None:
    __tracebackhide__ = True
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, text
    assert text.count(PREFLIGHT) == 1, text
    stop = next(line for line in result.outlines if PREFLIGHT in line)
    for needle in needles:
        assert needle in stop, stop
    assert "FAILED" not in text
    assert "ERROR" not in text
    report = _report(pytester)
    assert report["verdict"] == VERDICT_NOT_RUN
    assert {r["status"] for r in report["requirements"]} == {"not_run"}
    if before_collection:  # no suite module was even collected
        assert "collected" not in result.stdout.str()
    code, out = _gate(pytester.path / "reports" / "chatmodels-conformance.json", capsys)
    assert code == 1
    assert "the suites did not run: preflight failed: " in out
    for needle in needles:
        assert needle in out


class TestPreflight:
    def test_unreachable_server_stops_the_run_with_one_message(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A dead port ends the run at the preflight: one message naming the base URL fix."""
        url = f"http://127.0.0.1:{_dead_port()}/v1"
        result = _run(
            pytester,
            "--chatmodels-provider",
            "openai",
            "--chatmodels-option",
            f"base_url={url}",
            "--chatmodels-model",
            "any-model",
        )
        _assert_stopped_by_preflight(pytester, result, capsys, "code='network'", url, "base URL")

    def test_wrong_model_name_stops_the_run_with_one_message(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A model the server does not serve ends the run at the preflight, naming the model."""
        with FaultServer() as server:
            result = _run(
                pytester,
                "--chatmodels-provider",
                "openai",
                "--chatmodels-option",
                f"base_url={server.url}",
                "--chatmodels-model",
                "no-such-model",
            )
        _assert_stopped_by_preflight(
            pytester, result, capsys, "code='model_not_found'", "--chatmodels-model"
        )

    def test_fixture_provider_whose_every_call_fails_is_stopped(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A provider from the fixture is checked when first resolved; all calls failing stops."""
        _use_provider(pytester, "EveryCallFails")
        result = _run(pytester)
        _assert_stopped_by_preflight(
            pytester, result, capsys, "code='server_error'", before_collection=False
        )

    def test_collect_only_does_not_call_the_provider(self, pytester: pytest.Pytester) -> None:
        """--collect-only never runs the preflight, even against a dead port."""
        result = _run(
            pytester,
            "--collect-only",
            "--chatmodels-provider",
            "openai",
            "--chatmodels-option",
            f"base_url=http://127.0.0.1:{_dead_port()}/v1",
            "--chatmodels-model",
            "any-model",
        )
        assert result.ret == 0
        assert PREFLIGHT not in result.stdout.str() + result.stderr.str()

    def test_a_provider_that_answers_passes_the_preflight(self, pytester: pytest.Pytester) -> None:
        """A broken stream alone does not stop the run: invoke answered."""
        _use_provider(pytester, "StreamAlwaysFails")
        result = _run(pytester, "--chatmodels-requirements", "CORE-001")
        assert PREFLIGHT not in result.stdout.str()
        result.assert_outcomes(passed=1)

    @pytest.mark.slow
    def test_under_xdist_the_run_stops_in_under_ten_seconds(
        self, pytester: pytest.Pytester
    ) -> None:
        """With workers, the controller checks once and starts none; the process ends fast."""
        url = f"http://127.0.0.1:{_dead_port()}/v1"
        args = ["-n", "2", "--chatmodels-provider", "openai", "--chatmodels-model", "m"]
        args += ["--chatmodels-option", f"base_url={url}"]
        start = time.monotonic()
        result = pytester.runpytest_subprocess("--chatmodels-conformance", *args)
        elapsed = time.monotonic() - start
        assert result.ret == 1
        assert (result.stdout.str() + result.stderr.str()).count(PREFLIGHT) == 1
        assert "gw0" not in result.stdout.str()
        assert elapsed < 10, f"{elapsed:.1f}s (python {sys.version_info[:2]})"


class TestBlocked:
    def test_failing_stream_blocks_its_dependents_instead_of_failing_them(
        self, pytester: pytest.Pytester
    ) -> None:
        """A stream that always raises fails STREAM-xxx; stream-based OTEL/CONC/PERF are blocked."""
        _use_provider(pytester, "StreamAlwaysFails")
        result = _run(
            pytester,
            "--chatmodels-requirements",
            "CORE,STREAM,OTEL-001,OTEL-006,OTEL-013,CONC-005,PERF-004",
        )
        statuses = {r["id"]: r for r in _report(pytester)["requirements"]}
        assert statuses["STREAM-002"]["status"] == "failed"
        assert statuses["STREAM-001"]["status"] == "failed"
        for rid in ("OTEL-001", "OTEL-006", "OTEL-013", "CONC-005", "PERF-004"):
            assert (statuses[rid]["status"], statuses[rid]["blocked_by"]) == (
                "blocked",
                "STREAM-002",
            ), statuses[rid]
        assert statuses["CORE-001"]["status"] == "passed"
        summary = result.stdout.str()
        root = summary.index("STREAM-002 (MUST) failed (root cause: blocks 5)")
        assert root < summary.index("STREAM-001 (MUST) failed")
        assert root < summary.index("OTEL-006 (MUST) blocked by STREAM-002")


class TestTeardown:
    def test_second_close_raising_fails_life_001_only(self, pytester: pytest.Pytester) -> None:
        """A raising second close is LIFE-001's failure, never an error on other requirements."""
        _use_provider(pytester, "SecondCloseRaises")
        result = _run(pytester, "--chatmodels-requirements", "LIFE,ERR,CONC-006,CONC-007,CONC-013")
        report = _report(pytester)
        bad = {r["id"]: r["status"] for r in report["requirements"] if r["status"] != "not_run"}
        bad = {rid: status for rid, status in bad.items() if status not in ("passed", "skipped")}
        assert bad == {"LIFE-001": "failed"}, bad
        assert "ERROR" not in result.stdout.str()
        assert report["failing_ids"] == ["LIFE-001"]


class TestWaivers:
    def _waive(self, pytester: pytest.Pytester, requirements: dict[str, str]) -> str:
        lines = ["[waivers]", *(f'"{rid}" = "{why}"' for rid, why in requirements.items())]
        path = pytester.path / "expectations.toml"
        path.write_text("\n".join(lines) + "\n")
        return str(path)

    def test_waived_inconclusive_is_xfail_and_passes_pytest_and_the_gate(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A waived inconclusive (and waived failure) is xfail: pytest exits 0, the gate passes."""
        pytester.syspathinsert(CATCHES)
        pytester.makeconftest(
            """
            import pytest
            from broken_contract_features import HangingHealthCheck

            @pytest.fixture(scope="session")
            def chatmodels_provider():
                return HangingHealthCheck
            """
        )
        waivers = self._waive(pytester, {"HEALTH-001": "hangs, #7", "HEALTH-002": "hangs, #7"})
        result = _run(
            pytester,
            "--chatmodels-requirements",
            "HEALTH-001,HEALTH-002",
            "--chatmodels-expectations",
            waivers,
            "-rxX",
        )
        report = _report(pytester)
        statuses = {
            r["id"]: r["status"] for r in report["requirements"] if r["status"] != "not_run"
        }
        assert statuses == {"HEALTH-001": "waived", "HEALTH-002": "waived"}, result.stdout.str()
        assert result.ret == 0, result.stdout.str()
        outcomes = result.parseoutcomes()
        assert outcomes.get("xfailed", 0) >= 2, outcomes
        assert "inconclusive" in result.stdout.str()
        report_path = pytester.path / "reports" / "chatmodels-conformance.json"
        code, out = _gate(report_path, capsys, "--allow-partial")  # one area was selected
        assert code == 0, out

    def test_a_waived_requirement_with_one_test_still_failing_stays_waived(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A waiver covers the requirement: one of its tests passing while another fails is
        not an unexpected pass, so pytest exits 0 and the gate passes."""
        pytester.syspathinsert(CATCHES)
        pytester.makeconftest(
            """
            import pytest
            from broken_performance import StallingCalls

            @pytest.fixture(scope="session")
            def chatmodels_provider():
                return StallingCalls
            """
        )
        waivers = self._waive(pytester, {"PERF-003": "every 8th call stalls, #21"})
        result = _run(
            pytester, "--chatmodels-requirements", "PERF-003", "--chatmodels-expectations", waivers
        )
        outcomes = result.parseoutcomes()
        assert outcomes.get("xpassed") == 1, outcomes
        assert outcomes.get("xfailed") == 1, outcomes
        assert result.ret == 0, result.stdout.str()
        report = _report(pytester)
        assert report["unexpected_passes"] == []
        assert [r["status"] for r in report["requirements"] if r["id"] == "PERF-003"] == ["waived"]
        code, out = _gate(
            pytester.path / "reports" / "chatmodels-conformance.json", capsys, "--allow-partial"
        )
        assert code == 0, out

    def test_waived_pass_fails_pytest_and_the_gate(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A waived requirement that passes is XPASS, an unexpected pass, and fails the run."""
        waivers = self._waive(pytester, {"CORE-003": "was broken, #9"})
        result = _run(
            pytester, "--chatmodels-requirements", "CORE-003", "--chatmodels-expectations", waivers
        )
        assert result.ret == 1
        assert result.parseoutcomes().get("xpassed", 0) >= 1, result.stdout.str()
        report = _report(pytester)
        assert report["unexpected_passes"] == ["CORE-003"]
        code, out = _gate(pytester.path / "reports" / "chatmodels-conformance.json", capsys)
        assert code == 1
        assert "CORE-003 (MUST) passed unexpectedly" in out
