"""The plugin's outputs end to end: the report files, JUnit properties, xdist, the gate."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.cli import main as cli_main
from provider_fakes import NO_MODEL_NAME_CONFTEST

SECRET = "sk-conformance-canary-5f1e2d"

SECRET_PROVIDER = """
import dataclasses
import pytest
from chatmodels.providers.reference import ReferenceProvider

class KeyedProvider(ReferenceProvider):
    metadata = dataclasses.replace(
        ReferenceProvider.metadata,
        name="keyed",
        optional_options=(*ReferenceProvider.metadata.optional_options, "api_key"),
        secret_options=("api_key",),
    )

    def __init__(self, options=None):
        options = dict(options or {})
        self.api_key = options.pop("api_key", None)
        super().__init__(options)

@pytest.fixture(scope="session")
def chatmodels_provider():
    return KeyedProvider
"""


FAST = ("--chatmodels-suite", "contract", "-p", "no:cacheprovider", "-q")


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads((path / "reports" / "chatmodels-conformance.json").read_text()))


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without what legitimately differs between runs: times and worker counts."""
    data = json.loads(json.dumps(report))
    data["run"] = {
        k: v for k, v in data["run"].items() if k not in ("started_at", "duration", "workers")
    }
    for requirement in data["requirements"]:
        requirement["tests"] = sorted(requirement["tests"])
        for figure in requirement.get("figures", []):
            figure.pop("value", None)
            figure.pop("within_budget", None)
    return data


class TestReportFiles:
    def test_a_run_writes_json_html_markdown_and_badge(self, pytester: pytest.Pytester) -> None:
        """The JSON, HTML, Markdown and badge land in reports/ and the JSON names the verdict."""
        result = pytester.runpytest_subprocess("--chatmodels-conformance", *FAST)
        assert result.ret == 0, result.stdout.str()
        folder = pytester.path / "reports"
        names = {p.name for p in folder.iterdir()}
        assert {"chatmodels-conformance.json", "chatmodels-conformance.html",
                "chatmodels-conformance.md", "badge.json"} <= names  # fmt: skip
        report = _report(pytester.path)
        assert report["provider"]["name"] == "reference"
        assert report["verdict"] == "partial"  # one suite of five: nothing failed, not all ran
        assert report["failing_ids"] == []
        result.stdout.fnmatch_lines(["*chatmodels conformance*", "verdict: partial"])

    def test_report_folder_option(self, pytester: pytest.Pytester) -> None:
        """--chatmodels-report chooses the folder."""
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-report", "out/conf",
            "--chatmodels-requirements", "CORE", *FAST,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        assert (pytester.path / "out" / "conf" / "chatmodels-conformance.json").is_file()

    def test_secrets_never_reach_any_report_file(self, pytester: pytest.Pytester) -> None:
        """A secret option is redacted from the JSON, HTML, Markdown and badge."""
        pytester.makeconftest(SECRET_PROVIDER)
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-option", f"api_key={SECRET}",
            "--chatmodels-requirements", "CORE,ERR", *FAST,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        assert SECRET not in result.stdout.str() + result.stderr.str()
        for path in (pytester.path / "reports").iterdir():
            assert SECRET not in path.read_text(), path.name
        assert _report(pytester.path)["options"]["api_key"] == "***"

    def test_junit_xml_carries_requirement_properties(self, pytester: pytest.Pytester) -> None:
        """Each JUnit test case names its requirement ID and level as properties."""
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--junit-xml=junit.xml",
            "--chatmodels-requirements", "CORE-001", *FAST,
        )  # fmt: skip
        assert result.ret == 0, result.stdout.str()
        cases = ET.parse(pytester.path / "junit.xml").getroot().iter("testcase")
        found = []
        for case in cases:
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            found.append((props.get("requirement"), props.get("requirement_level")))
        assert found
        assert set(found) == {("CORE-001", "MUST")}

    def test_filtered_run_is_marked_partial(self, pytester: pytest.Pytester) -> None:
        """Selecting requirements marks the run partial and the rest not_run."""
        pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE-001", *FAST
        )
        report = _report(pytester.path)
        assert report["run"]["partial"] is True
        statuses = {r["id"]: r["status"] for r in report["requirements"]}
        assert statuses["CORE-001"] == "passed"
        assert statuses["STREAM-001"] == "not_run"


class TestXdist:
    def test_two_workers_write_the_same_report_as_a_serial_run(
        self, pytester: pytest.Pytester
    ) -> None:
        """Under -n 2 the controller merges the workers' results into the same JSON."""
        serial = pytester.runpytest_subprocess("--chatmodels-conformance", *FAST)
        assert serial.ret == 0, serial.stdout.str()
        first = _report(pytester.path)
        parallel = pytester.runpytest_subprocess("--chatmodels-conformance", "-n", "2", *FAST)
        assert parallel.ret == 0, parallel.stdout.str()
        second = _report(pytester.path)
        assert second["run"]["workers"] == 2
        assert _comparable(first) == _comparable(second)


class TestGate:
    def test_reference_run_passes_the_gate(self, pytester: pytest.Pytester) -> None:
        """The reference's contract run passes the gate once a one-suite run is allowed."""
        result = pytester.runpytest_subprocess("--chatmodels-conformance", *FAST)
        assert result.ret == 0
        report = pytester.path / "reports" / "chatmodels-conformance.json"
        assert cli_main(["gate", str(report), "--level", "must"]) == 1
        assert cli_main(["gate", str(report), "--level", "must", "--allow-partial"]) == 0

    def test_broken_provider_fails_the_gate_naming_the_requirement(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A provider that names no response model fails pytest, and the gate names CORE-003."""
        pytester.makeconftest(NO_MODEL_NAME_CONFTEST)
        result = pytester.runpytest_subprocess(
            "--chatmodels-conformance", "--chatmodels-requirements", "CORE", *FAST
        )
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        report = pytester.path / "reports" / "chatmodels-conformance.json"
        capsys.readouterr()
        assert cli_main(["gate", str(report), "--level", "must"]) == 1
        failing = _report(pytester.path)["failing_ids"]
        assert failing
        assert any(rid in capsys.readouterr().out for rid in failing)
