"""A report survives what a CI job does to a run: signals, crashed workers, hard exits, --lf.

Each run here is a real pytest subprocess; the gate is then asked about what it left behind.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.cli import main as cli_main
from provider_fakes import NO_MODEL_NAME_CONFTEST

REPORT = Path("reports") / "chatmodels-conformance.json"
JOURNAL = Path("reports") / "chatmodels-conformance.journal.jsonl"
QUIET = ("-p", "no:cacheprovider", "-q", "-p", "no:randomly")

#: A provider whose first model call (in whatever process makes it) ends that process at once.
HARD_EXIT_PROVIDER = """
import os
from pathlib import Path

import pytest
from chatmodels.providers.reference import ReferenceChatModel, ReferenceProvider

MARK = Path(__file__).with_name("exited-once")


class ExitingModel(ReferenceChatModel):
    def _answer(self, messages, options):
        try:
            os.close(os.open(MARK, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super()._answer(messages, options)
        os._exit(3)


class ExitingProvider(ReferenceProvider):
    chat_model_class = ExitingModel


@pytest.fixture(scope="session")
def chatmodels_provider():
    return ExitingProvider
"""


def _pytest(cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", "--chatmodels-conformance", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finished_tests(cwd: Path) -> int:
    path = cwd / JOURNAL
    if not path.is_file():
        return 0
    lines = path.read_text().splitlines()
    return sum('"phase": "teardown"' in line for line in lines)


def _gate(cwd: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli_main(["gate", str(cwd / REPORT), "--level", "must", *extra])
    return code, capsys.readouterr().out


def _report(cwd: Path) -> dict[str, Any]:
    return dict(json.loads((cwd / REPORT).read_text()))


class TestSignals:
    @pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
    def test_killed_run_writes_an_interrupted_report_the_gate_refuses(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], signum: signal.Signals
    ) -> None:
        """A signal mid-run (CI's timeout, Ctrl-C) still writes the report, marked interrupted."""
        run = _pytest(
            tmp_path, "--chatmodels-suite", "contract", "--chatmodels-option", "latency=0.3", *QUIET
        )
        try:
            deadline = time.monotonic() + 240
            while _finished_tests(tmp_path) < 2 and time.monotonic() < deadline:
                assert run.poll() is None, run.communicate()[0]
                time.sleep(0.2)
            assert _finished_tests(tmp_path) >= 2, "the run never got going"
            run.send_signal(signum)
            output, _ = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
        assert run.returncode == pytest.ExitCode.INTERRUPTED, output
        report = _report(tmp_path)
        stops = {(s["kind"], s["detail"]) for s in report["run"]["incomplete"]}
        assert ("interrupted", f"{signum.name} received") in stops
        assert report["run"]["partial"] is True
        assert report["verdict"] in ("partial", "not conformant")
        assert any(r["status"] == "passed" for r in report["requirements"])
        code, out = _gate(tmp_path, capsys)
        assert code == 1
        assert f"FAIL: the run was interrupted ({signum.name} received)" in out
        assert _gate(tmp_path, capsys, "--allow-partial")[0] == 1

    def test_handlers_are_installed_only_during_a_run(self, pytester: pytest.Pytester) -> None:
        """After an in-process run, SIGTERM and SIGINT handlers are what they were before."""
        before = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
        result = pytester.runpytest_inprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE-001", *QUIET
        )
        assert result.ret == 0
        assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


class TestCrashes:
    def test_worker_hard_exit_under_xdist_is_an_error_and_a_crashed_run(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A provider that os._exit()s a worker: that test is an error, the run is crashed."""
        pytester.makeconftest(HARD_EXIT_PROVIDER)
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "-n", "2", "--chatmodels-requirements", "CORE", *QUIET
        )
        assert (pytester.path / "exited-once").is_file()
        assert result.ret in (pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.INTERRUPTED)
        report = _report(pytester.path)
        crashed = [r for r in report["requirements"] if "worker crashed" in r["message"]]
        assert len(crashed) == 1, report["failing_ids"]
        assert crashed[0]["status"] == "error"
        kinds = [s["kind"] for s in report["run"]["incomplete"]]
        assert "crashed" in kinds
        assert report["verdict"] == "not conformant"
        code, out = _gate(pytester.path, capsys, "--allow-partial")
        assert code == 1
        assert "FAIL: the run crashed (worker gw" in out
        assert f"FAIL: {crashed[0]['id']} (MUST) error: worker crashed" in out

    def test_serial_hard_exit_leaves_a_journal_the_gate_judges(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A process that dies before its report leaves a journal: gate and --recover read it."""
        pytester.makeconftest(HARD_EXIT_PROVIDER)
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE", *QUIET
        )
        assert result.ret == 3
        assert not (pytester.path / REPORT).exists()
        assert (pytester.path / JOURNAL).is_file()
        code, out = _gate(pytester.path, capsys)
        assert code == 1
        assert "judging its journal" in out
        assert "FAIL: the run crashed (the run ended without finishing its report)" in out
        assert "error: the run crashed while this test was running" in out
        capsys.readouterr()
        assert cli_main(["report", "--recover", str(pytester.path / REPORT)]) == 0
        report = _report(pytester.path)
        assert report["verdict"] == "not conformant"
        assert [s["kind"] for s in report["run"]["incomplete"]] == ["filtered", "crashed"]
        assert (pytester.path / "reports" / "badge.json").is_file()


class TestNothingChecked:
    def test_collect_only_leaves_the_previous_report_untouched(
        self, pytester: pytest.Pytester
    ) -> None:
        """`--collect-only` writes no report and keeps the last run's report and journal."""
        first = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE-001", *QUIET
        )
        assert first.ret == 0, first.stdout.str()
        folder = pytester.path / "reports"
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        again = pytester.runpytest_subprocess("--chatmodels-conformance", "--collect-only", *QUIET)
        assert again.ret == 0, again.stdout.str()
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

    def test_usage_error_provider_never_gives_a_passing_report(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A provider fixture returning 42 ends in a usage error and a report the gate refuses."""
        pytester.makeconftest(
            "import pytest\n\n@pytest.fixture(scope='session')\n"
            "def chatmodels_provider():\n    return 42\n"
        )
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE", *QUIET
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        report = _report(pytester.path)
        assert report["verdict"] == "not conformant"
        code, out = _gate(pytester.path, capsys, "--allow-partial")
        assert code == 1
        assert "FAIL: the report checked nothing: no requirement was run" in out
        assert "FAIL: the run was interrupted (the run stopped on a usage error)" in out


class TestFiltered:
    def test_last_failed_rerun_is_filtered_and_refused(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """After a failure, an --lf run checks only that test: partial, and the gate says --lf."""
        pytester.makeconftest(NO_MODEL_NAME_CONFTEST)
        common = ("--chatmodels-conformance", "--chatmodels-requirements", "CORE", "-q")
        first = pytester.runpytest_subprocess(*common, "-p", "no:randomly")
        assert first.ret == pytest.ExitCode.TESTS_FAILED
        rerun = pytester.runpytest_subprocess(*common, "--lf", "-p", "no:randomly")
        assert rerun.ret == pytest.ExitCode.TESTS_FAILED
        report = _report(pytester.path)
        assert report["verdict"] == "not conformant"
        assert {"kind": "filtered", "detail": "--lf (only the tests that failed last time)"} in (
            report["run"]["incomplete"]
        )
        code, out = _gate(pytester.path, capsys)
        assert code == 1
        assert "FAIL: the run was filtered (--lf (only the tests that failed last time))" in out

    def test_one_suite_alone_is_partial(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A run of one suite says 'partial' in the terminal, the JSON and the badge."""
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-suite", "contract",
            "--chatmodels-requirements", "CORE,STREAM", *QUIET,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(["verdict: partial", "*filtered: --chatmodels-suite contract"])
        assert _report(pytester.path)["verdict"] == "partial"
        badge = json.loads((pytester.path / "reports" / "badge.json").read_text())
        assert badge["message"] == "partial"
        code, out = _gate(pytester.path, capsys)
        assert code == 1
        assert "--chatmodels-suite contract" in out
        code, out = _gate(pytester.path, capsys, "--allow-partial")
        assert (code, out.split(" (")[0]) == (0, "PASS: partial")


def test_journal_lines_are_complete_and_scrubbed_as_written(tmp_path: Path) -> None:
    """Every journal line is complete JSON as soon as it is written (a flush per result)."""
    from chatmodels.conformance.outcomes import TestOutcome
    from chatmodels.conformance.report import JournalWriter

    header = {"provider": {"options": {"api_key": "***"}}, "filters": []}
    writer = JournalWriter(tmp_path / "j.jsonl", header, secrets=["sk-secret-value"])
    writer.result(TestOutcome("t::a", "CORE-001", "failed", 0.1, "boom sk-secret-value"), "call")
    lines = (tmp_path / "j.jsonl").read_text().splitlines()  # read before any close
    assert [json.loads(line)["kind"] for line in lines] == ["header", "result"]
    assert "sk-secret-value" not in lines[1]
    writer.close()
