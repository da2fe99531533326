"""The HTML report in a real browser: no console errors, read top-down, at 1400 and 400 px.

Screenshots go to ``$CHATMODELS_SCREENSHOTS`` when set (else a temporary folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html import escape as html_escape
from pathlib import Path

import pytest

import report_samples as rs
from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report import Report, build_report, write_reports
from chatmodels.conformance.requirements import CATALOGUE

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


#: Lays the page out in a frame of the asked width (headless windows are at least 500 px
#: wide) and measures it from outside, so the page itself keeps its no-script policy.
_PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="page" width="{width}" height="3000" style="border:0" srcdoc="{page}"></iframe>
<script>
document.getElementById("page").addEventListener("load", (event) => {{
  const doc = event.target.contentDocument, win = event.target.contentWindow;
  const broken = [...doc.querySelectorAll(".ids a, table.causes td.id a, table.reqs td.id a")]
    .filter((a) => a.getClientRects().length !== 1).map((a) => a.textContent);
  const order = [...doc.querySelectorAll("section[aria-label]")]
    .map((s) => s.getAttribute("aria-label"));
  const overflow = doc.documentElement.scrollWidth - win.innerWidth;
  document.body.dataset.probe = JSON.stringify({{broken, order, overflow, width: win.innerWidth}});
}});
</script></body></html>
"""
_ROOT = "CORE-001"
_FAILED = ["STREAM-001", "STREAM-002", "BATCH-001", "MSG-003", "OPT-001", "OPT-002",
           "USAGE-001", "TOOLS-001", "JSON-001", "ERR-001", "CONC-001", "CONC-002", "OTEL-001",
           "OTEL-002", "OTEL-003", "PERF-001"]  # fmt: skip
_REWRITE = "AssertionError: two finish chunks; expected one\nassert 2 == 1\n +  where 2 = len([])"


def _real_report(failing: bool) -> Report:
    statuses = {r.id: "unsupported" if r.area == "FAULT" else "passed" for r in CATALOGUE}
    if failing:
        statuses.update(dict.fromkeys([_ROOT, *_FAILED], "failed"))
    outs = [
        TestOutcome(
            f"suite_x.py::test_{rid.lower()}", rid, status, 0.1,  # type: ignore[arg-type]
            "provider does not declare 'openai_compatible'" if status == "unsupported"
            else (_REWRITE if status == "failed" else ""),
        )
        for rid, status in statuses.items()
    ]  # fmt: skip
    figures = (
        Figure("otel_overhead", 3.1, "%", 5.0, detail="p50 over 200 calls"),
        Figure("latency_p50", 0.12, "ms", None, detail="sampled calls"),
        Figure("throughput", 812.0, "req/s", None, higher_is_better=True),
    )
    outs.append(TestOutcome("suite_p.py::test_p", "PERF-002", "passed", 0.2, "", figures))
    return build_report(CATALOGUE, outs, rs.run_info(), {})


@pytest.fixture(scope="module", params=["passing", "failing"])
def real_page(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report over the real catalogue, written with SPEC.md beside it."""
    where = tmp_path_factory.mktemp(request.param)
    return write_reports(_real_report(request.param == "failing"), where)["html"]


def _probe(page: Path, tmp_path: Path, width: int) -> dict[str, object]:
    probed = page.with_name(f"probe-{width}.html")
    probed.write_text(_PROBE.format(width=width, page=html_escape(page.read_text(), quote=True)))
    result = _chromium(tmp_path, "--window-size=1500,3000", "--dump-dom", probed.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', result.stdout)
    assert found, "the probe script did not run"
    return dict(json.loads(found.group(1).replace("&quot;", '"')))


class TestReadTopDown:
    @pytest.mark.parametrize("width", [1400, 400])
    def test_ids_never_break_and_nothing_overflows(
        self, real_page: Path, tmp_path: Path, width: int
    ) -> None:
        """Every requirement ID sits on one line and the page is no wider than the window."""
        probe = _probe(real_page, tmp_path, width)
        assert probe["width"] == width
        assert probe["broken"] == []
        assert int(probe["overflow"]) <= 0  # type: ignore[call-overload]

    def test_verdict_failures_requirements_then_figures(
        self, real_page: Path, tmp_path: Path
    ) -> None:
        """Sections come in reading order; unbudgeted figures are plain values."""
        order = list(_probe(real_page, tmp_path, 1400)["order"])  # type: ignore[call-overload]
        expected = ["verdict", "requirements by status"]
        if "failing" in real_page.parent.name:
            expected.append("root causes and failures")
        expected += ["did not apply", "requirements", "figures", "measured values", "run"]
        assert order == expected

    def test_requirement_ids_link_to_their_spec_section(self, real_page: Path) -> None:
        """Each ID links to its anchor in SPEC.md, written beside the report."""
        html = real_page.read_text()
        spec = (real_page.parent / "SPEC.md").read_text()
        links = re.findall(r'href="SPEC\.md#([a-z]+-\d{3})"', html)
        assert sorted(links) == sorted(r.id.lower() for r in CATALOGUE)
        assert all(f'<a id="{anchor}"></a>' in spec for anchor in links)

    @pytest.mark.parametrize("width", [1400, 400])
    def test_screenshot(self, real_page: Path, tmp_path: Path, width: int) -> None:
        """A full screenshot at each width is a real, non-blank image."""
        folder = Path(os.environ.get("CHATMODELS_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / f"report-{real_page.parent.name.rstrip('0123456789')}-{width}.png"
        result = _chromium(
            tmp_path, f"--screenshot={shot}", f"--window-size={width},2400", real_page.as_uri()
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert shot.stat().st_size > 30_000
