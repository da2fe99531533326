"""Requirements and tunables of the contract suite, part two: tools, JSON, errors, health, metadata, lifecycle, cancellation, timeouts and fuzzing."""

from __future__ import annotations

from chatmodels.conformance.requirements import Requirement, Setting

REQUIREMENTS: tuple[Requirement, ...] = ()

SETTINGS: tuple[Setting, ...] = ()
