"""An OpenAI-compatible server on loopback that answers like the reference model, or misbehaves."""

from __future__ import annotations

from ._app import DEFAULT_RANDOM_FAULTS
from ._fault import FAULT_HEADER, FAULT_KINDS, Fault, FaultError, RequestRecord, parse_fault
from ._server import FaultServer, check_loopback, serve_forever
from ._wire_defects import WIRE_DEFECTS

__all__ = [
    "DEFAULT_RANDOM_FAULTS",
    "FAULT_HEADER",
    "FAULT_KINDS",
    "Fault",
    "FaultError",
    "FaultServer",
    "RequestRecord",
    "WIRE_DEFECTS",
    "check_loopback",
    "parse_fault",
    "serve_forever",
]
