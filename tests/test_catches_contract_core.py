"""The contract suite, part one, fails each broken provider on exactly its requirement."""

from __future__ import annotations

import importlib

import pytest

from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.conformance.session import SUITES_DIR

AREAS = "CORE,ASYNC,STREAM,BATCH,MSG,OPT,USAGE"
OURS = {r.id for r in CATALOGUE if r.area in AREAS.split(",")}

#: (requirement, broken provider in broken_contract_core, requirements it documentedly also fails)
CASES = [
    ("CORE-001", "EmptyAnswerProvider", set()),
    ("CORE-002", "ToolCallsFinishWithoutCallsProvider", set()),
    ("CORE-003", "UnnamedModelProvider", set()),
    ("CORE-004", "NoResponseIdProvider", set()),
    # abatch is built on ainvoke, so it loses usage too.
    ("ASYNC-001", "AsyncDropsUsageProvider", {"ASYNC-003"}),
    ("ASYNC-002", "AsyncStreamDropsLastDeltaProvider", set()),
    ("ASYNC-003", "AbatchIgnoresOptionsProvider", set()),
    ("ASYNC-004", "RefusesSyncInAsyncioThreadsProvider", set()),
    ("ASYNC-005", "BlockingAinvokeProvider", set()),
    ("STREAM-001", "StripsDeltasProvider", set()),
    ("STREAM-002", "RepeatsFinishReasonProvider", set()),
    ("STREAM-003", "UsageOnEveryChunkProvider", set()),
    ("STREAM-004", "NewIdPerChunkProvider", set()),
    ("STREAM-005", "EmptyKeepAliveChunksProvider", set()),
    ("STREAM-006", "AbandonedStreamHoldsConnectionProvider", set()),
    ("STREAM-007", "ToolDeltaIndexPerFragmentProvider", set()),
    ("BATCH-001", "BatchInCompletionOrderProvider", set()),
    ("BATCH-002", "BatchFailsFastProvider", set()),
    ("BATCH-003", "EmptyBatchCrashesProvider", set()),
    ("MSG-001", "RejectsAssistantTurnsProvider", set()),
    ("MSG-002", "RejectsSystemMessagesProvider", set()),
    ("MSG-003", "SplitsUtf8InStreamsProvider", set()),
    ("MSG-004", "IndexesEmptyConversationProvider", set()),
    ("MSG-005", "EmptyContentIsValueErrorProvider", set()),
    ("MSG-006", "UnknownRoleIsKeyErrorProvider", set()),
    ("MSG-007", "VagueInputLimitProvider", set()),
    ("OPT-001", "IgnoresMaxTokensProvider", set()),
    ("OPT-002", "KeepsStopSequenceProvider", set()),
    ("OPT-003", "ClampsOptionsProvider", set()),
    ("OPT-004", "IgnoresUnknownExtraProvider", set()),
    ("USAGE-001", "TotalOffByOneProvider", set()),
    ("USAGE-002", "FixedInputTokensProvider", set()),
    ("USAGE-003", "ZeroOutputTokensProvider", set()),
]


#: Imported once here so each in-process run (which restores sys.modules) skips re-importing
#: them; with PYTHONDONTWRITEBYTECODE set that re-import dominates a run's time.
_WARM_MODULES = (
    "hypothesis",
    "jinja2",
    "jsonschema",
    "opentelemetry.sdk.metrics",
    "opentelemetry.sdk.trace",
    "chatmodels.conformance.fixtures",
    "chatmodels.conformance.report",
    "chatmodels.conformance.session",
    "chatmodels.providers.reference",
)


@pytest.fixture(scope="module", autouse=True)
def _warm_imports() -> None:
    """Import what every suite run needs (suite modules too) before runs snapshot sys.modules."""
    for name in _WARM_MODULES:
        importlib.import_module(name)
    for path in sorted(SUITES_DIR.glob("suite_*.py")):
        try:
            importlib.import_module(f"chatmodels.conformance.suites.{path.stem}")
        except Exception:  # the in-process run reports a broken suite module itself
            continue


def _area(requirement_id: str) -> str:
    return requirement_id.split("-")[0]


class TestCatchesContractCore:
    @pytest.mark.parametrize(
        ("requirement_id", "broken", "also"),
        [pytest.param(r, b, a, id=r, marks=pytest.mark.catches(r)) for r, b, a in CASES],
    )
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
        assert {r for r, _, _ in CASES} == OURS

    def test_reference_passes_every_requirement(self, run_conformance):
        """The reference provider passes every requirement of this part of the suite."""
        run = run_conformance(None, "--chatmodels-requirements", AREAS)
        run.assert_all_pass()
        passed = {r for r, s in run.statuses.items() if s == "passed"}
        assert passed >= OURS, f"not passed: {sorted(OURS - passed)}; {run.statuses}"
