"""Writing reports: every format lands, atomically, and a failed render keeps the old files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import report_samples as rs
from chatmodels.conformance.report import _write, build_report, load_report, write_reports
from chatmodels.conformance.report._load import dumps


class TestWriteReports:
    def test_writes_every_format(self, tmp_path: Path) -> None:
        """JSON, HTML, Markdown and the badge are written under their names, in a new folder."""
        paths = write_reports(rs.report(), tmp_path / "reports" / "deep")
        assert {k: p.name for k, p in paths.items()} == {
            "json": "chatmodels-conformance.json",
            "html": "chatmodels-conformance.html",
            "md": "chatmodels-conformance.md",
            "badge": "badge.json",
        }
        assert all(p.stat().st_size > 0 for p in paths.values())
        assert load_report(paths["json"]) == rs.report()
        assert json.loads(paths["badge"].read_text())["schemaVersion"] == 1

    def test_spec_is_written_beside_a_report_of_this_catalogue(self, tmp_path: Path) -> None:
        """The HTML's SPEC.md links resolve: SPEC.md is written when the catalogue matches."""
        from chatmodels.conformance.report import build_report
        from chatmodels.conformance.requirements import CATALOGUE

        ours = build_report(CATALOGUE, [], rs.run_info())
        assert write_reports(ours, tmp_path / "ours")["spec"].name == "SPEC.md"
        assert '<a id="core-001"></a>' in (tmp_path / "ours" / "SPEC.md").read_text()
        assert "spec" not in write_reports(rs.report(), tmp_path / "other")
        assert not (tmp_path / "other" / "SPEC.md").exists()

    def test_a_spec_that_cannot_be_rendered_does_not_lose_the_report(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SPEC.md is an aid: when rendering it raises, every other file is still written."""
        from chatmodels.conformance import spec
        from chatmodels.conformance.requirements import CATALOGUE

        def broken() -> str:
            raise SystemError("AST constructor recursion depth mismatch")

        monkeypatch.setattr(spec, "render_spec", broken)
        paths = write_reports(build_report(CATALOGUE, [], rs.run_info()), tmp_path)
        assert sorted(paths) == ["badge", "html", "json", "md"]
        assert load_report(paths["json"]).catalogue_digest == CATALOGUE.digest()

    def test_no_partial_file_is_ever_visible(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """At each rename the target holds the old whole file and the temp file the new one."""
        old = rs.report()
        write_reports(old, tmp_path)
        new = rs.report({"CORE-001": "failed"})
        seen: list[str] = []
        real_replace = os.replace

        def checking_replace(src: str, dst: Path) -> None:
            assert Path(src).parent == tmp_path
            if Path(dst).name == "chatmodels-conformance.json":
                assert json.loads(Path(dst).read_text())["verdict"] == old.verdict
                assert json.loads(Path(src).read_text())["verdict"] == new.verdict
            seen.append(Path(dst).name)
            real_replace(src, dst)

        monkeypatch.setattr(_write.os, "replace", checking_replace)
        write_reports(new, tmp_path)
        assert "chatmodels-conformance.json" in seen
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(seen)

    def test_failed_render_keeps_previous_files(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """When HTML rendering raises, nothing is written and no temp file is left."""
        paths = write_reports(rs.report(), tmp_path)
        before = {p: p.read_bytes() for p in paths.values()}

        def broken(report: object) -> str:
            raise RuntimeError("template bug")

        monkeypatch.setattr(_write, "render_html", broken)
        with pytest.raises(RuntimeError, match="template bug"):
            write_reports(rs.report({"CORE-001": "failed"}), tmp_path)
        assert {p: p.read_bytes() for p in paths.values()} == before
        assert sorted(tmp_path.iterdir()) == sorted(before)

    def test_failed_write_removes_temp_file(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A rename that fails leaves the old file and cleans up its temp file."""
        target = tmp_path / "x.json"
        target.write_text("old")

        def failing_replace(src: str, dst: str) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(_write.os, "replace", failing_replace)
        with pytest.raises(OSError, match="disk full"):
            _write.atomic_write(target, "new")
        assert target.read_text() == "old"
        assert list(tmp_path.iterdir()) == [target]

    def test_secret_never_written(self, tmp_path: Path) -> None:
        """A secret option value appears in no written file, whatever the key is called."""
        run = rs.run_info(options={"api_key": rs.SECRET, "header": f"Bearer {rs.SECRET}"})
        outs = rs.outcomes(
            {**rs.ALL_PASS, "CORE-001": "failed"}, CORE_001=f"auth {rs.SECRET} rejected"
        )
        report = build_report(rs.catalogue(), outs, run, secrets=[rs.SECRET])
        paths = write_reports(report, tmp_path)
        for path in paths.values():
            assert rs.SECRET not in path.read_text(), path.name
        assert "auth *** rejected" in paths["json"].read_text()

    def test_json_is_validated_before_writing(self) -> None:
        """dumps() output is the schema-valid JSON form ending with a newline."""
        text = dumps(rs.report())
        assert text.endswith("}\n")
        assert json.loads(text)["verdict"] == "conformant at SHOULD"
