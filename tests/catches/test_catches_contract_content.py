"""The contract suite beyond plain text fails each broken provider on exactly its requirement."""

from __future__ import annotations

import jsonschema  # noqa: F401  (imported once here, not again by every inner run)
import pytest

from chatmodels.conformance.requirements import CATALOGUE

AREAS = ("SCHEMA", "VISION", "REASON")
REQUIREMENTS = [r for r in CATALOGUE if r.area in AREAS]

#: (requirement, broken provider in broken_contract_content, the areas run)
CASES: tuple[tuple[str, str, str], ...] = (
    ("SCHEMA-001", "InvokeIgnoresSchema", "SCHEMA"),
    ("SCHEMA-002", "StreamDropsStructuredChunk", "SCHEMA"),
    ("VISION-001", "DropsImages", "VISION,META"),
    ("REASON-001", "ReasoningInContent", "REASON"),
    ("REASON-002", "ReasoningTokensUnreported", "REASON"),
    ("META-002", "SilentlyDropsImages", "VISION,META"),
)


class TestCatchesContractContent:
    @pytest.mark.parametrize(
        ("requirement_id", "provider", "areas"),
        [pytest.param(*c, id=f"{c[0]}-{c[1]}", marks=pytest.mark.catches(c[0])) for c in CASES],
    )
    def test_broken_provider_is_caught(
        self, run_conformance, requirement_id: str, provider: str, areas: str
    ) -> None:
        """The broken provider fails exactly its requirement in the areas run."""
        run = run_conformance(
            f"broken_contract_content:{provider}", "--chatmodels-requirements", areas
        )
        run.assert_caught(requirement_id)

    def test_every_requirement_has_a_case(self) -> None:
        """Each requirement of these areas is matched by one broken provider above."""
        assert {r.id for r in REQUIREMENTS} <= {c[0] for c in CASES}

    def test_reference_passes(self, run_conformance) -> None:
        """The reference provider passes every requirement of these areas, META included."""
        run = run_conformance(None, "--chatmodels-requirements", ",".join((*AREAS, "META")))
        run.assert_all_pass()
        assert {r.id for r in REQUIREMENTS} <= set(run.statuses), run.statuses
