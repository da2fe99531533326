"""The Open Responses WIRE requirements fail each broken server behaviour on exactly its own."""

from __future__ import annotations

from collections.abc import Iterator

# In-process runs drop the modules they imported; import the provider and server here once.
import httpcore  # noqa: F401
import pytest

import chatmodels.providers.responses  # noqa: F401
from chatmodels.conformance.faults import RESPONSES_WIRE_DEFECTS, Fault, FaultServer
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.provider import Capability

OURS = {r.id for r in CATALOGUE if r.capability is Capability.RESPONSES_COMPATIBLE}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _args(server: FaultServer) -> tuple[str, ...]:
    return (
        "--chatmodels-provider=responses",
        f"--chatmodels-option=base_url={server.url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-suite=wire",
        "--assert=plain",
    )


CASES = [
    pytest.param(defect, requirement_id, id=defect, marks=pytest.mark.catches(requirement_id))
    for defect, requirement_id in RESPONSES_WIRE_DEFECTS.items()
]


class TestCatchesResponsesWire:
    @pytest.mark.parametrize(("defect", "requirement_id"), CASES)
    def test_broken_server_is_caught(self, run_conformance, server, defect, requirement_id):
        """A server committing one Open Responses defect fails its WIRE requirement only."""
        server.set_default(Fault.wire(defect))
        try:
            run = run_conformance(None, *_args(server))
        finally:
            server.set_default(None)
        run.assert_caught(requirement_id)

    def test_healthy_server_passes_every_responses_requirement(self, run_conformance, server):
        """The responses provider against the kit's own server passes them all; the
        chat-completions WIRE requirements are unsupported, not failed."""
        server.set_default(None)
        run = run_conformance(None, *_args(server))
        run.assert_all_pass()
        assert {r for r, s in run.statuses.items() if s == "passed"} == OURS
        assert run.statuses["WIRE-001"] == "unsupported"

    def test_every_requirement_has_a_catching_defect(self):
        """Each Open Responses WIRE requirement has a fault-server defect that fails it."""
        assert set(RESPONSES_WIRE_DEFECTS.values()) == OURS

    def test_schema_failure_names_the_event_and_path(self, run_conformance, server):
        """A schema failure names the event, its type, the JSON path and what was wrong."""
        server.set_default(Fault.wire("event_schema"))
        try:
            run = run_conformance(None, *_args(server))
        finally:
            server.set_default(None)
        shown = "".join(run.messages["WIRE-030"])
        assert "(response.output_text.delta): content_index: missing" in shown
