"""The contract suite, part one, fails each broken provider on exactly its requirement."""

from __future__ import annotations

import pytest

import broken_contract_core
from chatmodels.conformance.requirements import CATALOGUE
from scaffold import Case, check_covers, declared, params
from test_catches_gaps import CAUGHT_HERE

AREAS = "CORE,ASYNC,STREAM,BATCH,MSG,OPT,USAGE"
OURS = {r.id for r in CATALOGUE if r.area in AREAS.split(",")} - CAUGHT_HERE


#: Every broken provider broken_contract_core declares, with the requirement it catches.
CASES = declared(broken_contract_core)


class TestCatchesContractCore:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance, case: Case) -> None:
        """The broken provider fails its requirement and nothing else in that area."""
        run = run_conformance(case.target, "--chatmodels-requirements", case.selected, *case.args)
        case.check(run)

    def test_every_requirement_has_a_catching_case(self):
        """Each requirement of this part of the catalogue has a broken provider declared."""
        check_covers(CASES, OURS, "tests/catches/broken_contract_core.py")

    def test_reference_passes_every_requirement(self, run_conformance):
        """The reference provider passes every requirement of this part of the suite."""
        run = run_conformance(None, "--chatmodels-requirements", AREAS)
        run.assert_all_pass()
        passed = {r for r, s in run.statuses.items() if s == "passed"}
        assert passed >= OURS, f"not passed: {sorted(OURS - passed)}; {run.statuses}"
