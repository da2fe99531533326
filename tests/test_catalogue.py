"""The catalogue's rules: every requirement tested and caught, IDs frozen per suite version."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from chatmodels.conformance.requirements import CATALOGUE, SUITE_VERSION, Level

TESTS = Path(__file__).parent
ROOT = TESTS.parent
GOLDEN = TESTS / "golden_requirements.txt"


def _golden_lines() -> list[str]:
    lines = [f"suite_version {SUITE_VERSION}"]
    for r in CATALOGUE:
        capability = r.capability.value if r.capability else "-"
        lines.append(f"{r.id} {r.level.value} {capability}")
    return lines


@pytest.fixture(scope="module")
def suite_items(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, list[str]]]:
    """Collect the shipped suites once and return (nodeid, requirement ids) per test."""
    import subprocess
    import sys

    where = tmp_path_factory.mktemp("collect")
    script = (
        "import json, pytest\n"
        "class P:\n"
        "    items = []\n"
        "    def pytest_collection_finish(self, session):\n"
        "        for i in session.items:\n"
        "            ids = [a for m in i.iter_markers('requirement') for a in m.args]\n"
        "            self.items.append([i.nodeid, ids])\n"
        "p = P()\n"
        "pytest.main(['--chatmodels-conformance', '--co', '-q', '-p', 'no:cacheprovider'],"
        " plugins=[p])\n"
        "print('ITEMS' + json.dumps(p.items))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=where, capture_output=True, text=True, timeout=120
    )
    import json

    for line in out.stdout.splitlines():
        if line.startswith("ITEMS"):
            return [(n, ids) for n, ids in json.loads(line[5:])]
    raise AssertionError(out.stdout + out.stderr)


def _collected_markers(paths: list[Path], marker: str) -> list[str]:
    """The first argument of every *marker* on the tests collected from *paths*."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys, pytest\n"
        "class P:\n"
        "    found = []\n"
        "    def pytest_collection_finish(self, session):\n"
        "        for i in session.items:\n"
        f"            self.found += [m.args[0] for m in i.iter_markers({marker!r})]\n"
        "p = P()\n"
        "pytest.main(['--co', '-q', '-p', 'no:cacheprovider', *sys.argv[1:]], plugins=[p])\n"
        "print('FOUND' + json.dumps(p.found))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    for line in out.stdout.splitlines():
        if line.startswith("FOUND"):
            return list(json.loads(line[5:]))
    raise AssertionError(out.stdout + out.stderr)


class TestCatalogue:
    def test_ids_are_unique_and_well_formed(self) -> None:
        """Every ID is AREA-NNN and appears once."""
        counts = Counter(CATALOGUE.ids)
        assert all(n == 1 for n in counts.values())
        assert all(re.fullmatch(r"[A-Z]+-\d{3}", i) for i in CATALOGUE.ids)

    def test_every_requirement_has_a_title_rationale_and_level(self) -> None:
        """Each entry carries a one-line title and a real rationale."""
        for r in CATALOGUE:
            assert r.title, r.id
            assert "\n" not in r.title, r.id
            assert len(r.rationale) >= 20, r.id
            assert isinstance(r.level, Level)

    def test_the_contract_suite_has_at_least_45_requirements(self) -> None:
        """The contract areas hold at least 45 requirements."""
        contract = {
            "CORE", "ASYNC", "STREAM", "BATCH", "MSG", "OPT", "USAGE", "TOOLS", "JSON",
            "ERR", "HEALTH", "META", "LIFE", "CANCEL", "TIMEOUT", "FUZZ",
        }  # fmt: skip
        assert sum(1 for r in CATALOGUE if r.area in contract) >= 45

    def test_every_requirement_has_a_suite_test(
        self, suite_items: list[tuple[str, list[str]]]
    ) -> None:
        """No requirement is left without at least one test in the suites."""
        tested = {i for _, ids in suite_items for i in ids}
        assert set(CATALOGUE.ids) - tested == set()

    def test_every_suite_test_names_exactly_one_requirement(
        self, suite_items: list[tuple[str, list[str]]]
    ) -> None:
        """Each collected suite test carries one requirement marker with a catalogue ID."""
        assert suite_items
        for nodeid, ids in suite_items:
            assert len(ids) == 1, nodeid
            assert ids[0] in CATALOGUE, nodeid

    def test_every_requirement_has_a_catching_broken_provider(self) -> None:
        """Each ID is named by a ``catches`` marker on a collected tests/test_catches_*.py test."""
        caught = set(_collected_markers(sorted(TESTS.glob("test_catches_*.py")), "catches"))
        assert set(CATALOGUE.ids) - caught == set()

    def test_ids_and_levels_match_the_golden_list(self) -> None:
        """Changing an ID, level or capability needs a suite-version bump and a new golden list."""
        golden = GOLDEN.read_text().splitlines()
        current = _golden_lines()
        if golden[0] == current[0]:
            assert golden == current, (
                "the catalogue changed without a SUITE_VERSION bump; bump it in "
                "requirements.py, then regenerate tests/golden_requirements.txt"
            )
        else:
            assert golden == current, "SUITE_VERSION was bumped: regenerate the golden list"

    def test_spec_md_is_fresh(self) -> None:
        """conformance/SPEC.md is what `chatmodels-conformance spec` renders now."""
        from chatmodels.conformance.cli import main

        assert main(["spec", "--check", str(ROOT / "conformance" / "SPEC.md")]) == 0
