"""The catalogue's rules: every requirement tested and caught, IDs frozen per suite version.

Each failure names the file to edit; ``python tools/regenerate.py`` rewrites the one generated
file, ``conformance/SPEC.md``, which also records the suite version and its version digest.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections import Counter
from pathlib import Path

import pytest

import chatmodels.conformance.catalogue as catalogue_package
from chatmodels.conformance.requirements import CATALOGUE, SUITE_VERSION, Level
from chatmodels.conformance.spec import recorded_version, render_spec, suite_tests

TESTS = Path(__file__).parents[1]
CATCHES = TESTS / "catches"
ROOT = TESTS.parent
SPEC = ROOT / "conformance" / "SPEC.md"
CATALOGUE_DIR = "src/chatmodels/conformance/catalogue"
REGENERATE = "python tools/regenerate.py"
#: Where an area's broken behaviours are declared when not in tests/catches/broken_<area>.py:
#: the fault server's defect plans, each mapping a defect to the WIRE requirement it breaks.
_FAULTS = "src/chatmodels/conformance/faults"
_PLANS = {
    "wire": f"{_FAULTS}/_wire_defects.py (WIRE_DEFECTS)",
    "wire_messages": f"{_FAULTS}/_messages_defects.py (MESSAGES_WIRE_DEFECTS)",
    "wire_responses": f"{_FAULTS}/_responses_defects.py (RESPONSES_WIRE_DEFECTS)",
}


def _area_modules() -> dict[str, str]:
    """Requirement ID -> the ``catalogue/<area>.py`` module name that defines it."""
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(catalogue_package.__path__):
        module = importlib.import_module(f"{catalogue_package.__name__}.{info.name}")
        for requirement in getattr(module, "REQUIREMENTS", ()):
            found[requirement.id] = info.name
    return found


def _where(requirement_id: str) -> str:
    return _area_modules().get(requirement_id, "<area>")


def _missing_suite_test(requirement_id: str) -> str:
    area = _where(requirement_id)
    return (
        f"{requirement_id} has no suite test: add a test marked "
        f"@pytest.mark.requirement({requirement_id!r}) to "
        f"src/chatmodels/conformance/suites/suite_{area}_*.py"
    )


def _missing_catch(requirement_id: str) -> str:
    area = _where(requirement_id)
    if area in _PLANS:
        return (
            f"{requirement_id} has no catching defect: add a defect that breaks exactly it to "
            f"{_PLANS[area]}, mapped to {requirement_id!r}, and make the server play it"
        )
    return (
        f"{requirement_id} has no catching broken provider: in tests/catches/broken_{area}.py, "
        f"declare one that fails exactly it: `XProvider = broken(X, catches={requirement_id!r})` "
        "(CONTRIBUTING.md, step 3)"
    )


def _fail_if(problems: list[str]) -> None:
    """Fail with one line per problem and no assertion rewrite, so each names its fix."""
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


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
        [sys.executable, "-c", script], cwd=where, capture_output=True, text=True, timeout=600
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
        bad = [
            f"{i} ({_where(i)}): IDs look like AREA-NNN and appear once; rename it in "
            f"{CATALOGUE_DIR}/{_where(i)}.py"
            for i in CATALOGUE.ids
            if counts[i] != 1 or not re.fullmatch(r"[A-Z]+-\d{3}", i)
        ]
        _fail_if(bad)

    def test_every_requirement_has_a_title_rationale_and_level(self) -> None:
        """Each entry carries a one-line title and a real rationale."""
        bad = []
        for r in CATALOGUE:
            where = f"{r.id} in {CATALOGUE_DIR}/{_where(r.id)}.py"
            if not r.title or "\n" in r.title:
                bad.append(f"{where}: give it a one-line title")
            if len(r.rationale) < 20:
                bad.append(f"{where}: give it a rationale of at least 20 characters")
            if not isinstance(r.level, Level):
                bad.append(f"{where}: its level must be Level.MUST, SHOULD or MAY")
        _fail_if(bad)

    def test_the_contract_suite_has_at_least_45_requirements(self) -> None:
        """The contract areas hold at least 45 requirements."""
        contract = {
            "CORE", "ASYNC", "STREAM", "BATCH", "MSG", "OPT", "USAGE", "TOOLS", "JSON",
            "ERR", "HEALTH", "META", "LIFE", "CANCEL", "TIMEOUT", "FUZZ",
        }  # fmt: skip
        count = sum(1 for r in CATALOGUE if r.area in contract)
        if count < 45:
            pytest.fail(
                f"only {count} contract requirements; keep at least 45 in {CATALOGUE_DIR}/"
                "contract_*.py",
                pytrace=False,
            )

    def test_every_requirement_has_a_suite_test(
        self, suite_items: list[tuple[str, list[str]]]
    ) -> None:
        """No requirement is left without at least one test in the suites."""
        tested = {i for _, ids in suite_items for i in ids}
        missing = [i for i in CATALOGUE.ids if i not in tested]
        _fail_if([_missing_suite_test(i) for i in missing])

    def test_every_suite_test_names_exactly_one_requirement(
        self, suite_items: list[tuple[str, list[str]]]
    ) -> None:
        """Each collected suite test carries one requirement marker with a catalogue ID."""
        if not suite_items:
            pytest.fail(
                "no suite test was collected with --chatmodels-conformance --co: check "
                "src/chatmodels/conformance/suites/ and session.py's collection",
                pytrace=False,
            )
        bad = []
        for nodeid, ids in suite_items:
            if len(ids) != 1:
                bad.append(
                    f"{nodeid} is marked with {ids or 'no requirement'}: give it exactly one "
                    "@pytest.mark.requirement(ID)"
                )
            elif ids[0] not in CATALOGUE:
                bad.append(
                    f"{nodeid} names {ids[0]!r}, which is not in the catalogue: add its entry "
                    f"to {CATALOGUE_DIR}/<area>.py or correct the marker"
                )
        _fail_if(bad)

    def test_spec_names_the_suite_tests_pytest_collects(
        self, suite_items: list[tuple[str, list[str]]]
    ) -> None:
        """SPEC.md's "Checked by" lists, per requirement, exactly the collected suite tests."""
        collected: dict[str, set[str]] = {}
        for nodeid, ids in suite_items:
            for requirement_id in ids:
                collected.setdefault(requirement_id, set()).add(nodeid.split("[")[0])
        named = {i: set(tests) for i, tests in suite_tests().items()}
        bad = [
            f"{i}: SPEC.md names {sorted(named.get(i, ()))}, pytest collects "
            f"{sorted(collected.get(i, ()))}; keep @pytest.mark.requirement a plain decorator "
            "on the test function or class (chatmodels/conformance/spec.py reads it)"
            for i in CATALOGUE.ids
            if named.get(i, set()) != collected.get(i, set())
        ]
        _fail_if(bad)

    def test_every_requirement_has_a_catching_broken_provider(self) -> None:
        """Each ID is named by a ``catches`` marker on a test of catches/test_catches_*.py."""
        caught = set(_collected_markers(sorted(CATCHES.glob("test_catches_*.py")), "catches"))
        missing = [i for i in CATALOGUE.ids if i not in caught]
        _fail_if([_missing_catch(i) for i in missing])

    def test_ids_and_levels_match_the_recorded_version(self) -> None:
        """Changing an ID, level or capability under SPEC.md's suite version needs a bump."""
        text = SPEC.read_text(encoding="utf-8") if SPEC.exists() else ""
        recorded = recorded_version(text)
        if recorded is None:
            pytest.fail(
                f"conformance/SPEC.md records no suite version: run {REGENERATE}", pytrace=False
            )
        version, digest = recorded
        if version == SUITE_VERSION and digest != CATALOGUE.version_digest():
            pytest.fail(
                "IDs, levels or capabilities changed under suite version "
                f"{SUITE_VERSION} (conformance/SPEC.md records another version digest). If this "
                "round has not bumped it yet, set SUITE_VERSION in src/chatmodels/conformance/"
                f"requirements.py to the next version; then run: {REGENERATE}",
                pytrace=False,
            )

    def test_spec_md_is_fresh(self) -> None:
        """conformance/SPEC.md is what `chatmodels-conformance spec` renders now."""
        current = SPEC.read_text(encoding="utf-8") if SPEC.exists() else ""
        if current != render_spec():
            pytest.fail(f"conformance/SPEC.md is stale: run {REGENERATE}", pytrace=False)

    def test_area_modules_import_the_types_not_the_catalogue(self) -> None:
        """Area modules take Requirement, Level and Setting from catalogue/_types.py (no cycle)."""
        bad = [
            f"{CATALOGUE_DIR}/{path.name}: import Level, Requirement and Setting from "
            "chatmodels.conformance.catalogue._types, not from requirements.py"
            for path in sorted((ROOT / CATALOGUE_DIR).glob("*.py"))
            if "conformance.requirements import" in path.read_text(encoding="utf-8")
        ]
        _fail_if(bad)

    def test_each_area_module_imports_first_without_a_cycle(self) -> None:
        """Any catalogue module can be the first one imported; the catalogue is then complete."""
        import subprocess
        import sys

        names = [info.name for info in pkgutil.iter_modules(catalogue_package.__path__)]
        script = (
            "import importlib, sys\n"
            "for name in sys.argv[1:]:\n"
            "    for m in [m for m in sys.modules if m.startswith('chatmodels')]:\n"
            "        del sys.modules[m]\n"
            "    importlib.import_module('chatmodels.conformance.catalogue.' + name)\n"
            "    from chatmodels.conformance.requirements import CATALOGUE\n"
            "    print(name, len(CATALOGUE))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=120
        )
        if out.returncode or out.stdout.split() != [
            w for n in names for w in (n, str(len(CATALOGUE)))
        ]:
            pytest.fail(
                f"a module of {CATALOGUE_DIR} cannot be imported first, or leaves the catalogue "
                f"incomplete; import only catalogue/_types.py there:\n{out.stdout}{out.stderr}",
                pytrace=False,
            )
