"""The HTML report in a real browser: it loads without console errors and shows the verdict."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import report_samples as rs
from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report import build_report, write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless check needs Chromium on PATH (Debian: apt-get install chromium)",
    ),
]

INJECTED = '<script>console.error("INJECTED")</script>'


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=2000",  # let layout settle so the capture has no unpainted tiles
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report with failures, a waiver, figures and hostile provider strings, written as HTML."""
    statuses = {
        **rs.ALL_PASS,
        "STREAM-001": "failed",
        "STREAM-002": "error",
        "OTEL-001": "unsupported",
        "CONC-002": "skipped",
        "CONC-001": "failed",
    }
    outs = rs.outcomes(
        statuses,
        STREAM_001="AssertionError: expected one final chunk, got 2\n  chunk[3] = StreamChunk(...)",
        STREAM_002=f"KeyError: 'usage' {INJECTED}",
        OTEL_001="provider does not declare 'telemetry'",
    )
    figures = (
        Figure("otel_overhead", 3.1, "%", 5.0, detail="p50 over 200 calls"),
        Figure("throughput", 812.0, "req/s", 500.0, higher_is_better=True),
        Figure("latency_p99", 41.7, "ms", 25.0),
    )
    outs.append(TestOutcome("suites/test_perf.py::test_it", "PERF-001", "passed", 0.2, "", figures))
    run = rs.run_info(provider_name=f"acme {INJECTED}", options={"api_key": rs.SECRET})
    report = build_report(rs.catalogue(), outs, run, {"CONC-001": "known bug #12"})
    return write_reports(report, tmp_path_factory.mktemp("html"))["html"]


class TestHtmlInChromium:
    def test_loads_without_console_errors(self, page: Path, tmp_path: Path) -> None:
        """The page logs nothing (no error, no blocked script) and shows the verdict."""
        result = _chromium(
            tmp_path, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()
        )
        assert result.returncode == 0, result.stderr[-2000:]
        console = [
            line for line in result.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line
        ]
        assert console == []
        assert '<h1 id="verdict">not conformant</h1>' in result.stdout
        assert "INJECTED" in result.stdout  # present as text...
        assert "<script" not in result.stdout  # ...never as an element

    def test_screenshot(self, page: Path, tmp_path: Path) -> None:
        """A full-page screenshot is produced and is not a blank image."""
        shot = tmp_path / "report.png"
        result = _chromium(
            tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()
        )
        assert result.returncode == 0, result.stderr[-2000:]
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 50_000  # a blank 1280x2000 page compresses to a few kilobytes
