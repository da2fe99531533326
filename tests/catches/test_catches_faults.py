"""The faults suite fails each deliberately broken HTTP provider on exactly its requirement."""

from __future__ import annotations

# In-process runs drop the modules they imported, but httpx caches its map of httpcore errors on
# first use; importing httpcore, the provider and the server here keeps one copy of each.
import httpcore  # noqa: F401
import pytest

import broken_faults
import chatmodels.conformance.faults  # noqa: F401
from chatmodels.conformance.requirements import CATALOGUE
from scaffold import Case, check_covers, declared, params

OURS = {r.id for r in CATALOGUE if r.area == "FAULT"}

#: The fault suite re-points the provider at its own server; this address only has to parse.
OPTIONS = (
    "--chatmodels-option",
    "base_url=http://127.0.0.1:9/v1",
    "--chatmodels-option",
    "model=reference-echo",
    "--assert=plain",
)


#: Every broken provider broken_faults declares; a run selects its requirement and the also.
CASES = declared(broken_faults)


class TestCatchesFaults:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_provider_is_caught(self, run_conformance, case: Case) -> None:
        """An openai provider with one fault-handling bug fails its requirement and no other."""
        # A provider without timeouts waits out the whole server latency: keep it short.
        latency = ("--chatmodels-setting", "fault_latency=1.0")
        only = ("--chatmodels-requirements", case.with_also)
        run = run_conformance(case.target, *OPTIONS, *latency, *only, *case.args)
        case.check(run)

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
        check_covers(CASES, OURS, "tests/catches/broken_faults.py")

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
