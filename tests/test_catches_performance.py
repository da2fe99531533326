"""The performance suite fails slow or serialising providers, one requirement at a time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

SLOW_WRAPPER_CONFTEST = """
import pytest
from broken_performance import SlowInstrumentCapture

@pytest.fixture
def chatmodels_telemetry():
    capture = SlowInstrumentCapture()
    yield capture
    capture.shutdown()
"""


def _caught(requirement_id: str, provider: str, why: str):
    return pytest.param(requirement_id, provider, id=why, marks=pytest.mark.catches(requirement_id))


class TestCatchesPerformance:
    @pytest.mark.parametrize(
        ("requirement_id", "provider"),
        [
            _caught("PERF-001", "SlowResolution", "3ms-provider-construction"),
            _caught("PERF-002", "SlowCreation", "20ms-create_chat_model"),
            _caught("PERF-003", "StallingCalls", "every-8th-call-stalls-100ms"),
            _caught("PERF-004", "SlowFirstChunk", "first-chunk-25ms-late"),
        ],
    )
    def test_slow_provider_is_caught(self, run_conformance, requirement_id, provider):
        """Each deliberately slow provider fails exactly the requirement it breaks."""
        run = run_conformance(
            f"broken_performance:{provider}", "--chatmodels-requirements", requirement_id
        )
        run.assert_caught(requirement_id)

    @pytest.mark.catches("PERF-005")
    def test_serialising_provider_is_caught(self, run_conformance):
        """A global lock around 5 ms calls is flagged for threads and asyncio alike."""
        run = run_conformance(
            "broken_performance:SerialisesCallers", "--chatmodels-requirements", "PERF-005"
        )
        run.assert_caught("PERF-005")
        failed = [m for m in run.messages["PERF-005"] if "appear serialised" in m]
        assert any("threads:" in m for m in failed), run.messages["PERF-005"]
        assert any("asyncio:" in m for m in failed), run.messages["PERF-005"]

    @pytest.mark.catches("PERF-005")
    def test_loop_blocking_async_path_is_caught(self, run_conformance):
        """An ainvoke that sleeps on the event loop fails PERF-005 through the asyncio test."""
        run = run_conformance(
            "broken_performance:BlocksTheLoop", "--chatmodels-requirements", "PERF-005"
        )
        run.assert_caught("PERF-005")
        assert all("asyncio:" in m for m in run.messages["PERF-005"]), run.messages

    @pytest.mark.catches("PERF-006")
    @pytest.mark.catches("PERF-007")
    def test_slow_wrapper_fails_every_time(self, pytester):
        """A wrapper busy-waiting 200 us per call fails PERF-006 and PERF-007 in 5 of 5 runs.

        The calls take 5 ms here, a fast local model: 200 us is 4% of that on its own. The
        runs are subprocesses, as users run the suite: in-process runs on Python 3.12+ time
        the bare OTel path several times slower and blur PERF-007's side-by-side ratio.
        """
        pytester.makeconftest(SLOW_WRAPPER_CONFTEST)
        shutil.copy(Path(__file__).with_name("broken_performance.py"), pytester.path)
        verdicts = []
        for _ in range(5):
            statuses, _figures = run_cli(
                pytester,
                "--chatmodels-requirements",
                "PERF-006,PERF-007",
                "--chatmodels-option",
                "latency=0.005",
            )
            verdicts.append((statuses.get("PERF-006"), statuses.get("PERF-007")))
        assert verdicts == [("failed", "failed")] * 5, verdicts


def run_cli(pytester, *args: str) -> tuple[dict[str, str], dict[str, dict[str, float]]]:
    """Run the suite as a user would (a subprocess); return statuses and figures by requirement.

    In-process runs (run_conformance) time PERF-006/007 several times slower than the CLI, so
    verdicts that must pass are checked the way users get them.
    """
    report_dir = pytester.path / "cli-report"
    pytester.runpytest_subprocess(
        "--chatmodels-conformance",
        "-p",
        "no:cacheprovider",
        "--chatmodels-report",
        str(report_dir),
        *args,
    )
    report = json.loads((report_dir / "chatmodels-conformance.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["requirements"] if r["tests"]}
    figures = {
        r["id"]: {f["name"]: f["value"] for f in r["figures"] or ()} for r in report["requirements"]
    }
    return statuses, figures


class TestPerformanceHonesty:
    def test_reference_passes_where_the_instrumentation_fits_the_budget(self, pytester):
        """At 20 ms per call (the SDK's ~0.3 ms is 1.5%) the reference passes every PERF check."""
        statuses, figures = run_cli(
            pytester, "--chatmodels-suite", "performance", "--chatmodels-option", "latency=0.02"
        )
        assert {f"PERF-00{n}" for n in range(1, 8)} <= set(statuses), statuses
        assert set(statuses.values()) == {"passed"}, statuses
        assert figures["PERF-006"]["otel overhead (median B/A - 1)"] < 5.0

    def test_reference_at_default_latency_passes_all_but_the_overhead_budget(self, pytester):
        """At 5 ms per call every check but PERF-006 passes, and PERF-006 records its figures.

        On this shared 2-core machine a cold span + 3 histogram records costs ~0.3 ms, about 5%
        of a 5 ms call, so PERF-006 is honestly fail or inconclusive here (see the report).
        """
        statuses, figures = run_cli(pytester, "--chatmodels-suite", "performance")
        others = {r: s for r, s in statuses.items() if r != "PERF-006"}
        assert set(others.values()) == {"passed"}, statuses
        assert "otel overhead CI high" in figures["PERF-006"], figures["PERF-006"]

    def test_one_millisecond_calls_do_not_pass_the_overhead_budget(self, pytester):
        """At 1 ms per call the SDK's fixed cost per span exceeds 5%: never reported as a pass."""
        statuses, _ = run_cli(
            pytester,
            "--chatmodels-requirements",
            "PERF-006",
            "--chatmodels-option",
            "latency=0.001",
        )
        assert statuses["PERF-006"] in ("failed", "inconclusive"), statuses
