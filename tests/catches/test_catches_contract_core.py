"""The contract suite, part one, fails each broken provider on exactly its requirement."""

from __future__ import annotations

from typing import Any

import pytest

from chatmodels.conformance.requirements import CATALOGUE
from test_catches_gaps import CAUGHT_HERE

AREAS = "CORE,ASYNC,STREAM,BATCH,MSG,OPT,USAGE"
OURS = {r.id for r in CATALOGUE if r.area in AREAS.split(",")} - CAUGHT_HERE


def _case(catches: pytest.MarkDecorator, broken: str, *also: str) -> Any:
    """One broken provider and the requirement its ``catches`` marker names."""
    requirement_id = catches.args[0]
    return pytest.param(requirement_id, broken, set(also), id=requirement_id, marks=catches)


#: Each broken provider in broken_contract_core, the requirement it fails, and documented others.
CASES = [
    _case(pytest.mark.catches("CORE-001"), "EmptyAnswerProvider"),
    _case(pytest.mark.catches("CORE-002"), "ToolCallsFinishWithoutCallsProvider"),
    _case(pytest.mark.catches("CORE-003"), "UnnamedModelProvider"),
    _case(pytest.mark.catches("CORE-004"), "NoResponseIdProvider"),
    # abatch is built on ainvoke, so it loses usage too.
    _case(pytest.mark.catches("ASYNC-001"), "AsyncDropsUsageProvider", "ASYNC-003"),
    _case(pytest.mark.catches("ASYNC-002"), "AsyncStreamDropsLastDeltaProvider"),
    _case(pytest.mark.catches("ASYNC-003"), "AbatchIgnoresOptionsProvider"),
    _case(pytest.mark.catches("ASYNC-004"), "RefusesSyncInAsyncioThreadsProvider"),
    _case(pytest.mark.catches("ASYNC-005"), "BlockingAinvokeProvider"),
    _case(pytest.mark.catches("STREAM-001"), "StripsDeltasProvider"),
    _case(pytest.mark.catches("STREAM-002"), "RepeatsFinishReasonProvider"),
    _case(pytest.mark.catches("STREAM-003"), "UsageOnEveryChunkProvider"),
    _case(pytest.mark.catches("STREAM-004"), "NewIdPerChunkProvider"),
    _case(pytest.mark.catches("STREAM-005"), "EmptyKeepAliveChunksProvider"),
    _case(pytest.mark.catches("STREAM-006"), "AbandonedStreamHoldsConnectionProvider"),
    _case(pytest.mark.catches("STREAM-007"), "ToolDeltaIndexPerFragmentProvider"),
    _case(pytest.mark.catches("BATCH-001"), "BatchInCompletionOrderProvider"),
    _case(pytest.mark.catches("BATCH-002"), "BatchFailsFastProvider"),
    _case(pytest.mark.catches("BATCH-003"), "EmptyBatchCrashesProvider"),
    _case(pytest.mark.catches("MSG-001"), "RejectsAssistantTurnsProvider"),
    # Refusing system messages also keeps them from the model, which MSG-008 checks.
    _case(pytest.mark.catches("MSG-002"), "RejectsSystemMessagesProvider", "MSG-008"),
    _case(pytest.mark.catches("MSG-003"), "SplitsUtf8InStreamsProvider"),
    _case(pytest.mark.catches("MSG-004"), "IndexesEmptyConversationProvider"),
    _case(pytest.mark.catches("MSG-005"), "EmptyContentIsValueErrorProvider"),
    _case(pytest.mark.catches("MSG-006"), "UnknownRoleIsKeyErrorProvider"),
    _case(pytest.mark.catches("MSG-007"), "VagueInputLimitProvider"),
    _case(pytest.mark.catches("OPT-001"), "IgnoresMaxTokensProvider"),
    _case(pytest.mark.catches("OPT-002"), "KeepsStopSequenceProvider"),
    _case(pytest.mark.catches("OPT-003"), "ClampsOptionsProvider"),
    _case(pytest.mark.catches("OPT-004"), "IgnoresUnknownExtraProvider"),
    _case(pytest.mark.catches("OPT-005"), "IgnoresModelOverrideProvider"),
    _case(pytest.mark.catches("USAGE-001"), "TotalOffByOneProvider"),
    _case(pytest.mark.catches("USAGE-002"), "FixedInputTokensProvider"),
    _case(pytest.mark.catches("USAGE-003"), "ZeroOutputTokensProvider"),
]


#: Imported once here so each in-process run (which restores sys.modules) skips re-importing
#: them; with PYTHONDONTWRITEBYTECODE set that re-import dominates a run's time.
def _area(requirement_id: str) -> str:
    return requirement_id.split("-")[0]


class TestCatchesContractCore:
    @pytest.mark.parametrize(("requirement_id", "broken", "also"), CASES)
    def test_broken_provider_is_caught(self, run_conformance, requirement_id, broken, also):
        """The broken provider fails its requirement and nothing else in that area."""
        run = run_conformance(
            f"broken_contract_core:{broken}",
            "--chatmodels-requirements",
            _area(requirement_id),
        )
        run.assert_caught(requirement_id, also=also)

    @pytest.mark.catches("STREAM-003")
    def test_stream_usage_differing_from_invoke_is_caught(self, run_conformance):
        """A stream whose final usage differs from invoke's fails STREAM-003."""
        run = run_conformance(
            "broken_contract_core:StreamUsageOffByOneProvider",
            "--chatmodels-requirements",
            "STREAM",
        )
        run.assert_caught("STREAM-003")

    @pytest.mark.catches("STREAM-002")
    def test_trailing_chunk_after_finish_is_caught(self, run_conformance):
        """An empty chunk after the finish chunk fails STREAM-002, STREAM-005 and STREAM-003.

        The finish reason and usage are no longer on the last chunk, and the last is empty.
        """
        run = run_conformance(
            "broken_contract_core:TrailingChunkAfterFinishProvider",
            "--chatmodels-requirements",
            "STREAM",
        )
        run.assert_caught("STREAM-002", also={"STREAM-003", "STREAM-005"})

    @pytest.mark.catches("OPT-004")
    def test_undeclared_json_mode_ignored_is_caught(self, run_conformance):
        """A provider that does not declare json_mode yet ignores it fails OPT-004."""
        run = run_conformance(
            "broken_contract_core:IgnoresUndeclaredJsonModeProvider",
            "--chatmodels-requirements",
            "OPT",
        )
        run.assert_caught("OPT-004")

    def test_every_requirement_has_a_catching_case(self):
        """Each requirement of this part of the catalogue has a broken provider above."""
        assert {case.values[0] for case in CASES} == OURS

    def test_reference_passes_every_requirement(self, run_conformance):
        """The reference provider passes every requirement of this part of the suite."""
        run = run_conformance(None, "--chatmodels-requirements", AREAS)
        run.assert_all_pass()
        passed = {r for r, s in run.statuses.items() if s == "passed"}
        assert passed >= OURS, f"not passed: {sorted(OURS - passed)}; {run.statuses}"
