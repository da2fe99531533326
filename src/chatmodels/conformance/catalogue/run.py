"""Tunables of the whole run: how long one provider call and the whole run may take.

Every call a suite makes goes through ``suites/_bounded.py`` and is held to ``call_timeout``;
the run stops starting tests once ``run_budget`` has passed and writes its report, marked
incomplete with that reason.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Requirement, Setting

REQUIREMENTS: tuple[Requirement, ...] = ()

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "call_timeout",
        30.0,
        "Seconds any one provider call, stream read, close or health check may take before "
        "the requirement it serves fails with 'did not return'.",
        unit="s",
    ),
    Setting(
        "run_budget",
        600.0,
        "Seconds of wall time the tests of a run may take, counted from the end of collection; "
        "past it no further test starts and the report is written marked incomplete.",
        unit="s",
    ),
)

#: Former per-suite names of ``call_timeout``, refused with a pointer to the new name.
RENAMED: dict[str, str] = {
    "core_call_timeout": "call_timeout",
    "fault_call_timeout": "call_timeout",
}
