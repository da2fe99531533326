"""Rendering: self-contained, escaped HTML; short, harmless Markdown; the shields.io badge."""

from __future__ import annotations

import json
import re

import report_samples as rs
from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report import (
    Report,
    Stop,
    badge,
    build_report,
    render_badge,
    render_html,
    render_markdown,
    terminal_summary,
)
from chatmodels.conformance.requirements import Catalogue, Level, Requirement

HOSTILE = (
    "<script>alert('x')</script> & \"q\" <img src=x onerror=alert(1)> | `tick` *b* [l](http://evil)"
)


def _hostile_report():  # type: ignore[no-untyped-def]
    run = rs.run_info(
        provider_name=HOSTILE,
        provider_version=HOSTILE,
        model=HOSTILE,
        capabilities=(HOSTILE,),
        options={HOSTILE: HOSTILE},
    )
    outs = rs.outcomes({**rs.ALL_PASS, "CORE-001": "failed"}, CORE_001=HOSTILE)
    outs.append(
        TestOutcome(
            "t.py::perf",
            "PERF-001",
            "passed",
            0.0,
            "",
            (Figure(HOSTILE, 9.0, HOSTILE, 1.0, detail=HOSTILE),),
        )
    )
    return build_report(rs.catalogue(), outs, run, {"CONC-001": HOSTILE})


class TestHtml:
    def test_provider_strings_are_escaped(self) -> None:
        """Provider-supplied markup comes out as text: no tag or handler from it survives."""
        html = render_html(_hostile_report())
        assert "<script" not in html.lower()
        assert "<img" not in html.lower()
        assert "&lt;script&gt;" in html
        assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")

    def test_self_contained(self) -> None:
        """No external request: no scripts, links, imports, fonts or remote URLs to load."""
        report = rs.report(
            {"CORE-001": "failed"}, figures=(Figure("p", 1.0, "ms", 2.0),), options={}
        )
        html = render_html(report)
        lowered = html.lower()
        for needle in (
            "<script",
            "<link",
            "@import",
            "@font-face",
            "url(http",
            'src="http',
            "<iframe",
        ):
            assert needle not in lowered, needle
        # the only URL is the SVG namespace, which is never fetched
        assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
        assert "default-src 'none'" in html

    def test_reads_top_down(self) -> None:
        """Verdict and badge, then failures, then the requirements table, then the figures."""
        figures = (Figure("over", 30.0, "ms", 20.0),)
        html = render_html(rs.report({"STREAM-002": "failed"}, figures=figures))
        verdict = html.index('id="verdict">conformant at MUST<')
        failures = html.index('aria-label="root causes and failures"')
        table = html.index('class="reqs"')
        assert verdict < failures < table < html.index("By level") < html.index('"figures"')
        assert 'aria-label="chatmodels conformance: conformant at MUST"' in html

    def test_requirement_ids_link_to_spec_sections(self) -> None:
        """Each requirement's ID links to its anchor in SPEC.md."""
        html = render_html(rs.report())
        assert (
            '<a href="SPEC.md#stream-001" title="the requirement in SPEC.md">STREAM-001</a>' in html
        )

    def test_failures_expand_to_their_message(self) -> None:
        """Each failing row holds a details element with the full message."""
        outs = rs.outcomes(
            {**rs.ALL_PASS, "CORE-001": "failed"}, CORE_001="first line\nsecond line"
        )
        html = render_html(build_report(rs.catalogue(), outs, rs.run_info()))
        row = html[html.index('id="req-CORE-001"') : html.index('id="req-CORE-002"')]
        assert "failing" in row
        assert "<details" in row
        assert "<summary>first line</summary>" in row
        assert "first line\nsecond line</pre>" in row

    def test_status_filter_works_without_javascript(self) -> None:
        """One radio per present status drives a CSS rule hiding the other rows."""
        html = render_html(rs.report({"CORE-001": "failed", "OTEL-001": "unsupported"}))
        for status in ("failed", "unsupported", "passed"):
            assert f'id="f-{status}"' in html
            assert f"#f-{status}:checked ~ table tbody tr:not(.st-{status})" in html
        assert 'id="f-error"' not in html
        assert 'class="st-failed failing"' in html

    def test_figures_are_svg_bars_against_their_budget(self) -> None:
        """A figure over budget is drawn red with a budget marker; one without budget is a value."""
        figures = (Figure("over", 30.0, "ms", 20.0), Figure("free", 5.0, "ms"))
        html = render_html(rs.report(figures=figures))
        over = html[html.index('aria-label="over 30 ms, budget 20 ms"') :]
        over = over[: over.index("</svg>")]
        assert 'fill="#cf222e"' in over
        assert "<line" in over
        assert 'aria-label="free' not in html
        values = html[html.index('aria-label="measured values"') :]
        assert '<td>free</td><td class="num">5 ms</td>' in values[: values.index("</section>")]

    def test_partial_run_is_said(self) -> None:
        """A partial run is flagged next to the verdict."""
        assert "partial run" in render_html(rs.report(partial=True))
        assert "partial run" not in render_html(rs.report())


class TestMarkdown:
    def test_messages_carry_no_assertion_rewrite(self) -> None:
        """pytest's ``assert ...`` explanation is left out; the sentence before it stays."""
        message = "AssertionError: two finals; expected one\nassert 2 == 1\n +  where 2 = len([])"
        outs = rs.outcomes({**rs.ALL_PASS, "CORE-001": "failed"}, CORE_001=message)
        md = render_markdown(build_report(rs.catalogue(), outs, rs.run_info()))
        assert "| AssertionError: two finals; expected one |" in md
        assert "where" not in md
        assert "assert 2" not in md

    def test_areas_that_did_not_apply_are_listed_with_why(self) -> None:
        """An area whose every requirement is unsupported gets a line naming the capability."""
        md = render_markdown(rs.report({"OTEL-001": "unsupported"}))
        assert "- **OTEL** (1 requirement): provider 'reference' does not declare 'telemetry'" in md
        assert "**STREAM**" not in md

    def test_verdict_counts_and_failures(self) -> None:
        """The summary gives the verdict, a per-level table and one row per failure."""
        md = render_markdown(rs.report({"CORE-001": "failed", "PERF-001": "error"}))
        assert md.startswith("## ❌ chatmodels conformance: not conformant")
        assert "| MUST | 3 | 2 | 1 |" in md
        assert (
            "| CORE-001 | MUST | failed | chat() returns a ChatResult | CORE-001 went wrong |" in md
        )
        assert "| PERF-001 | SHOULD | error |" in md

    def test_hostile_strings_are_harmless(self) -> None:
        """No raw HTML tag, table-breaking pipe or live link survives from provider text."""
        md = render_markdown(_hostile_report())
        assert "<" not in md
        assert "&lt;script&gt;" in md
        assert "[l](http://evil)" not in md
        for line in md.splitlines():
            if line.startswith("| CORE-001"):
                assert line.count("|") - line.count("\\|") == 6

    def test_size_bound_with_many_failures(self) -> None:
        """A thousand long failures still give well under 1 MiB, with a truncation note."""
        catalogue = Catalogue(
            Requirement(f"BIG-{i:03d}", Level.MUST, "t" * 200, "r") for i in range(1000)
        )
        outs = [
            TestOutcome(f"t.py::t{i}", f"BIG-{i:03d}", "failed", 0.0, "m" * 2000)
            for i in range(1000)
        ]
        md = render_markdown(build_report(catalogue, outs, rs.run_info()))
        assert len(md.encode()) < 256 * 1024
        assert "900 more failing requirements" in md

    def test_over_budget_figures_listed(self) -> None:
        """Figures over budget get their own table."""
        md = render_markdown(rs.report(figures=(Figure("latency_p99", 41.7, "ms", 25.0),)))
        assert "| PERF-001 | latency\\_p99 | 41.7 ms | ≤ 25 ms |" in md


class TestPartial:
    def test_incomplete_run_says_partial_everywhere(self) -> None:
        """A filtered run is 'partial' on the badge, in Markdown, HTML and the terminal."""
        report = rs.report(incomplete=(Stop("filtered", "-k 'CORE'"),))
        assert badge(report)["message"] == "partial"
        assert "incomplete, filtered: -k 'CORE'" in render_markdown(report)
        assert "filtered: -k &#39;CORE&#39;" in render_html(report)
        lines = terminal_summary(report)
        assert "verdict: partial" in lines
        assert "  incomplete: filtered: -k 'CORE'" in lines

    def test_failing_must_in_a_partial_run_is_not_conformant(self) -> None:
        """A MUST that failed is 'not conformant' however little ran."""
        report = rs.report({"CORE-001": "failed"}, incomplete=(Stop("stopped", "-x"),))
        assert badge(report)["message"] == "not conformant"


class TestBadge:
    def test_shields_endpoint_json(self) -> None:
        """The badge is a shields.io endpoint payload coloured by the verdict."""
        assert json.loads(render_badge(rs.report())) == {
            "schemaVersion": 1,
            "label": "chatmodels conformance",
            "message": "conformant at SHOULD",
            "color": "brightgreen",
        }
        assert badge(rs.report({"STREAM-002": "failed"}))["color"] == "yellow"
        assert badge(rs.report({"CORE-001": "failed"})) == {
            "schemaVersion": 1,
            "label": "chatmodels conformance",
            "message": "not conformant",
            "color": "red",
        }


class TestTelemetryProfile:
    def test_every_rendering_names_the_conventions_edition(self) -> None:
        """JSON, HTML and Markdown name the edition the telemetry suite checked."""
        checked = rs.report(suites=("telemetry",), telemetry_profile="genai-0.1.0")
        assert checked.to_dict()["run"]["telemetry_profile"] == "genai-0.1.0"
        assert "telemetry conventions genai-0.1.0" in render_html(checked)
        assert "telemetry conventions genai-0.1.0" in render_markdown(checked)
        unchecked = rs.report(suites=("contract",), telemetry_profile="genai-0.1.0")
        assert "telemetry conventions" not in render_markdown(unchecked)

    def test_reports_without_it_checked_semconv_1_41_1(self) -> None:
        """A report from before the setting existed reads as the only edition there was."""
        data = rs.report(suites=("telemetry",)).to_dict()
        del data["run"]["telemetry_profile"]
        assert Report.from_dict(data).run.telemetry_profile == "semconv-1.41.1"
