"""The contract suite beyond plain text fails each broken provider on exactly its requirement."""

from __future__ import annotations

import jsonschema  # noqa: F401  (imported once here, not again by every inner run)
import pytest

import broken_contract_content
from chatmodels.conformance.requirements import CATALOGUE
from scaffold import Case, caught, declared, params

AREAS = ("SCHEMA", "VISION", "REASON")
REQUIREMENTS = [r for r in CATALOGUE if r.area in AREAS]

#: Every broken provider broken_contract_content declares; a case runs its own area.
CASES = declared(broken_contract_content)


class TestCatchesContractContent:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance, case: Case) -> None:
        """The broken provider fails exactly its requirement in the areas run."""
        run = run_conformance(case.target, "--chatmodels-requirements", case.selected, *case.args)
        case.check(run)

    def test_every_requirement_has_a_case(self) -> None:
        """Each requirement of these areas is matched by one declared broken provider."""
        assert {r.id for r in REQUIREMENTS} <= caught(CASES)

    def test_reference_passes(self, run_conformance) -> None:
        """The reference provider passes every requirement of these areas, META included."""
        run = run_conformance(None, "--chatmodels-requirements", ",".join((*AREAS, "META")))
        run.assert_all_pass()
        assert {r.id for r in REQUIREMENTS} <= set(run.statuses), run.statuses
