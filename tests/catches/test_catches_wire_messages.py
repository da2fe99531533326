"""The wire suite fails each deliberately broken Messages behaviour on exactly its requirement."""

from __future__ import annotations

from collections.abc import Iterator

# In-process runs drop the modules they imported; import the provider and server here once.
import httpcore  # noqa: F401
import pytest

from chatmodels.conformance.faults import MESSAGES_WIRE_DEFECTS, Fault, FaultServer
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.provider import Capability

OURS = {
    r.id for r in CATALOGUE if r.area == "WIRE" and r.capability is Capability.ANTHROPIC_COMPATIBLE
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _args(server: FaultServer) -> tuple[str, ...]:
    return (
        "--chatmodels-provider=anthropic",
        f"--chatmodels-option=base_url={server.url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-option=deterministic=true",
        "--chatmodels-suite=wire",
        "--assert=plain",
    )


CASES = [
    pytest.param(defect, requirement_id, id=defect, marks=pytest.mark.catches(requirement_id))
    for defect, requirement_id in MESSAGES_WIRE_DEFECTS.items()
]


class TestCatchesMessagesWire:
    @pytest.mark.parametrize(("defect", "requirement_id"), CASES)
    def test_broken_server_is_caught(self, run_conformance, server, defect, requirement_id):
        """A Messages server committing one defect fails its WIRE requirement and no other."""
        server.set_default(Fault.wire(defect))
        try:
            run = run_conformance(None, *_args(server))
        finally:
            server.set_default(None)
        run.assert_caught(requirement_id)

    def test_healthy_server_passes_every_messages_requirement(self, run_conformance, server):
        """The anthropic provider against the kit's own server passes its WIRE requirements;
        the chat-completions ones are unsupported for it."""
        server.set_default(None)
        run = run_conformance(None, *_args(server))
        passed = {r for r, status in run.statuses.items() if status == "passed"}
        assert passed == OURS, run.statuses
        assert set(run.statuses.values()) == {"passed", "unsupported"}, run.statuses

    def test_every_requirement_has_a_catching_defect(self):
        """Each Messages WIRE requirement has a fault-server defect that fails it."""
        assert set(MESSAGES_WIRE_DEFECTS.values()) == OURS
