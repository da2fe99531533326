"""The OTel-overhead verdict does not flip between back-to-back runs of the performance suite."""

from __future__ import annotations

import time

import pytest

from test_catches_performance import copy_broken_performance, provider_conftest, run_cli

RUNS = 10


@pytest.mark.slow
class TestPerformanceRepeat:
    @pytest.mark.parametrize(
        ("latency", "expected"),
        [("0.02", "passed"), ("0.001", "failed")],
        ids=["default-20ms-passes", "1ms-fails-honestly"],
    )
    def test_overhead_verdict_is_identical_over_ten_runs(self, pytester, latency, expected, capsys):
        """Ten runs of the performance suite give ten identical, expected PERF-006 verdicts."""
        pytester.makeconftest(provider_conftest("InstrumentsItself"))
        copy_broken_performance(pytester.path)
        rows = []
        for _index in range(RUNS):
            started = time.perf_counter()
            statuses, by_requirement = run_cli(
                pytester,
                "--chatmodels-suite",
                "performance",
                "--chatmodels-option",
                f"latency={latency}",
            )
            figures = by_requirement["PERF-006"]
            rows.append(
                (
                    statuses.get("PERF-006"),
                    figures.get("otel overhead (median B/A - 1)"),
                    figures.get("otel overhead CI low"),
                    figures.get("otel overhead CI high"),
                    figures.get("otel time added per call"),
                    time.perf_counter() - started,
                )
            )
        with capsys.disabled():
            print(f"\nlatency={latency}: verdict, median %, 95% CI %, us added, suite seconds")
            for verdict, median, low, high, added, took in rows:
                print(
                    f"  {verdict:12s} {median:6.2f}%  [{low:6.2f}%, {high:6.2f}%]  "
                    f"+{added:5.0f} us  {took:5.1f}s"
                )
        assert {row[0] for row in rows} == {expected}, rows
