"""The contract suite, part two, fails each deliberately broken provider on its requirement."""

from __future__ import annotations

import hypothesis.strategies  # noqa: F401  (imported once here, not again by every inner run)
import jsonschema  # noqa: F401
import pytest

from chatmodels.conformance.requirements import CATALOGUE
from test_catches_gaps import CAUGHT_HERE

AREAS = ("TOOLS", "JSON", "ERR", "HEALTH", "META", "LIFE", "CANCEL", "TIMEOUT", "FUZZ")
REQUIREMENTS = [r for r in CATALOGUE if r.area in AREAS]

#: (requirement, broken provider in broken_contract_features, the areas run, also failing)
CASES: tuple[tuple[str, str, str, frozenset[str]], ...] = (
    ("TOOLS-001", "BadToolArguments", "TOOLS", frozenset()),
    ("TOOLS-002", "ToolCallsFinishWithStop", "TOOLS", frozenset()),
    ("TOOLS-003", "IgnoresNamedToolChoice", "TOOLS", frozenset()),
    ("TOOLS-004", "IgnoresToolChoiceNone", "TOOLS", frozenset()),
    ("TOOLS-005", "CallsAnsweredToolAgain", "TOOLS", frozenset()),
    ("TOOLS-006", "TreatsRequiredAsAuto", "TOOLS", frozenset()),
    ("TOOLS-007", "StreamMergesParallelCalls", "TOOLS", frozenset()),
    ("TOOLS-008", "EmptyArgumentsForNoParameterTool", "TOOLS", frozenset()),
    ("TOOLS-009", "AsciiEscapedArguments", "TOOLS", frozenset()),
    ("JSON-001", "IgnoresJsonMode", "JSON", frozenset()),
    ("JSON-002", "StreamDropsJsonChunk", "JSON", frozenset()),
    ("ERR-001", "BareKeyErrorOnUnknownRole", "ERR", frozenset()),
    ("ERR-002", "RetryableInvalidInput", "ERR", frozenset()),
    ("ERR-003", "LeaksApiKey", "ERR", frozenset()),
    # A hung health check leaves HEALTH-002 nothing to judge: it is inconclusive, not failed.
    ("HEALTH-001", "HangingHealthCheck", "HEALTH", frozenset()),
    ("HEALTH-002", "MalformedHealthStatus", "HEALTH", frozenset()),
    ("META-001", "DeclaresUsageWithoutIt", "META", frozenset()),
    ("META-002", "SilentlyIgnoresJsonMode", "META", frozenset()),
    ("META-003", "EmptyVersion", "META", frozenset()),
    ("LIFE-001", "CloseTwiceRaises", "LIFE", frozenset()),
    # The context-manager checks detect closing by a 'closed' error, which this model never raises.
    ("LIFE-002", "UsableAfterClose", "LIFE", frozenset({"LIFE-003", "LIFE-004"})),
    ("LIFE-003", "WithDoesNotClose", "LIFE", frozenset()),
    ("LIFE-004", "AsyncWithDoesNotClose", "LIFE", frozenset()),
    ("CANCEL-001", "BlockingAsyncSleep", "CANCEL", frozenset()),
    ("CANCEL-002", "StuckAfterCancel", "CANCEL", frozenset()),
    ("TIMEOUT-001", "SyncIgnoresTimeout", "TIMEOUT", frozenset()),
    ("TIMEOUT-002", "AsyncIgnoresTimeout", "TIMEOUT", frozenset()),
    ("FUZZ-001", "InvokeEncodesAscii", "FUZZ", frozenset()),
    ("FUZZ-002", "InvokeAssertsTemperature", "FUZZ", frozenset()),
    ("FUZZ-003", "StreamEncodesAscii", "FUZZ", frozenset()),
)


def _case(requirement_id: str, provider: str, areas: str, also: frozenset[str]) -> object:
    return pytest.param(
        requirement_id,
        provider,
        areas,
        also,
        id=requirement_id,
        marks=pytest.mark.catches(requirement_id),
    )


class TestCatchesContractFeatures:
    @pytest.mark.parametrize(
        ("requirement_id", "provider", "areas", "also"), [_case(*c) for c in CASES]
    )
    def test_broken_provider_is_caught(
        self, run_conformance, requirement_id: str, provider: str, areas: str, also: frozenset[str]
    ) -> None:
        """The broken provider fails exactly its requirement (or the documented few) in its area."""
        run = run_conformance(
            f"broken_contract_features:{provider}", "--chatmodels-requirements", areas
        )
        run.assert_caught(requirement_id, also=also)

    @pytest.mark.catches("CANCEL-001")
    def test_cancellation_turned_into_an_error_is_caught(self, run_conformance) -> None:
        """ChatCancelledError in place of asyncio.CancelledError fails CANCEL-001, as CONC-005."""
        run = run_conformance(
            "broken_concurrency:TurnsCancellationIntoError", "--chatmodels-requirements", "CANCEL"
        )
        run.assert_caught("CANCEL-001")
        assert any("expected asyncio.CancelledError" in m for m in run.messages["CANCEL-001"])

    def test_every_requirement_has_a_case(self) -> None:
        """Each part-two requirement is matched by one broken provider above."""
        assert sorted(c[0] for c in CASES) == sorted(
            r.id for r in REQUIREMENTS if r.id not in CAUGHT_HERE
        )

    def test_reference_passes_part_two(self, run_conformance) -> None:
        """The reference provider passes every part-two requirement."""
        run = run_conformance(None, "--chatmodels-requirements", ",".join(AREAS))
        run.assert_all_pass()
        assert {r.id for r in REQUIREMENTS} - set(run.statuses) <= {"ERR-003"}, run.statuses
