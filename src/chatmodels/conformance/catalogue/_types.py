"""The catalogue's building blocks: a requirement, its level, a tunable and the ordered set.

Area modules (``catalogue/<area>.py``) import these from here, never from ``requirements.py``,
which imports every area to build the one ``CATALOGUE``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from chatmodels.provider import Capability

__all__ = ["Catalogue", "Level", "Requirement", "Setting"]

_ID_PATTERN = re.compile(r"^[A-Z]+-[0-9]{3}$")


class Level(str, enum.Enum):
    """RFC 2119 requirement levels, strongest first."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"

    @property
    def rank(self) -> int:
        """0 for MUST, 1 for SHOULD, 2 for MAY: lower is stricter."""
        return _RANKS[self]

    def __str__(self) -> str:
        return self.value


_RANKS = {Level.MUST: 0, Level.SHOULD: 1, Level.MAY: 2}


@dataclass(frozen=True, slots=True)
class Requirement:
    """One checkable rule; ``capability`` is what the provider must declare for it to apply."""

    id: str
    level: Level
    title: str
    rationale: str
    capability: Capability | None = None
    budget: float | None = None
    unit: str = ""
    #: Requirements whose failure leaves this one unexaminable (it is then ``blocked``).
    depends_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            msg = f"requirement id must look like 'AREA-NNN', got {self.id!r}"
            raise ValueError(msg)
        object.__setattr__(self, "level", Level(self.level))
        if self.capability is not None:
            object.__setattr__(self, "capability", Capability(self.capability))

    @property
    def area(self) -> str:
        """The ID's prefix, such as ``STREAM``."""
        return self.id.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class Setting:
    """A suite tunable settable by ``--chatmodels-setting KEY=VALUE`` or the ini."""

    key: str
    default: float | int | bool | str
    help: str
    #: What the number counts ("s", "threads", "bytes"); empty for seeds, flags and words.
    unit: str = ""
    #: The only values a string setting accepts; empty when any value of the type does.
    choices: tuple[str, ...] = ()


class Catalogue:
    """An ordered, validated set of requirements with lookups and a stable hash."""

    def __init__(self, requirements: Iterable[Requirement], settings: Iterable[Setting] = ()):
        self._requirements = tuple(requirements)
        self._by_id: dict[str, Requirement] = {}
        for requirement in self._requirements:
            if requirement.id in self._by_id:
                msg = f"requirement id {requirement.id!r} is defined twice"
                raise ValueError(msg)
            self._by_id[requirement.id] = requirement
        for requirement in self._requirements:
            for root in requirement.depends_on:
                if root not in self._by_id or self._by_id[root].depends_on:
                    msg = (
                        f"{requirement.id} depends on {root!r}, which is not a requirement "
                        "of the catalogue without dependencies of its own"
                    )
                    raise ValueError(msg)
        self._settings: dict[str, Setting] = {}
        for setting in settings:
            if setting.key in self._settings:
                msg = f"setting {setting.key!r} is defined twice"
                raise ValueError(msg)
            self._settings[setting.key] = setting

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self._requirements)

    def __len__(self) -> int:
        return len(self._requirements)

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self._by_id

    def get(self, requirement_id: str) -> Requirement:
        """Look up *requirement_id*; an unknown ID names the closest known ones."""
        try:
            return self._by_id[requirement_id]
        except KeyError:
            area = requirement_id.split("-", 1)[0]
            near = [r for r in self._by_id if r.startswith(area)][:5] or list(self._by_id)[:5]
            msg = f"unknown requirement id {requirement_id!r}; known ids like {near!r}"
            raise KeyError(msg) from None

    @property
    def ids(self) -> tuple[str, ...]:
        """Every ID, in catalogue order."""
        return tuple(self._by_id)

    @property
    def areas(self) -> tuple[str, ...]:
        """The areas in order of first appearance."""
        return tuple(dict.fromkeys(r.area for r in self._requirements))

    @property
    def settings(self) -> dict[str, Setting]:
        """The suite tunables by key."""
        return dict(self._settings)

    def digest(self) -> str:
        """A sha256 of IDs, levels, capabilities and titles, so a report names its catalogue."""
        return _sha256([[*_frozen(r), r.title] for r in self._requirements])

    def version_digest(self) -> str:
        """A sha256 of IDs, levels and capabilities only: what one suite version freezes."""
        return _sha256([_frozen(r) for r in self._requirements])


def _frozen(r: Requirement) -> list[str | None]:
    return [r.id, r.level.value, r.capability.value if r.capability else None]


def _sha256(canonical: list[list[str | None]]) -> str:
    blob = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()
