"""Expectations files: the TOML format, and every way one can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

import report_samples as rs
from chatmodels.conformance.report import WaiverError, load_expectations


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.toml"
    path.write_text(text)
    return path


class TestLoadExpectations:
    def test_valid_file(self, tmp_path: Path) -> None:
        """Each waiver maps an ID to its trimmed reason."""
        path = _write(
            tmp_path,
            '[waivers]\n"STREAM-002" = " usage on every chunk; #12 "\nCORE-001 = "upstream bug"\n',
        )
        assert load_expectations(path, rs.catalogue()) == {
            "STREAM-002": "usage on every chunk; #12",
            "CORE-001": "upstream bug",
        }

    def test_empty_file_waives_nothing(self, tmp_path: Path) -> None:
        """A file with no [waivers] table is valid and empty."""
        assert load_expectations(_write(tmp_path, "# nothing yet\n"), rs.catalogue()) == {}

    def test_unknown_id_names_id_and_line(self, tmp_path: Path) -> None:
        """Waiving an ID outside the catalogue is an error naming the ID and its line."""
        path = _write(tmp_path, '[waivers]\n"CORE-001" = "ok"\n"GHOST-404" = "typo"\n')
        with pytest.raises(
            WaiverError, match=r"line 3: waiver names unknown requirement 'GHOST-404'"
        ):
            load_expectations(path, rs.catalogue())

    @pytest.mark.parametrize("value", ['""', '"   "', "3", "[]"])
    def test_empty_or_non_string_reason(self, tmp_path: Path, value: str) -> None:
        """A reason must be a non-empty string."""
        path = _write(tmp_path, f'[waivers]\n"CORE-002" = {value}\n')
        with pytest.raises(
            WaiverError, match="line 2: waiver for 'CORE-002' needs a non-empty reason"
        ):
            load_expectations(path, rs.catalogue())

    def test_malformed_toml_names_file(self, tmp_path: Path) -> None:
        """A TOML syntax error names the file and where it broke."""
        path = _write(tmp_path, "[waivers\nCORE-001 = 'x'\n")
        with pytest.raises(
            WaiverError, match=r"invalid TOML in expectations file '.*expectations.toml'.*line 1"
        ):
            load_expectations(path, rs.catalogue())

    def test_unexpected_table(self, tmp_path: Path) -> None:
        """Only [waivers] is allowed, so a misspelt table is not silently ignored."""
        path = _write(tmp_path, '[waiver]\n"CORE-001" = "x"\n')
        with pytest.raises(WaiverError, match="unexpected key 'waiver'"):
            load_expectations(path, rs.catalogue())

    def test_waivers_not_a_table(self, tmp_path: Path) -> None:
        """``waivers`` must be a table."""
        with pytest.raises(WaiverError, match="'waivers' must be a table"):
            load_expectations(_write(tmp_path, 'waivers = "all"\n'), rs.catalogue())

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is named."""
        with pytest.raises(WaiverError, match=r"expectations file not found: .*none\.toml"):
            load_expectations(tmp_path / "none.toml", rs.catalogue())
