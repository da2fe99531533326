"""The gate's rules, checked on reports built in memory (exit codes are in test_cli.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import report_samples as rs
from chatmodels.conformance.outcomes import Figure
from chatmodels.conformance.report import VERDICT_PARTIAL, Report, Stop, diff, format_diff, gate
from chatmodels.conformance.requirements import Level


class TestLevels:
    def test_clean_report_passes(self) -> None:
        """A report with nothing failing gives no reason at any level."""
        assert gate(rs.report(), level=Level.MAY) == []

    @pytest.mark.parametrize(
        ("rid", "fails_at"),
        [("CORE-001", Level.MUST), ("STREAM-002", Level.SHOULD), ("CONC-001", Level.MAY)],
    )
    @pytest.mark.parametrize("status", ["failed", "error", "inconclusive"])
    def test_failures_count_at_their_level_and_weaker_thresholds(
        self, rid: str, fails_at: Level, status: str
    ) -> None:
        """A failing requirement is fatal at thresholds that include its level, and only those."""
        report = rs.report({rid: status})
        for level in Level:
            reasons = gate(report, level=level)
            if level.rank >= fails_at.rank:
                assert reasons == [f"{rid} ({fails_at.value}) {status}: {rid} went wrong"]
            else:
                assert reasons == []

    @pytest.mark.parametrize("status", ["unsupported", "skipped"])
    def test_non_failures_pass(self, status: str) -> None:
        """Unsupported and skipped requirements are not failures."""
        assert gate(rs.report({"CORE-001": status}), level=Level.MAY) == []


class TestWaivers:
    def test_waived_failure_passes(self) -> None:
        """A waived failing MUST does not fail the gate."""
        assert gate(rs.report({"CORE-001": "failed"}, waivers={"CORE-001": "bug #1"})) == []

    def test_unexpected_pass_fails_at_every_level(self) -> None:
        """A waived requirement that passed fails the gate, even a MAY under --level must."""
        reasons = gate(rs.report(waivers={"CONC-001": "bug #2"}), level=Level.MUST)
        assert len(reasons) == 1
        assert reasons[0].startswith("CONC-001 (MAY) passed unexpectedly")
        assert "remove the waiver" in reasons[0]


class TestBaseline:
    def test_regression_fails(self) -> None:
        """A requirement that passed in the baseline and does not now fails the gate."""
        reasons = gate(rs.report({"CONC-002": "skipped"}), baseline=rs.report())
        assert reasons == ["CONC-002 (MAY) regressed: passed in the baseline, skipped now"]

    def test_regression_to_waived_fails(self) -> None:
        """Waiving a requirement that used to pass is still a regression."""
        reasons = gate(
            rs.report({"CORE-001": "failed"}, waivers={"CORE-001": "x"}), baseline=rs.report()
        )
        assert reasons == ["CORE-001 (MUST) regressed: passed in the baseline, waived now"]

    def test_not_run_in_partial_run_is_spared(self) -> None:
        """In a filtered run, requirements not run are left to --require-complete."""
        current = rs.report({"CONC-002": "not_run"}, partial=True)
        assert gate(current, baseline=rs.report(), allow_partial=True) == []
        assert gate(rs.report({"CONC-002": "not_run"}), baseline=rs.report()) != []

    def test_fix_is_not_a_failure(self) -> None:
        """A requirement failing in the baseline and passing now is fine."""
        assert gate(rs.report(), baseline=rs.report({"CONC-001": "failed"})) == []


class TestBudgets:
    def test_figure_over_max_fails(self) -> None:
        """A recorded figure above its --max fails; one at or below passes."""
        report = rs.report(figures=(Figure("latency_p50", 250.0, "ms"),))
        assert gate(report, maxima={"latency_p50": 250.0}) == []
        assert gate(report, maxima={"latency_p50": 200.0}) == [
            "figure 'latency_p50' of PERF-001 is 250ms, over --max 200ms"
        ]

    def test_unknown_figure_fails(self) -> None:
        """A budget on a figure the report never recorded is a failure, not a silent pass."""
        assert gate(rs.report(), maxima={"latency_p50": 1.0}) == [
            "figure 'latency_p50' (--max latency_p50=1) is not in the report"
        ]


def _stopped(kind: str, detail: str, changes: dict[str, str] | None = None) -> Report:
    return rs.report(changes, incomplete=(Stop(kind, detail),))


class TestRefusals:
    """A report that did not check everything fails by default, one reason line each."""

    def test_filtered_lf_run_fails_naming_the_filter(self) -> None:
        """An --lf run is filtered: it fails, and --allow-partial lets it through."""
        report = _stopped("filtered", "--lf (only the tests that failed last time)")
        assert report.verdict == VERDICT_PARTIAL
        assert gate(report) == [
            "the run was filtered (--lf (only the tests that failed last time)); "
            "pass --allow-partial to accept a filtered run"
        ]
        assert gate(report, allow_partial=True) == []

    def test_stopped_early_run_fails(self) -> None:
        """A run stopped by -x is partial: refused by default, accepted with --allow-partial."""
        report = _stopped("stopped", "stopping after 1 failures", {"CONC-002": "not_run"})
        assert gate(report) == [
            "the run stopped early (stopping after 1 failures); "
            "pass --allow-partial to accept a partial run"
        ]
        assert gate(report, allow_partial=True) == []

    def test_legacy_partial_flag_fails(self) -> None:
        """A report marked partial without a reason still fails by default."""
        report = rs.report({"CONC-002": "not_run"}, partial=True)
        assert gate(report) == ["the run was partial; pass --allow-partial to accept a partial run"]

    @pytest.mark.parametrize("kind", ["crashed", "interrupted"])
    def test_crashed_or_interrupted_run_always_fails(self, kind: str) -> None:
        """A crashed or interrupted run fails even with --allow-partial."""
        report = _stopped(kind, "worker gw1 crashed: Not properly terminated")
        for allow in (False, True):
            reasons = gate(report, allow_partial=allow)
            assert len(reasons) == 1
            assert reasons[0].startswith(f"the run {'was ' if kind == 'interrupted' else ''}{kind}")
            assert "worker gw1 crashed" in reasons[0]

    def test_empty_report_always_fails(self) -> None:
        """A report with no requirement run fails, with or without --allow-partial."""
        empty = rs.report(dict.fromkeys(rs.ALL_PASS, "not_run"), partial=True)
        for allow in (False, True):
            assert "the report checked nothing: no requirement was run" in gate(
                empty, allow_partial=allow
            )
        nothing = replace(rs.report(), requirements=())
        assert gate(nothing, allow_partial=True) == [
            "the report checked nothing: no requirement was run"
        ]
        assert gate(nothing, require_complete=True) != []

    def test_must_not_run_fails(self) -> None:
        """In a run that claims to be complete, a MUST requirement not run fails the gate."""
        report = rs.report({"CORE-001": "not_run", "STREAM-001": "not_run"})
        assert report.verdict == VERDICT_PARTIAL
        assert gate(report, allow_partial=True) == [
            "2 MUST requirement(s) were not run: CORE-001, STREAM-001"
        ]

    def test_require_complete_counts_every_level(self) -> None:
        """--require-complete also fails on SHOULD and MAY requirements not run."""
        report = rs.report({"CONC-002": "not_run"})
        assert gate(report) == []
        assert gate(report, require_complete=True) == [
            "1 SHOULD/MAY requirement(s) were not run: CONC-002"
        ]

    def test_complete_run_passes(self) -> None:
        """A full run passes --require-complete."""
        assert gate(rs.report(), require_complete=True) == []

    def test_nan_figure_never_meets_a_budget(self) -> None:
        """A NaN figure (only possible in memory; files refuse it) fails any --max."""
        report = rs.report(figures=(Figure("latency_p50", float("nan"), "ms"),))
        assert gate(report, maxima={"latency_p50": 1e9}) != []


class TestDiff:
    def test_regressions_and_fixes(self) -> None:
        """Status changes are classified and tabulated with their level."""
        old = rs.report({"CORE-001": "failed", "CONC-001": "skipped"})
        new = rs.report({"STREAM-002": "error", "CONC-001": "failed"})
        changes = {c.id: (c.before, c.after, c.kind) for c in diff(old, new)}
        assert changes == {
            "CORE-001": ("failed", "passed", "fix"),
            "STREAM-002": ("passed", "error", "regression"),
            "CONC-001": ("skipped", "failed", "regression"),
        }
        lines = format_diff(diff(old, new), old, new)
        assert lines[0] == "verdict: not conformant -> conformant at MUST"
        assert lines[1].split() == ["ID", "LEVEL", "BEFORE", "AFTER", "CHANGE", "TITLE"]
        assert lines[-1] == "2 regression(s), 1 fix(es), 3 change(s)"

    def test_no_change(self) -> None:
        """Identical reports say so."""
        assert format_diff(diff(rs.report(), rs.report()), rs.report(), rs.report())[-1] == (
            "no requirement changed status"
        )


class TestTriage:
    def test_preflight_failure_fails_the_gate_with_its_cause(self) -> None:
        """A report the preflight stopped fails at every level, naming the cause."""
        cause = "model 'gpt-nope' was not found; check --chatmodels-model"
        report = rs.report(dict.fromkeys(rs.ALL_PASS, "not_run"), preflight=cause)
        for level in Level:
            assert gate(report, level=level) == [
                f"the suites did not run: preflight failed: {cause}"
            ]

    def test_blocked_fails_and_root_causes_come_first(self) -> None:
        """A blocked requirement is never a pass; its root leads the reasons with its count."""
        from dataclasses import replace

        from chatmodels.conformance.report import build_report
        from chatmodels.conformance.requirements import Catalogue

        catalogue = Catalogue(
            replace(r, depends_on=("STREAM-001",) if r.id == "CORE-002" else ())
            for r in rs.catalogue()
        )
        statuses = {**rs.ALL_PASS, "CORE-002": "failed", "STREAM-001": "failed"}
        report = build_report(catalogue, rs.outcomes(statuses), rs.run_info())
        assert gate(report) == [
            "STREAM-001 (MUST) failed (blocks 1): STREAM-001 went wrong",
            "CORE-002 (MUST) blocked by STREAM-001",
        ]

    def test_waived_inconclusive_passes_and_waived_pass_fails(self) -> None:
        """A waiver covers an inconclusive result; a waived requirement that passed fails."""
        assert gate(rs.report({"CORE-001": "inconclusive"}, waivers={"CORE-001": "slow"})) == []
        reasons = gate(rs.report(waivers={"CORE-001": "slow"}))
        assert len(reasons) == 1
        assert "passed unexpectedly" in reasons[0]
