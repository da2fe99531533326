"""``chatmodels-conformance``: every subcommand, every gate exit code, and the error lines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import report_samples as rs
from chatmodels.conformance.cli import main, parse_level, parse_max
from chatmodels.conformance.outcomes import Figure
from chatmodels.conformance.report import JournalWriter, Stop, dumps, journal_path, schema
from chatmodels.conformance.report._errors import MAX_FILE_BYTES
from chatmodels.conformance.requirements import Level
from chatmodels.conformance.spec import render_spec


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv], catalogue=rs.catalogue())
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return rs.write(
        rs.report(figures=(Figure("latency_p50", 120.0, "ms"),)), tmp_path / "good.json"
    )


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    return rs.write(rs.report({"CORE-001": "failed", "STREAM-002": "error"}), tmp_path / "bad.json")


class TestGateExitCodes:
    def test_pass(self, capsys: pytest.CaptureFixture[str], good: Path) -> None:
        """A clean report exits 0 with one PASS line."""
        code, out, _ = _run(capsys, "gate", good)
        assert code == 0
        assert out.startswith("PASS: conformant at SHOULD (--level must)")

    def test_fail_names_ids(self, capsys: pytest.CaptureFixture[str], bad: Path) -> None:
        """A failing MUST exits 1, one FAIL line per reason, naming the ID."""
        code, out, _ = _run(capsys, "gate", bad)
        assert code == 1
        assert out.splitlines()[0] == "FAIL: CORE-001 (MUST) failed: CORE-001 went wrong"
        assert "STREAM-002" not in out.splitlines()[0]

    def test_level_should(self, capsys: pytest.CaptureFixture[str], bad: Path) -> None:
        """--level should also makes SHOULD failures fatal."""
        code, out, _ = _run(capsys, "gate", bad, "--level", "SHOULD")
        assert code == 1
        assert [line for line in out.splitlines() if line.startswith("FAIL")] == [
            "FAIL: CORE-001 (MUST) failed: CORE-001 went wrong",
            "FAIL: STREAM-002 (SHOULD) error: STREAM-002 went wrong",
        ]

    def test_baseline_regression(
        self, capsys: pytest.CaptureFixture[str], good: Path, bad: Path
    ) -> None:
        """A requirement passing in the baseline and failing now exits 1 as a regression."""
        code, out, _ = _run(capsys, "gate", bad, "--baseline", good, "--level", "may")
        assert code == 1
        assert "FAIL: STREAM-002 (SHOULD) regressed: passed in the baseline, error now" in out

    def test_max(self, capsys: pytest.CaptureFixture[str], good: Path) -> None:
        """--max passes within budget and exits 1 above it."""
        assert _run(capsys, "gate", good, "--max", "latency_p50=150")[0] == 0
        code, out, _ = _run(capsys, "gate", good, "--max", "latency_p50=100", "--max", "x=1")
        assert code == 1
        assert "over --max 100ms" in out
        assert "figure 'x'" in out

    def test_require_complete(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--require-complete exits 1 on a MAY requirement not run; by default it passes."""
        path = rs.write(rs.report({"CONC-002": "not_run"}), tmp_path / "p.json")
        assert _run(capsys, "gate", path)[0] == 0
        code, out, _ = _run(capsys, "gate", path, "--require-complete")
        assert code == 1
        assert "FAIL: 1 SHOULD/MAY requirement(s) were not run: CONC-002" in out

    def test_partial_run_fails_unless_allowed(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A filtered run exits 1 with the filter named; --allow-partial passes it as partial."""
        report = rs.report(
            {"CORE-002": "not_run"}, incomplete=(Stop("filtered", "-k 'not CORE_002'"),)
        )
        path = rs.write(report, tmp_path / "p.json")
        code, out, _ = _run(capsys, "gate", path)
        assert code == 1
        assert out.splitlines()[:2] == [
            "FAIL: the run was filtered (-k 'not CORE_002'); "
            "pass --allow-partial to accept a filtered run",
            "FAIL: 1 MUST requirement(s) were not run: CORE-002",
        ]
        code, out, _ = _run(capsys, "gate", path, "--allow-partial")
        assert code == 0
        assert out.startswith("PASS: partial (--level must)")
        assert _run(capsys, "gate", path, "--allow-partial", "--require-complete")[0] == 1

    def test_unexpected_pass(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A waived requirement that passed exits 1; a waived failure exits 0."""
        stale = rs.write(rs.report(waivers={"CORE-001": "x"}), tmp_path / "s.json")
        waived = rs.write(
            rs.report({"CORE-001": "failed"}, waivers={"CORE-001": "x"}), tmp_path / "w.json"
        )
        assert _run(capsys, "gate", stale)[0] == 1
        assert _run(capsys, "gate", waived)[0] == 0


class TestGateUnusableReports:
    def _data(self) -> dict[str, object]:
        return rs.report().to_dict()

    def _assert_error(self, capsys: pytest.CaptureFixture[str], path: Path, pattern: str) -> None:
        code, out, err = _run(capsys, "gate", path)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert err.startswith("chatmodels-conformance: error: ")
        assert pattern in err

    def test_missing_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A missing report exits 2 naming the file."""
        self._assert_error(capsys, tmp_path / "gone.json", "report file not found")

    def test_truncated(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """Truncated JSON exits 2."""
        path = tmp_path / "t.json"
        path.write_text(dumps(rs.report())[:-40])
        self._assert_error(capsys, path, "invalid JSON")

    def test_empty_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An empty file exits 2 as invalid JSON."""
        path = tmp_path / "e.json"
        path.write_text("")
        self._assert_error(capsys, path, "invalid JSON")

    def test_schema_version(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A wrong schema version exits 2."""
        data = self._data()
        data["schema_version"] = "2.0"
        self._assert_error(capsys, rs.write(data, tmp_path / "v.json"), "schema version mismatch")

    def test_schema_violation(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A missing field exits 2 naming the schema violation."""
        data = self._data()
        del data["run"]
        self._assert_error(capsys, rs.write(data, tmp_path / "s.json"), "schema violation at $")

    def test_suite_version(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A report from another suite version exits 2."""
        data = self._data()
        data["suite_version"] = "0.9.0"
        self._assert_error(capsys, rs.write(data, tmp_path / "s.json"), "suite version mismatch")

    def test_unknown_requirement(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A requirement ID outside the catalogue exits 2."""
        data = rs.report().to_dict()
        data["requirements"][3]["id"] = "FAKE-001"
        self._assert_error(capsys, rs.write(data, tmp_path / "u.json"), "'FAKE-001'")

    def test_counts_that_disagree(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """Stored counts that contradict the requirement list exit 2 naming the count."""
        data = rs.report({"CORE-001": "failed"}).to_dict()
        data["summary"]["total"]["passed"] += 1
        data["summary"]["total"]["failed"] -= 1
        self._assert_error(
            capsys, rs.write(data, tmp_path / "c.json"), "stored summary.total.passed is '8'"
        )

    def test_verdict_that_disagrees(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A verdict edited to 'conformant' over a failing MUST exits 2."""
        data = rs.report({"CORE-001": "failed"}).to_dict()
        data["verdict"] = "conformant at SHOULD"
        self._assert_error(capsys, rs.write(data, tmp_path / "v.json"), "stored verdict")

    def test_partial_flag_that_disagrees(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A crashed run whose 'partial' was flipped to false exits 2."""
        data = rs.report(incomplete=(Stop("crashed", "worker gw0 crashed"),)).to_dict()
        data["run"]["partial"] = False
        self._assert_error(capsys, rs.write(data, tmp_path / "p.json"), "stored run.partial")

    def test_different_catalogue_digest(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A report run against another catalogue exits 2, unless told which to judge against."""
        data = rs.report().to_dict()
        other = "ab" * 32
        data["catalogue_digest"] = other
        path = rs.write(data, tmp_path / "d.json")
        self._assert_error(capsys, path, "catalogue digest mismatch")
        assert _run(capsys, "gate", path, "--catalogue-digest", other)[0] == 0
        assert _run(capsys, "gate", path, "--catalogue-digest", "cd" * 32)[0] == 2
        assert _run(capsys, "gate", path, "--any-catalogue")[0] == 0

    @pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
    def test_non_finite_figure(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, token: str
    ) -> None:
        """A NaN or infinite figure exits 2 before any --max could be judged."""
        text = dumps(rs.report(figures=(Figure("latency_p50", 123.0, "ms"),)))
        path = tmp_path / "n.json"
        path.write_text(text.replace('"value": 123.0', f'"value": {token}'))
        code, out, err = _run(capsys, "gate", path, "--max", "latency_p50=100")
        assert (code, out) == (2, "")
        assert err.count("\n") == 1
        assert "non-finite number" in err

    @pytest.mark.parametrize("command", ["gate", "render", "diff", "baseline"])
    def test_deep_nesting(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, good: Path, command: str
    ) -> None:
        """10^5-deep nested arrays exit 2 with one line and no traceback, wherever they go in."""
        deep = tmp_path / "deep.json"
        deep.write_text("[" * 100_000 + "]" * 100_000)
        argv = {
            "gate": ["gate", deep],
            "render": ["render", deep, "--format", "md"],
            "diff": ["diff", good, deep],
            "baseline": ["gate", good, "--baseline", deep],
        }[command]
        code, out, err = _run(capsys, *argv)
        assert (code, out) == (2, "")
        assert err.count("\n") == 1
        assert "nested deeper than" in err
        assert "Traceback" not in err

    def test_moderately_deep_nesting(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Nesting the parser accepts but no report has is refused before it is walked."""
        data = rs.report().to_dict()
        data["options"] = {"x": json.loads("[" * 500 + "]" * 500)}
        self._assert_error(capsys, rs.write(data, tmp_path / "m.json"), "nested deeper than")

    def test_huge_file(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A file larger than any report is refused unread."""
        path = tmp_path / "huge.json"
        with path.open("wb") as handle:
            handle.truncate(MAX_FILE_BYTES + 1)
        self._assert_error(capsys, path, "over the")

    @pytest.mark.parametrize(
        ("field", "value"),
        [("requirements", "all"), ("run", []), ("summary", 3), ("verdict", None), ("options", [1])],
    )
    def test_wrong_types(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, field: str, value: object
    ) -> None:
        """A field of the wrong type exits 2 with one line."""
        data = self._data()
        data[field] = value
        self._assert_error(capsys, rs.write(data, tmp_path / "w.json"), "schema violation")

    def test_not_an_object(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """A JSON array or string at the top exits 2."""
        path = tmp_path / "a.json"
        path.write_text('"report"')
        self._assert_error(capsys, path, "schema version mismatch")

    def test_bad_baseline(
        self, capsys: pytest.CaptureFixture[str], good: Path, tmp_path: Path
    ) -> None:
        """An unusable baseline exits 2 too."""
        code, _, err = _run(capsys, "gate", good, "--baseline", tmp_path / "none.json")
        assert code == 2
        assert "none.json" in err

    @pytest.mark.parametrize("value", ["latency", "=5", "latency=fast", "latency=nan", "x=inf"])
    def test_bad_max(self, capsys: pytest.CaptureFixture[str], good: Path, value: str) -> None:
        """A malformed --max exits 2 quoting the value and the expected form."""
        code, _, err = _run(capsys, "gate", good, "--max", value)
        assert code == 2
        assert f"invalid budget {value!r}; expected FIGURE=VALUE" in err

    def test_bad_level(self, capsys: pytest.CaptureFixture[str], good: Path) -> None:
        """An unknown --level exits 2 listing the choices."""
        code, _, err = _run(capsys, "gate", good, "--level", "could")
        assert code == 2
        assert "invalid level 'could'; expected one of must, should, may" in err


def _journal(folder: Path, statuses: dict[str, str], *, end: bool) -> Path:
    """A journal as a run leaves it: one result line per test, and an end line if it finished."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = JournalWriter(journal_path(folder / "r.json"), rs.journal_header())
    for outcome in rs.outcomes(statuses):
        writer.result(outcome, "teardown")
    if end:
        writer.end(0, [], 0)
    writer.close()
    return folder / "r.json"


class TestJournal:
    def test_gate_judges_the_journal_when_the_report_is_missing(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A run that died before its report fails the gate as crashed, from its journal."""
        path = _journal(tmp_path, rs.ALL_PASS, end=False)
        code, out, _ = _run(capsys, "gate", path, "--allow-partial")
        assert code == 1
        assert "judging its journal" in out.splitlines()[0]
        assert "FAIL: the run crashed (the run ended without finishing its report)" in out

    def test_unfinished_journal_wins_over_a_stale_report(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An old passing report next to a newer unfinished journal is not what gets judged."""
        path = rs.write(rs.report(), tmp_path / "r.json")
        assert _run(capsys, "gate", path)[0] == 0
        _journal(tmp_path, {"CORE-001": "passed"}, end=False)
        code, out, _ = _run(capsys, "gate", path)
        assert code == 1
        assert "the run crashed" in out

    def test_finished_journal_defers_to_the_report(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """Once the run finished, the report is what the gate reads."""
        _journal(tmp_path, rs.ALL_PASS, end=True)
        path = rs.write(rs.report(), tmp_path / "r.json")
        code, out, _ = _run(capsys, "gate", path)
        assert (code, out.startswith("PASS: conformant at SHOULD")) == (0, True)

    def test_interrupted_journal_is_marked_interrupted(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A SIGTERM journaled before the process was killed marks the run interrupted."""
        path = _journal(tmp_path, rs.ALL_PASS, end=False)
        with journal_path(path).open("a") as handle:
            handle.write('{"kind": "stop", "stop": "interrupted", "detail": "SIGTERM received"}\n')
            handle.write('{"kind": "result", "nodeid": "cut-off')  # died mid-line
        code, out, _ = _run(capsys, "gate", path)
        assert code == 1
        assert "FAIL: the run was interrupted (SIGTERM received)" in out
        assert "crashed" not in out

    def test_report_recover_writes_every_rendering(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """`report --recover` rebuilds the report files from the journal, marked crashed."""
        path = _journal(tmp_path, {**rs.ALL_PASS, "CORE-002": "failed"}, end=False)
        code, out, _ = _run(capsys, "report", "--recover", path)
        assert code == 0
        assert out.startswith(f"recovered {path} from ")
        data = json.loads(path.read_text())
        assert data["verdict"] == "not conformant"
        assert data["run"]["incomplete"] == [
            {"kind": "crashed", "detail": "the run ended without finishing its report"}
        ]
        assert (tmp_path / "badge.json").is_file()
        assert _run(capsys, "report", path)[0] == 2

    @pytest.mark.parametrize(
        "text", ["", "[]\n", '{"kind": "result"}\n', "[" * 100_000 + "]" * 100_000 + "\n"]
    )
    def test_unusable_journal(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str
    ) -> None:
        """A journal that is empty, headless or hostile exits 2 with one line."""
        journal_path(tmp_path / "r.json").write_text(text)
        code, _, err = _run(capsys, "report", "--recover", tmp_path / "r.json")
        assert code == 2
        assert err.count("\n") == 1
        assert "Traceback" not in err


class TestParsers:
    def test_parse_max(self) -> None:
        """FIGURE=VALUE parses to a name and a float."""
        assert parse_max(" p50 =2.5") == ("p50", 2.5)
        with pytest.raises(argparse.ArgumentTypeError):
            parse_max("p50")

    def test_parse_level(self) -> None:
        """Levels parse case-insensitively."""
        assert parse_level("may") is Level.MAY


class TestRender:
    @pytest.mark.parametrize(
        ("fmt", "needle"),
        [("html", "<!doctype html>"), ("md", "## ✅"), ("badge", '"schemaVersion": 1')],
    )
    def test_stdout(
        self, capsys: pytest.CaptureFixture[str], good: Path, fmt: str, needle: str
    ) -> None:
        """Each format renders to stdout by default."""
        code, out, _ = _run(capsys, "render", good, "--format", fmt)
        assert code == 0
        assert needle in out

    def test_output_file(
        self, capsys: pytest.CaptureFixture[str], good: Path, tmp_path: Path
    ) -> None:
        """-o writes the rendering to a file, creating its folder."""
        target = tmp_path / "out" / "r.html"
        code, out, _ = _run(capsys, "render", good, "--format", "html", "-o", target)
        assert (code, out) == (0, "")
        assert "conformant at SHOULD" in target.read_text()

    def test_needs_format(self, capsys: pytest.CaptureFixture[str], good: Path) -> None:
        """--format is required and limited to html, md and badge."""
        assert _run(capsys, "render", good)[0] == 2
        assert _run(capsys, "render", good, "--format", "pdf")[0] == 2

    def test_unusable_report(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """Rendering a missing report exits 2."""
        assert _run(capsys, "render", tmp_path / "x.json", "--format", "md")[0] == 2


class TestDiff:
    def test_table(self, capsys: pytest.CaptureFixture[str], good: Path, bad: Path) -> None:
        """diff prints regressions with their level and exits 0."""
        code, out, _ = _run(capsys, "diff", good, bad)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == "verdict: conformant at SHOULD -> not conformant"
        assert lines[2].split()[:5] == ["CORE-001", "MUST", "passed", "failed", "regression"]
        assert lines[-1] == "2 regression(s), 0 fix(es), 2 change(s)"
        code, out, _ = _run(capsys, "diff", bad, good)
        assert "0 regression(s), 2 fix(es), 2 change(s)" in out


class TestSchemaAndSpec:
    def test_schema(self, capsys: pytest.CaptureFixture[str]) -> None:
        """schema prints the shipped JSON Schema."""
        code, out, _ = _run(capsys, "schema")
        assert code == 0
        assert json.loads(out) == schema()

    def test_spec_render_and_check(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """spec renders the catalogue; --check passes on a fresh file and fails on a stale one."""
        code, out, _ = _run(capsys, "spec")
        assert code == 0
        assert out == render_spec(rs.catalogue())
        assert "### STREAM-001: Streams end with one final chunk" in out
        assert "providers declaring `streaming`" in out
        assert f"`{rs.catalogue().digest()}`" in out
        target = tmp_path / "SPEC.md"
        assert _run(capsys, "spec", "-o", target)[0] == 0
        assert _run(capsys, "spec", "--check", target)[0] == 0
        target.write_text(target.read_text().replace("MUST", "MAY", 1))
        code, out, _ = _run(capsys, "spec", "--check", target)
        assert code == 1
        assert "is stale; regenerate it with: chatmodels-conformance spec -o" in out
        assert _run(capsys, "spec", "--check", tmp_path / "missing.md")[0] == 1


class TestSettings:
    def test_lists_every_tunable_with_default_unit_and_meaning(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """settings prints one line per tunable and per budget override, in aligned columns."""
        from chatmodels.conformance.requirements import CATALOGUE

        assert main(["settings"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].split() == ["SETTING", "DEFAULT", "UNIT", "MEANING"]
        rows = {line.split()[0]: line for line in lines[1:]}
        for key, setting in CATALOGUE.settings.items():
            value = setting.default
            default = str(value).lower() if isinstance(value, bool) else str(value) or '""'
            assert rows[key].split()[1:3] == [default, setting.unit or "-"]
            assert setting.help in rows[key]
            assert all(choice in rows[key] for choice in setting.choices)
        budgeted = [r for r in CATALOGUE if r.budget is not None]
        assert all(f"budget.{r.id}" in rows for r in budgeted)
        assert len(rows) == len(CATALOGUE.settings) + len(budgeted)


class TestHelp:
    def test_top_level_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help lists every subcommand and exits 0."""
        code, out, _ = _run(capsys, "--help")
        assert code == 0
        for command in ("gate", "report", "render", "diff", "schema", "spec", "settings", "serve"):
            assert command in out

    @pytest.mark.parametrize("command", ["gate", "report", "render", "diff", "schema", "spec"])
    def test_subcommand_help(self, capsys: pytest.CaptureFixture[str], command: str) -> None:
        """Each subcommand has its own help."""
        code, out, _ = _run(capsys, command, "--help")
        assert code == 0
        assert f"usage: chatmodels-conformance {command}" in out

    def test_no_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        """No subcommand is a usage error."""
        assert _run(capsys)[0] == 2
