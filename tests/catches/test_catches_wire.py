"""The wire suite fails each deliberately broken server behaviour on exactly its requirement."""

from __future__ import annotations

from collections.abc import Iterator

# In-process runs drop the modules they imported; import the provider and server here once.
import httpcore  # noqa: F401
import pytest

from chatmodels.conformance.faults import WIRE_DEFECTS, Fault, FaultServer
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.provider import Capability

OURS = {
    r.id for r in CATALOGUE if r.capability is Capability.OPENAI_COMPATIBLE and r.area == "WIRE"
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _args(server: FaultServer) -> tuple[str, ...]:
    return (
        "--chatmodels-provider=openai",
        f"--chatmodels-option=base_url={server.url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-option=deterministic=true",
        "--chatmodels-suite=wire",
        "--assert=plain",
    )


CASES = [
    pytest.param(defect, requirement_id, id=defect, marks=pytest.mark.catches(requirement_id))
    for defect, requirement_id in WIRE_DEFECTS.items()
]


class TestCatchesWire:
    @pytest.mark.parametrize(("defect", "requirement_id"), CASES)
    def test_broken_server_is_caught(self, run_conformance, server, defect, requirement_id):
        """A server committing one protocol defect fails its WIRE requirement and no other."""
        server.set_default(Fault.wire(defect))
        try:
            run = run_conformance(None, *_args(server))
        finally:
            server.set_default(None)
        run.assert_caught(requirement_id)

    def test_healthy_server_passes_every_wire_requirement(self, run_conformance, server):
        """The bundled openai provider against the kit's own server passes the whole area."""
        server.set_default(None)
        run = run_conformance(None, *_args(server))
        assert {r for r, s in run.statuses.items() if s == "passed"} == OURS
        run.assert_all_pass()

    def test_every_requirement_has_a_catching_defect(self):
        """Each WIRE requirement has a fault-server defect that fails it."""
        assert set(WIRE_DEFECTS.values()) == OURS

    def test_failure_names_the_path(self, run_conformance, server):
        """A schema failure names the JSON path at fault and what was wrong there."""
        server.set_default(Fault.wire("no_choice_index"))
        try:
            run = run_conformance(None, *_args(server))
        finally:
            server.set_default(None)
        assert "choices[0].index: missing" in "".join(run.messages["WIRE-014"])
