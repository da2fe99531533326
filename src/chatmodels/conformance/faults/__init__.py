"""A server on loopback speaking chat completions, Anthropic Messages and Open Responses:
it answers like the reference model, or misbehaves as scripted."""

from __future__ import annotations

from ._app import DEFAULT_RANDOM_FAULTS
from ._fault import FAULT_HEADER, FAULT_KINDS, Fault, FaultError, RequestRecord, parse_fault
from ._messages_defects import MESSAGES_WIRE_DEFECTS
from ._responses_defects import RESPONSES_WIRE_DEFECTS
from ._server import FaultServer, check_loopback, serve_forever
from ._wire_defects import WIRE_DEFECTS

__all__ = [
    "DEFAULT_RANDOM_FAULTS",
    "FAULT_HEADER",
    "FAULT_KINDS",
    "Fault",
    "FaultError",
    "FaultServer",
    "MESSAGES_WIRE_DEFECTS",
    "RESPONSES_WIRE_DEFECTS",
    "RequestRecord",
    "WIRE_DEFECTS",
    "check_loopback",
    "parse_fault",
    "serve_forever",
]
