"""What one conformance test produced, in a form that crosses xdist and feeds the report.

Tests express verdicts beyond pass and fail through skip reasons with a prefix:
``[unsupported]`` (the provider does not declare the capability), ``[inconclusive]``
(a measurement could not decide) and ``[not_run]`` (the run could not execute it).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = [
    "CLOSE_REQUIREMENT",
    "FIGURE_PROPERTY",
    "INCONCLUSIVE",
    "LEVEL_PROPERTY",
    "NOT_RUN",
    "REQUIREMENT_PROPERTY",
    "TEARDOWN_PROPERTY",
    "UNSUPPORTED",
    "WAIVED_PROPERTY",
    "Figure",
    "Outcome",
    "TestOutcome",
    "classify_skip",
]

UNSUPPORTED = "[unsupported] "
INCONCLUSIVE = "[inconclusive] "
NOT_RUN = "[not_run] "

#: Keys of the ``user_properties`` entries the plugin attaches to each test report.
REQUIREMENT_PROPERTY = "requirement"
LEVEL_PROPERTY = "requirement_level"
FIGURE_PROPERTY = "chatmodels_figure"
#: A close() that raised in the kit's fixture teardown, on the phase's report.
TEARDOWN_PROPERTY = "chatmodels_teardown_failure"
#: What a waived test really did (pytest shows it as xfail or XPASS), as JSON.
WAIVED_PROPERTY = "chatmodels_waived_outcome"

#: The requirement a close() that raises breaks, wherever the kit sees it raise.
CLOSE_REQUIREMENT = "LIFE-001"

Outcome = Literal["passed", "failed", "error", "skipped", "unsupported", "inconclusive", "not_run"]


def classify_skip(reason: str) -> tuple[Outcome, str]:
    """Map a skip reason to its outcome and the reason without its prefix."""
    for prefix, outcome in (
        (UNSUPPORTED, "unsupported"),
        (INCONCLUSIVE, "inconclusive"),
        (NOT_RUN, "not_run"),
    ):
        if reason.startswith(prefix):
            return outcome, reason[len(prefix) :]  # type: ignore[return-value]
    return "skipped", reason


@dataclass(frozen=True, slots=True)
class Figure:
    """A measured value; ``budget`` is the limit it is held to, if any."""

    name: str
    value: float
    unit: str
    budget: float | None = None
    higher_is_better: bool = False
    detail: str = ""

    def to_json(self) -> str:
        """Serialise for a test report's user_properties."""
        return json.dumps(asdict(self), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Figure:
        """Rebuild a figure serialised by :meth:`to_json`."""
        data: dict[str, Any] = json.loads(text)
        return cls(**data)

    @property
    def within_budget(self) -> bool | None:
        """Whether the value meets its budget; None when there is no budget."""
        if self.budget is None:
            return None
        return self.value >= self.budget if self.higher_is_better else self.value <= self.budget


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The verdict of one test on one requirement."""

    __test__ = False  # not a pytest test class

    nodeid: str
    requirement_id: str
    outcome: Outcome
    duration: float = 0.0
    message: str = ""
    figures: tuple[Figure, ...] = field(default_factory=tuple)
