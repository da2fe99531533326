"""The report model: aggregation, waivers, verdicts, summaries, secrets, schema and loading."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

import report_samples as rs
from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report import (
    SCHEMA_VERSION,
    VERDICT_MUST,
    VERDICT_NONE,
    VERDICT_NOT_RUN,
    VERDICT_SHOULD,
    Report,
    ReportError,
    aggregate,
    build_report,
    dumps,
    load_report,
    redact,
    schema,
    terminal_summary,
)
from chatmodels.conformance.requirements import (
    CATALOGUE,
    SUITE_VERSION,
    Catalogue,
    Level,
    Requirement,
)


def _outcome(status: str, rid: str = "CORE-001", message: str = "", node: str = "t") -> TestOutcome:
    return TestOutcome(f"tests/test_x.py::{node}", rid, status, 0.0, message)  # type: ignore[arg-type]


class TestAggregate:
    @pytest.mark.parametrize(
        ("statuses", "expected"),
        [
            (["passed", "error", "failed"], "error"),
            (["passed", "failed", "inconclusive"], "failed"),
            (["passed", "inconclusive", "skipped"], "inconclusive"),
            (["skipped", "passed", "unsupported"], "passed"),
            (["skipped", "unsupported"], "unsupported"),
            (["skipped", "not_run"], "skipped"),
            (["not_run"], "not_run"),
            ([], "not_run"),
        ],
    )
    def test_precedence(self, statuses: list[str], expected: str) -> None:
        """The worst outcome over a requirement's tests decides its status."""
        assert aggregate([_outcome(s) for s in statuses]) == expected

    def test_requirement_without_tests_is_not_run(self) -> None:
        """A catalogued requirement that no test reported on is ``not_run``."""
        outs = [o for o in rs.outcomes(rs.ALL_PASS) if o.requirement_id != "CONC-002"]
        report = build_report(rs.catalogue(), outs, rs.run_info())
        assert report.get("CONC-002").status == "not_run"  # type: ignore[union-attr]
        assert report.not_run == ("CONC-002",)
        assert not report.complete

    def test_tests_are_sorted_and_messages_come_from_deciding_tests(self) -> None:
        """Node IDs are sorted for stable output; only failing tests contribute the message."""
        outs = [
            _outcome("failed", message="boom", node="b"),
            _outcome("passed", message="irrelevant", node="a"),
        ]
        report = build_report(rs.catalogue(), outs, rs.run_info())
        result = report.get("CORE-001")
        assert result is not None
        assert result.tests == ("tests/test_x.py::a", "tests/test_x.py::b")
        assert result.message == "boom"

    def test_long_messages_are_truncated(self) -> None:
        """A chatty failure is cut to about 500 characters."""
        report = build_report(
            rs.catalogue(), [_outcome("failed", message="x" * 5000)], rs.run_info()
        )
        message = report.get("CORE-001").message  # type: ignore[union-attr]
        assert 400 < len(message) <= 500
        assert message.endswith("…")

    def test_skip_reason_is_kept(self) -> None:
        """Skipped and unsupported requirements carry their reason, not a failure message."""
        outs = [_outcome("unsupported", message="needs streaming")]
        result = build_report(rs.catalogue(), outs, rs.run_info()).get("CORE-001")
        assert result is not None
        assert (result.reason, result.message) == ("needs streaming", "")

    def test_unknown_requirement_in_outcomes_is_an_error(self) -> None:
        """An outcome naming an ID outside the catalogue cannot be filed anywhere."""
        with pytest.raises(ReportError, match="NOPE-001"):
            build_report(rs.catalogue(), [_outcome("passed", rid="NOPE-001")], rs.run_info())

    def test_figures_are_kept_with_budget_verdicts(self) -> None:
        """Figures land on their requirement with value, budget and within_budget."""
        fig = Figure("latency_p99", 41.7, "ms", 25.0)
        report = rs.report(figures=(fig,))
        data = report.to_dict()["requirements"]
        perf = next(r for r in data if r["id"] == "PERF-001")
        assert perf["figures"][0] == {
            "name": "latency_p99",
            "value": 41.7,
            "unit": "ms",
            "budget": 25.0,
            "higher_is_better": False,
            "within_budget": False,
            "detail": "",
        }


class TestWaivers:
    def test_waived_failure_becomes_waived(self) -> None:
        """A failing waived requirement is ``waived``, carries the reason, and does not fail."""
        report = rs.report({"CORE-001": "failed"}, waivers={"CORE-001": "known, #12"})
        result = report.get("CORE-001")
        assert result is not None
        assert (result.status, result.reason, result.failing) == ("waived", "known, #12", False)
        assert report.verdict == VERDICT_SHOULD

    def test_waived_error_becomes_waived(self) -> None:
        """Errors are waivable like failures."""
        report = rs.report({"CORE-001": "error"}, waivers={"CORE-001": "flaky"})
        assert report.get("CORE-001").status == "waived"  # type: ignore[union-attr]

    def test_waived_pass_is_an_unexpected_pass(self) -> None:
        """A waived requirement that passes is flagged and counts as failing."""
        report = rs.report(waivers={"CORE-002": "was broken"})
        result = report.get("CORE-002")
        assert result is not None
        assert result.status == "passed"
        assert result.unexpected_pass
        assert report.unexpected_passes == ("CORE-002",)
        assert report.verdict == VERDICT_NONE

    def test_an_intermittent_waiver_expects_a_pass_too(self) -> None:
        """A waiver whose reason starts "intermittent:" covers a race that some runs miss: a
        pass is a pass, not a stale waiver, and a failure is still waived."""
        waivers = {"CORE-002": "intermittent: the server cuts a stream when a second arrives"}
        passed = rs.report(waivers=waivers)
        result = passed.get("CORE-002")
        assert result is not None
        assert (result.status, result.unexpected_pass) == ("passed", False)
        assert passed.unexpected_passes == ()
        assert passed.verdict == VERDICT_SHOULD
        failed = rs.report({"CORE-002": "failed"}, waivers=waivers)
        assert failed.get("CORE-002").status == "waived"  # type: ignore[union-attr]

    def test_waived_inconclusive_becomes_waived(self) -> None:
        """A waiver covers an inconclusive result as it covers a failure."""
        report = rs.report({"STREAM-002": "inconclusive"}, waivers={"STREAM-002": "slow"})
        result = report.get("STREAM-002")
        assert result is not None
        assert (result.status, result.failing, result.unexpected_pass) == ("waived", False, False)
        assert report.verdict == VERDICT_SHOULD

    def test_unknown_waiver_is_an_error(self) -> None:
        """Waiving an ID outside the catalogue is refused."""
        with pytest.raises(ReportError, match="GHOST-001"):
            rs.report(waivers={"GHOST-001": "x"})


def _dependent_report(changes: dict[str, str]) -> Report:
    """A report whose OTEL-001 and CONC-001 rely on STREAM-001 and CORE-001 to examine anything."""
    plain = rs.catalogue()
    depends = {"OTEL-001": ("STREAM-001",), "CONC-001": ("CORE-001", "STREAM-001")}
    catalogue = Catalogue(replace(r, depends_on=depends.get(r.id, ())) for r in plain)
    statuses = {**rs.ALL_PASS, **changes}
    return build_report(catalogue, rs.outcomes(statuses), rs.run_info())


class TestBlocked:
    def test_dependent_of_a_failed_root_is_blocked_by_it(self) -> None:
        """A dependent that failed while its call style's root failed is blocked by that root."""
        report = _dependent_report({"STREAM-001": "failed", "OTEL-001": "failed"})
        result = report.get("OTEL-001")
        assert result is not None
        assert (result.status, result.blocked_by) == ("blocked", "STREAM-001")
        assert result.message.startswith("blocked by STREAM-001 (STREAM-001 went wrong)")
        assert result.failing

    def test_first_failed_root_in_declared_order_is_named(self) -> None:
        """With two failed roots the dependent names the first one it declares."""
        report = _dependent_report(
            {"CORE-001": "error", "STREAM-001": "failed", "CONC-001": "inconclusive"}
        )
        assert report.get("CONC-001").blocked_by == "CORE-001"  # type: ignore[union-attr]

    @pytest.mark.parametrize("root", ["passed", "inconclusive", "unsupported"])
    def test_a_root_that_did_not_fail_blocks_nothing(self, root: str) -> None:
        """Only a failed or errored root blocks; the dependent keeps its own verdict."""
        report = _dependent_report({"STREAM-001": root, "OTEL-001": "failed"})
        assert report.get("OTEL-001").status == "failed"  # type: ignore[union-attr]

    def test_a_passing_dependent_stays_passed(self) -> None:
        """A dependent whose own check passed is not relabelled."""
        report = _dependent_report({"STREAM-001": "failed"})
        assert report.get("OTEL-001").status == "passed"  # type: ignore[union-attr]

    def test_root_causes_lead_with_their_count(self) -> None:
        """Roots come first in the failing list and the summary, with how many they block."""
        report = _dependent_report(
            {
                "STREAM-001": "failed",
                "OTEL-001": "failed",
                "CONC-001": "failed",
                "CORE-002": "failed",
            }
        )
        assert report.blocking == {"STREAM-001": 2}
        order = [r.id for r in report.failing_by_cause]
        assert order == ["STREAM-001", "CORE-002", "OTEL-001", "CONC-001"]
        lines = terminal_summary(report)
        failing = [line.strip() for line in lines if line.startswith("  ") and "(" in line[:20]]
        assert failing[0].startswith("STREAM-001 (MUST) failed (root cause: blocks 2)")
        assert failing[-1] == "CONC-001 (MAY) blocked by STREAM-001"

    def test_renderings_lead_with_root_causes(self) -> None:
        """Markdown lists the root first with its count; HTML names the roots and the blocker."""
        from chatmodels.conformance.report import render_html, render_markdown

        report = _dependent_report({"STREAM-001": "failed", "OTEL-001": "failed"})
        markdown = render_markdown(report)
        root = markdown.index("STREAM-001 | MUST | failed (root cause: blocks 1)")
        assert root < markdown.index("OTEL-001 | SHOULD | blocked by STREAM-001")
        html = render_html(report)
        assert (
            'Root causes: <a href="#req-STREAM-001">STREAM-001</a>&nbsp;'
            '<span class="lv">blocks&nbsp;1' in html
        )
        assert 'blocked by <a href="#req-STREAM-001">STREAM-001</a>' in html

    def test_blocked_round_trips_and_validates(self) -> None:
        """The blocked status and its root survive JSON and satisfy the schema."""
        report = _dependent_report({"STREAM-001": "failed", "OTEL-001": "failed"})
        data = json.loads(dumps(report))
        jsonschema.validate(data, schema())
        again = Report.from_dict(data)
        assert again.get("OTEL-001") == report.get("OTEL-001")
        assert data["summary"]["total"]["blocked"] == 1

    def test_the_catalogue_declares_call_style_roots(self) -> None:
        """Stream-based telemetry depends on STREAM-002; roots have no dependencies themselves."""
        assert "STREAM-002" in CATALOGUE.get("OTEL-006").depends_on
        assert CATALOGUE.get("STREAM-002").depends_on == ()
        with pytest.raises(ValueError, match="depends on 'OTEL-001'"):
            Catalogue(
                [
                    Requirement("OTEL-001", Level.MUST, "t", "r", depends_on=("CORE-001",)),
                    Requirement("CORE-001", Level.MUST, "t", "r"),
                    Requirement("CONC-001", Level.MUST, "t", "r", depends_on=("OTEL-001",)),
                ]
            )


class TestPreflightReport:
    def test_preflight_failure_is_its_own_verdict(self) -> None:
        """A run stopped by the preflight is 'not run: preflight failed', every entry not run."""
        cause = "invoke() raised NetworkError: connection refused; check the base URL"
        report = build_report(rs.catalogue(), [], rs.run_info(preflight=cause))
        assert report.verdict == VERDICT_NOT_RUN
        assert {r.status for r in report.requirements} == {"not_run"}
        assert report.requirements[0].reason == f"preflight failed: {cause}"
        data = json.loads(dumps(report))
        jsonschema.validate(data, schema())
        assert data["run"]["preflight"] == cause
        assert Report.from_dict(data).verdict == VERDICT_NOT_RUN


class TestVerdict:
    @pytest.mark.parametrize(
        ("changes", "verdict"),
        [
            ({}, VERDICT_SHOULD),
            ({"CONC-001": "failed"}, VERDICT_SHOULD),
            ({"OTEL-001": "unsupported", "CONC-002": "skipped"}, VERDICT_SHOULD),
            ({"STREAM-002": "failed"}, VERDICT_MUST),
            ({"PERF-001": "inconclusive"}, VERDICT_MUST),
            ({"STREAM-001": "error"}, VERDICT_NONE),
            ({"CORE-001": "inconclusive"}, VERDICT_NONE),
        ],
    )
    def test_verdict_levels(self, changes: dict[str, str], verdict: str) -> None:
        """The verdict is the strongest level with nothing failing at or above it."""
        assert rs.report(changes).verdict == verdict

    def test_failing_ids_in_catalogue_order(self) -> None:
        """Failing IDs are listed at every level, in catalogue order."""
        report = rs.report({"CONC-001": "failed", "CORE-002": "error", "PERF-001": "failed"})
        assert report.failing_ids == ("CORE-002", "PERF-001", "CONC-001")
        assert [r.id for r in report.failing_at(Level.SHOULD)] == ["CORE-002", "PERF-001"]

    def test_a_run_where_nothing_passed_is_not_conformant(self) -> None:
        """A run whose requirements were all not run or skipped claims no conformance."""
        nothing = dict.fromkeys(rs.ALL_PASS, "not_run")
        assert rs.report(nothing, partial=True).verdict == VERDICT_NONE

    def test_stored_verdict_is_not_trusted(self, tmp_path: Path) -> None:
        """A hand-edited verdict is recomputed from the entries on load, and refused."""
        data = rs.report({"CORE-001": "failed"}).to_dict()
        data["verdict"] = VERDICT_SHOULD
        data["failing_ids"] = []
        assert Report.from_dict(data).verdict == VERDICT_NONE
        with pytest.raises(ReportError, match="stored verdict is 'conformant at SHOULD'"):
            load_report(rs.write(data, tmp_path / "r.json"))


class TestSummaries:
    def test_per_level_and_area_counts(self) -> None:
        """Summaries count every status per level and per area."""
        report = rs.report({"STREAM-001": "failed", "OTEL-001": "unsupported"})
        data = report.to_dict()["summary"]
        assert data["by_level"]["MUST"]["failed"] == 1
        assert data["by_level"]["MUST"]["passed"] == 2
        assert data["by_level"]["SHOULD"]["unsupported"] == 1
        assert data["by_area"]["STREAM"]["failed"] == 1
        assert list(data["by_area"]) == ["CORE", "STREAM", "PERF", "OTEL", "CONC"]
        assert data["total"]["total"] == 8

    def test_terminal_summary(self) -> None:
        """The terminal lines give per-level counts, the verdict and each failing ID."""
        lines = terminal_summary(rs.report({"STREAM-001": "failed"}, waivers={"CORE-002": "x"}))
        text = "\n".join(lines)
        assert any(line.strip().startswith("MUST") and "1 failed" in line for line in lines)
        assert "verdict: not conformant" in text
        assert "STREAM-001 (MUST) failed" in text
        assert "CORE-002 (MUST) passed unexpectedly" in text


class TestSecrets:
    def test_redact_by_pattern_and_name(self) -> None:
        """Credential-looking keys and named secrets are masked; the rest is stringified."""
        options = {"api_key": "a", "Authorization": "b", "x_token": "c", "db": "d", "n": 3}
        assert redact(options, secret_names=["DB"]) == {
            "api_key": "***",
            "Authorization": "***",
            "x_token": "***",
            "db": "***",
            "n": "3",
        }

    def test_secret_values_are_scrubbed_everywhere(self) -> None:
        """A secret value never survives in options, messages, reasons, nodeids or figures."""
        outs = [
            TestOutcome(
                f"t.py::test[{rs.SECRET}]",
                "CORE-001",
                "failed",
                0.0,
                f"401 for key {rs.SECRET}",
                (Figure("f", 1.0, "ms", detail=rs.SECRET),),
            ),
            _outcome("skipped", "CORE-002", f"skipped with {rs.SECRET}"),
        ]
        run = rs.run_info(options={"endpoint_auth": "x", "base": f"http://u:{rs.SECRET}@h"})
        report = build_report(rs.catalogue(), outs, run, secrets=[rs.SECRET, ""])
        text = dumps(report)
        assert rs.SECRET not in text
        assert "401 for key ***" in text

    def test_short_secrets_are_not_scrubbed(self) -> None:
        """One- to three-character values are too short to mask without mangling messages."""
        report = build_report(
            rs.catalogue(),
            [_outcome("failed", message="expected 10")],
            rs.run_info(),
            secrets=["0"],
        )
        assert report.get("CORE-001").message == "expected 10"  # type: ignore[union-attr]


class TestSchema:
    def test_built_report_validates(self) -> None:
        """Every built report conforms to the shipped JSON Schema."""
        report = rs.report(
            {"CORE-001": "failed", "OTEL-001": "unsupported", "CONC-002": "not_run"},
            waivers={"CORE-001": "x", "CONC-001": "y"},
            figures=(Figure("p50", 1.0, "ms", 2.0),),
        )
        jsonschema.Draft202012Validator(schema()).validate(report.to_dict())
        jsonschema.Draft202012Validator.check_schema(schema())

    def test_round_trip(self, tmp_path: Path) -> None:
        """Loading a written report gives back an equal report."""
        report = rs.report({"STREAM-001": "failed"}, figures=(Figure("p50", 1.0, "ms", 2.0),))
        assert load_report(rs.write(report, tmp_path / "r.json")) == report
        assert Report.from_dict(json.loads(dumps(report))) == report

    def test_versions_are_recorded(self) -> None:
        """The JSON names its schema version, suite version and catalogue digest."""
        data = rs.report().to_dict()
        assert data["schema_version"] == SCHEMA_VERSION
        assert data["suite_version"] == SUITE_VERSION
        assert data["catalogue_digest"] == rs.catalogue().digest()


class TestLoadReport:
    def _data(self) -> dict[str, object]:
        return rs.report().to_dict()

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is named in a one-line error."""
        with pytest.raises(ReportError, match=r"not found: .*nope\.json"):
            load_report(tmp_path / "nope.json")

    def test_truncated_json(self, tmp_path: Path) -> None:
        """Half a file is invalid JSON, and the error says so."""
        path = tmp_path / "r.json"
        path.write_text(dumps(rs.report())[:300])
        with pytest.raises(ReportError, match="invalid JSON"):
            load_report(path)

    def test_wrong_schema_version(self, tmp_path: Path) -> None:
        """Another schema version is refused before validation, naming both versions."""
        data = self._data()
        data["schema_version"] = "99.0"
        with pytest.raises(ReportError, match=r"schema version mismatch.*'99.0'"):
            load_report(rs.write(data, tmp_path / "r.json"))

    def test_not_an_object(self, tmp_path: Path) -> None:
        """A JSON array is not a report."""
        with pytest.raises(ReportError, match="schema version mismatch"):
            load_report(rs.write([], tmp_path / "r.json"))  # type: ignore[arg-type]

    def test_schema_violation_names_the_path(self, tmp_path: Path) -> None:
        """A bad field is reported with its JSON path."""
        data = rs.report().to_dict()
        data["requirements"][2]["status"] = "great"
        with pytest.raises(ReportError, match=r"\$\.requirements\[2\]\.status"):
            load_report(rs.write(data, tmp_path / "r.json"))

    def test_suite_version_mismatch(self, tmp_path: Path) -> None:
        """A report from another suite version is refused unless the check is off."""
        data = self._data()
        data["suite_version"] = "0.0.1"
        path = rs.write(data, tmp_path / "r.json")
        with pytest.raises(ReportError, match="suite version mismatch"):
            load_report(path)
        assert load_report(path, suite_version=None).suite_version == "0.0.1"

    def test_unknown_requirement(self, tmp_path: Path) -> None:
        """With a catalogue, an ID it does not know is refused."""
        data = rs.report().to_dict()
        data["requirements"][0]["id"] = "EVIL-001"
        with pytest.raises(ReportError, match=r"'EVIL-001'.*not in the catalogue"):
            load_report(rs.write(data, tmp_path / "r.json"), catalogue=rs.catalogue())

    def test_downgraded_level(self, tmp_path: Path) -> None:
        """With a catalogue, a MUST relabelled MAY to dodge the gate is refused."""
        data = rs.report({"CORE-001": "failed"}).to_dict()
        data["requirements"][0]["level"] = "MAY"
        with pytest.raises(ReportError, match=r"'CORE-001'.*level 'MAY'"):
            load_report(rs.write(data, tmp_path / "r.json"), catalogue=rs.catalogue())

    def test_duplicate_requirement(self, tmp_path: Path) -> None:
        """An ID listed twice is refused."""
        data = rs.report().to_dict()
        data["requirements"].append(data["requirements"][0])
        with pytest.raises(ReportError, match="more than once"):
            load_report(rs.write(data, tmp_path / "r.json"))

    def test_errors_are_one_line(self, tmp_path: Path) -> None:
        """Even a violation deep in a big object yields a single short line."""
        data = rs.report().to_dict()
        data["provider"] = {"name": "x" * 5000}
        with pytest.raises(ReportError) as info:
            load_report(rs.write(data, tmp_path / "r.json"))
        assert "\n" not in str(info.value)
        assert len(str(info.value)) < 400

    def test_run_fields_round_trip(self) -> None:
        """The run description survives to_dict/from_dict."""
        run = rs.run_info(partial=True, workers=2)
        report = replace(rs.report(), run=run)
        assert Report.from_dict(report.to_dict()).run == run
