"""The wire suite fails each deliberately broken server behaviour on exactly its requirement.

The broken behaviours are the fault server's defect plans (``faults/_wire_defects.py``,
``_messages_defects.py``, ``_responses_defects.py``): each defect names the WIRE requirement it
breaks, and each plan is played to the bundled provider speaking its protocol.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# In-process runs drop the modules they imported; import the providers and server here once.
import httpcore  # noqa: F401
import pytest

import chatmodels.providers.anthropic
import chatmodels.providers.responses  # noqa: F401
from chatmodels.conformance.faults import (
    MESSAGES_WIRE_DEFECTS,
    RESPONSES_WIRE_DEFECTS,
    WIRE_DEFECTS,
    Fault,
    FaultServer,
)
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.provider import Capability
from conftest import RunConformance, SuiteRun
from scaffold import Case, caught, from_plan, params


@dataclass(frozen=True)
class Protocol:
    """A bundled provider, the capability its WIRE requirements need, and its defect plan."""

    provider: str
    capability: Capability
    plan: dict[str, str]
    deterministic: bool = True

    @property
    def ours(self) -> set[str]:
        """The WIRE requirements of this protocol."""
        return {r.id for r in CATALOGUE if r.area == "WIRE" and r.capability is self.capability}

    def args(self, server: FaultServer) -> tuple[str, ...]:
        """The run's arguments: this provider against *server*, the WIRE suite only."""
        return (
            f"--chatmodels-provider={self.provider}",
            f"--chatmodels-option=base_url={server.url}",
            "--chatmodels-option=model=reference-echo",
            *(["--chatmodels-option=deterministic=true"] if self.deterministic else []),
            "--chatmodels-suite=wire",
            "--assert=plain",
        )


PROTOCOLS = {
    "openai": Protocol("openai", Capability.OPENAI_COMPATIBLE, WIRE_DEFECTS),
    "anthropic": Protocol("anthropic", Capability.ANTHROPIC_COMPATIBLE, MESSAGES_WIRE_DEFECTS),
    "responses": Protocol(
        "responses", Capability.RESPONSES_COMPATIBLE, RESPONSES_WIRE_DEFECTS, deterministic=False
    ),
}

#: (protocol, case) for every defect of every plan.
CASES = [
    pytest.param(name, *param.values, id=param.id, marks=param.marks)
    for name, protocol in PROTOCOLS.items()
    for param in params(from_plan(protocol.plan), prefix=f"{name}-")
]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _run(
    run_conformance: RunConformance, server: FaultServer, protocol: str, defect: str | None
) -> SuiteRun:
    """One WIRE run of *protocol*'s provider against the server playing *defect* (or none)."""
    server.set_default(Fault.wire(defect) if defect else None)
    try:
        return run_conformance(None, *PROTOCOLS[protocol].args(server))
    finally:
        server.set_default(None)


class TestCatchesWire:
    @pytest.mark.parametrize(("protocol", "case"), CASES)
    def test_broken_server_is_caught(
        self, run_conformance: RunConformance, server: FaultServer, protocol: str, case: Case
    ) -> None:
        """A server committing one protocol defect fails its WIRE requirement and no other."""
        case.check(_run(run_conformance, server, protocol, case.name))

    @pytest.mark.parametrize("protocol", PROTOCOLS)
    def test_healthy_server_passes_every_wire_requirement(
        self, run_conformance: RunConformance, server: FaultServer, protocol: str
    ) -> None:
        """Each bundled provider against the kit's own server passes its WIRE requirements; the
        other protocols' requirements are unsupported for it, not failed."""
        run = _run(run_conformance, server, protocol, None)
        passed = {r for r, status in run.statuses.items() if status == "passed"}
        assert passed == PROTOCOLS[protocol].ours, run.statuses
        assert set(run.statuses.values()) <= {"passed", "unsupported"}, run.statuses
        run.assert_all_pass()

    @pytest.mark.parametrize("protocol", PROTOCOLS)
    def test_every_requirement_has_a_catching_defect(self, protocol: str) -> None:
        """Each WIRE requirement of a protocol has a fault-server defect that fails it."""
        assert caught(from_plan(PROTOCOLS[protocol].plan)) == PROTOCOLS[protocol].ours

    @pytest.mark.parametrize(
        ("protocol", "defect", "requirement_id", "shown"),
        [
            ("openai", "no_choice_index", "WIRE-014", "choices[0].index: missing"),
            (
                "responses",
                "event_schema",
                "WIRE-030",
                "(response.output_text.delta): content_index: missing",
            ),
        ],
    )
    def test_schema_failure_names_the_path(
        self,
        run_conformance: RunConformance,
        server: FaultServer,
        protocol: str,
        defect: str,
        requirement_id: str,
        shown: str,
    ) -> None:
        """A schema failure names the JSON path at fault (and the event) and what was wrong."""
        run = _run(run_conformance, server, protocol, defect)
        assert shown in "".join(run.messages[requirement_id])
