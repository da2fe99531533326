"""The requirement catalogue: the one source of truth for what a conformant provider does.

Each area keeps its entries in ``chatmodels.conformance.catalogue.<area>``; this module
merges them, in a fixed order, into ``CATALOGUE``, built when the module is imported. The
types live in ``catalogue/_types.py``. Changing an ID, a level or a capability without
bumping ``SUITE_VERSION`` fails the project's catalogue test, which compares the version
digest that ``conformance/SPEC.md`` records.
"""

from __future__ import annotations

from dataclasses import replace

from chatmodels.conformance.catalogue._types import Catalogue, Level, Requirement, Setting

__all__ = [
    "CATALOGUE",
    "SUITE_VERSION",
    "Catalogue",
    "Level",
    "Requirement",
    "Setting",
]

#: Bump when a requirement is added, removed, renamed, or changes level or capability.
SUITE_VERSION = "2.1.0"


def _build() -> Catalogue:
    from chatmodels.conformance.catalogue import (
        concurrency,
        contract_content,
        contract_core,
        contract_features,
        faults,
        performance,
        run,
        telemetry,
        wire,
        wire_messages,
        wire_responses,
    )
    from chatmodels.conformance.catalogue.dependencies import DEPENDS_ON

    areas = (
        contract_core,
        contract_features,
        contract_content,
        concurrency,
        telemetry,
        performance,
        faults,
        wire,
        wire_messages,
        wire_responses,
        run,
    )
    requirements = [r for area in areas for r in area.REQUIREMENTS]
    unknown = sorted(set(DEPENDS_ON) - {r.id for r in requirements})
    if unknown:
        msg = f"dependencies name requirements not in the catalogue: {unknown!r}"
        raise ValueError(msg)
    return Catalogue(
        (replace(r, depends_on=DEPENDS_ON.get(r.id, r.depends_on)) for r in requirements),
        (s for area in areas for s in area.SETTINGS),
    )


CATALOGUE: Catalogue = _build()
