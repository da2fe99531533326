"""Requirements and tunables of the concurrency suite."""

from __future__ import annotations

from chatmodels.conformance.requirements import Requirement, Setting

REQUIREMENTS: tuple[Requirement, ...] = ()

SETTINGS: tuple[Setting, ...] = ()
