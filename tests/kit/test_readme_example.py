"""The README's example provider, run as written, certifies: the docs promise what the kit says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"

FIXTURE = """

import pytest


@pytest.fixture(scope="session")
def chatmodels_provider():
    return EchoProvider
"""

#: Small loads: the example answers in microseconds, and the verdict does not depend on size.
SETTINGS = (
    "conc_threads=16",
    "conc_calls_per_thread=2",
    "conc_async_tasks=32",
    "conc_cancel_streams=20",
)


def example_code() -> str:
    """The README's python block that defines the example provider, exactly as printed."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if "class EchoModel" in block]
    assert len(found) == 1, f"expected one README block defining EchoModel, found {len(found)}"
    return found[0]


def certify(pytester: pytest.Pytester, *args: str) -> dict[str, object]:
    """Run the suites against the README example in a subprocess; return the JSON report."""
    pytester.makeconftest(example_code() + FIXTURE)
    settings = [a for value in SETTINGS for a in ("--chatmodels-setting", value)]
    pytester.runpytest_subprocess(
        "--chatmodels-conformance", "-p", "no:cacheprovider", *settings, *args
    )
    path = pytester.path / "reports" / "chatmodels-conformance.json"
    report: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return report


def not_passed(report: dict[str, object]) -> dict[str, str]:
    """Requirements run that neither passed nor were unsupported, with their messages."""
    requirements = report["requirements"]
    assert isinstance(requirements, list)
    return {
        r["id"]: f"{r['status']}: {r.get('message') or r.get('reason')}"
        for r in requirements
        if r["status"] not in ("passed", "unsupported", "not_run")
    }


class TestReadmeExample:
    def test_example_keeps_the_contract(self, pytester: pytest.Pytester) -> None:
        """Contract and concurrency suites pass the example with nothing failed or inconclusive.

        Its unique response ids keep CONC-002, BaseChatModel gives its errors op and provider
        (ERR-001) and refuses empty user content for it (MSG-005).
        """
        report = certify(pytester, "--chatmodels-suite", "contract,concurrency")
        left = not_passed(report)
        assert set(left) <= {"ERR-003"}, left  # ERR-003 needs a secret option; the echo has none
        for requirement in ("CONC-002", "ERR-001", "MSG-005"):
            assert requirement not in left

    @pytest.mark.slow
    def test_example_certifies_at_should(self, pytester: pytest.Pytester) -> None:
        """Every suite, as a new user runs them, gives the README example 'conformant at SHOULD'.

        Its calls take microseconds, all CPU: PERF-005 judges them on CPU per call beside a
        baseline of the same profile, so the verdict is a real pass, not inconclusive.
        """
        report = certify(pytester)
        assert report["verdict"] == "conformant at SHOULD", not_passed(report)
        requirements = report["requirements"]
        assert isinstance(requirements, list)
        perf = next(r for r in requirements if r["id"] == "PERF-005")
        assert perf["status"] == "passed", perf
