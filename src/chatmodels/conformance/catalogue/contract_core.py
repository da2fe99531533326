"""Requirements and tunables of the contract suite, part one: core calls, streams, batches, messages, options and usage."""

from __future__ import annotations

from chatmodels.conformance.requirements import Requirement, Setting

REQUIREMENTS: tuple[Requirement, ...] = ()

SETTINGS: tuple[Setting, ...] = ()
