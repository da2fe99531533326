"""The faults suite fails each deliberately broken HTTP provider on exactly its requirement."""

from __future__ import annotations

# In-process runs drop the modules they imported, but httpx caches its map of httpcore errors on
# first use; importing httpcore, the provider and the server here keeps one copy of each.
import httpcore  # noqa: F401
import pytest

import broken_faults  # noqa: F401
import chatmodels.conformance.faults  # noqa: F401
from chatmodels.conformance.requirements import CATALOGUE

OURS = {r.id for r in CATALOGUE if r.area == "FAULT"}

#: The fault suite re-points the provider at its own server; this address only has to parse.
OPTIONS = (
    "--chatmodels-option",
    "base_url=http://127.0.0.1:9/v1",
    "--chatmodels-option",
    "model=reference-echo",
    "--assert=plain",
)


def _case(requirement_id: str, broken: str, also: frozenset[str], catches: object) -> object:
    run = ",".join(sorted({requirement_id, *also}))
    return pytest.param(requirement_id, broken, run, also, id=broken, marks=catches)


#: (requirement, broken provider in broken_faults, documented extra failures, marker)
CASES = [
    _case(
        "FAULT-001", "AllClientErrorsInvalidInput", frozenset(), pytest.mark.catches("FAULT-001")
    ),
    # A bare KeyError also escapes the Retry-After retry, the load test and the one-off 429.
    _case(
        "FAULT-002",
        "RateLimitKeyError",
        frozenset({"FAULT-007", "FAULT-014", "FAULT-016"}),
        pytest.mark.catches("FAULT-002"),
    ),
    # Not retryable means the single 503 of FAULT-016 is not retried either.
    _case(
        "FAULT-003",
        "ServerErrorsNotRetryable",
        frozenset({"FAULT-016"}),
        pytest.mark.catches("FAULT-003"),
    ),
    _case("FAULT-004", "DisconnectAsServerError", frozenset(), pytest.mark.catches("FAULT-004")),
    _case("FAULT-005", "MalformedJsonEscapes", frozenset(), pytest.mark.catches("FAULT-005")),
    _case("FAULT-006", "RetriesServerErrorsForever", frozenset(), pytest.mark.catches("FAULT-006")),
    _case("FAULT-007", "IgnoresRetryAfter", frozenset(), pytest.mark.catches("FAULT-007")),
    _case("FAULT-008", "RetriesEverything", frozenset(), pytest.mark.catches("FAULT-008")),
    _case("FAULT-009", "NoTimeout", frozenset(), pytest.mark.catches("FAULT-009")),
    _case("FAULT-010", "CutStreamComplete", frozenset(), pytest.mark.catches("FAULT-010")),
    _case("FAULT-010", "InvokeReturnsPartial", frozenset(), pytest.mark.catches("FAULT-010")),
    _case("FAULT-011", "StaleConnectionAfterReset", frozenset(), pytest.mark.catches("FAULT-011")),
    _case("FAULT-012", "TrimsConversationOnRetry", frozenset(), pytest.mark.catches("FAULT-012")),
    _case("FAULT-013", "RejectsHugeBodies", frozenset(), pytest.mark.catches("FAULT-013")),
    _case("FAULT-014", "SharedRetryBody", frozenset(), pytest.mark.catches("FAULT-014")),
    _case("FAULT-014", "RetryBackoffHangs", frozenset(), pytest.mark.catches("FAULT-014")),
    _case("FAULT-015", "LeaksApiKey", frozenset(), pytest.mark.catches("FAULT-015")),
    _case("FAULT-016", "NeverRetries", frozenset(), pytest.mark.catches("FAULT-016")),
]


class TestCatchesFaults:
    @pytest.mark.parametrize(("requirement_id", "broken", "only", "also"), CASES)
    def test_broken_provider_is_caught(self, run_conformance, requirement_id, broken, only, also):
        """An openai provider with one fault-handling bug fails its requirement and no other."""
        # A provider without timeouts waits out the whole server latency: keep it short.
        latency = ("--chatmodels-setting", "fault_latency=1.0")
        run = run_conformance(
            f"broken_faults:{broken}", *OPTIONS, *latency, "--chatmodels-requirements", only
        )
        run.assert_caught(requirement_id, also=also)

    def test_a_load_that_stops_progressing_is_a_hang(self, run_conformance):
        """Calls stuck in a backoff past their deadline fail FAULT-014 once progress stops."""
        run = run_conformance(
            "broken_faults:RetryBackoffHangs",
            *OPTIONS,
            *("--chatmodels-setting", "fault_conc_timeout=3"),
            *("--chatmodels-requirements", "FAULT-014"),
        )
        assert run.statuses == {"FAULT-014": "failed"}, run.statuses
        message = "".join(run.messages["FAULT-014"])
        assert "made no progress for 3s" in message, message

    def test_every_requirement_has_a_catching_case(self):
        """Each FAULT requirement has at least one broken provider that fails it."""
        assert {c.values[0] for c in CASES} == OURS

    def test_openai_passes_the_whole_suite(self, run_conformance):
        """The bundled openai provider passes every fault requirement."""
        run = run_conformance(
            None, "--chatmodels-provider", "openai", *OPTIONS, "--chatmodels-suite", "faults"
        )
        run.assert_all_pass()
        assert set(run.statuses) == OURS, sorted(OURS - set(run.statuses))
        assert set(run.statuses.values()) == {"passed"}, run.statuses

    def test_anthropic_passes_the_whole_suite(self, run_conformance):
        """The bundled anthropic provider passes every fault requirement on /v1/messages."""
        run = run_conformance(
            None, "--chatmodels-provider", "anthropic", *OPTIONS, "--chatmodels-suite", "faults"
        )
        run.assert_all_pass()
        assert set(run.statuses) == OURS, sorted(OURS - set(run.statuses))
        assert set(run.statuses.values()) == {"passed"}, run.statuses

    def test_each_declared_protocol_must_pass(self, run_conformance):
        """A provider declaring a protocol it does not speak fails, though the other passes."""
        run = run_conformance(
            None,
            "--chatmodels-provider",
            "openai",
            *OPTIONS,
            "--chatmodels-option",
            "capabilities=+anthropic_compatible",
            "--chatmodels-requirements",
            "FAULT-001,FAULT-004",
        )
        assert run.statuses == {"FAULT-001": "failed", "FAULT-004": "failed"}, run.statuses
        assert "instead of /v1/messages" in "".join(run.messages["FAULT-001"])

    def test_reference_is_out_of_scope(self, run_conformance):
        """The in-process reference declares no protocol, so every FAULT is unsupported."""
        run = run_conformance(None, "--assert=plain", "--chatmodels-suite", "faults")
        assert set(run.statuses) == OURS
        assert set(run.statuses.values()) == {"unsupported"}, run.statuses
