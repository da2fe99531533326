"""The contract suite, part two, fails each deliberately broken provider on its requirement."""

from __future__ import annotations

import hypothesis.strategies  # noqa: F401  (imported once here, not again by every inner run)
import jsonschema  # noqa: F401
import pytest

import broken_contract_features
from chatmodels.conformance.requirements import CATALOGUE
from scaffold import Case, check_covers, declared, params
from test_catches_gaps import CAUGHT_HERE

AREAS = ("TOOLS", "JSON", "ERR", "HEALTH", "META", "LIFE", "CANCEL", "TIMEOUT", "FUZZ")
REQUIREMENTS = [r for r in CATALOGUE if r.area in AREAS]

#: Every broken provider broken_contract_features declares; a case runs its own area.
CASES = declared(broken_contract_features)


class TestCatchesContractFeatures:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance, case: Case) -> None:
        """The broken provider fails exactly its requirement (or the documented few) in its area."""
        run = run_conformance(case.target, "--chatmodels-requirements", case.selected, *case.args)
        case.check(run)

    @pytest.mark.catches("CANCEL-001")
    def test_cancellation_turned_into_an_error_is_caught(self, run_conformance) -> None:
        """ChatCancelledError in place of asyncio.CancelledError fails CANCEL-001, as CONC-005."""
        run = run_conformance(
            "broken_concurrency:TurnsCancellationIntoError", "--chatmodels-requirements", "CANCEL"
        )
        run.assert_caught("CANCEL-001")
        assert any("expected asyncio.CancelledError" in m for m in run.messages["CANCEL-001"])

    def test_every_requirement_has_a_case(self) -> None:
        """Each part-two requirement is matched by one declared broken provider."""
        ours = {r.id for r in REQUIREMENTS} - CAUGHT_HERE
        check_covers(CASES, ours, "tests/catches/broken_contract_features.py")

    def test_reference_passes_part_two(self, run_conformance) -> None:
        """The reference provider passes every part-two requirement."""
        run = run_conformance(None, "--chatmodels-requirements", ",".join(AREAS))
        run.assert_all_pass()
        assert {r.id for r in REQUIREMENTS} - set(run.statuses) <= {"ERR-003"}, run.statuses
