"""Compare two reports requirement by requirement: what regressed, what was fixed."""

from __future__ import annotations

from dataclasses import dataclass

from chatmodels.conformance.report._gate import regressed
from chatmodels.conformance.report._model import FAILING_STATUSES, Report

__all__ = ["Change", "diff", "format_diff"]


@dataclass(frozen=True, slots=True)
class Change:
    """One requirement whose status differs between two reports."""

    id: str
    level: str
    title: str
    before: str
    after: str
    kind: str  # "regression", "fix", "new", "removed" or "changed"


def _kind(before: str, after: str) -> str:
    if after == "passed" and (before in FAILING_STATUSES or before == "waived"):
        return "fix"
    if after in FAILING_STATUSES and before not in FAILING_STATUSES:
        return "regression"
    return "changed"


def diff(old: Report, new: Report) -> tuple[Change, ...]:
    """Every status change from *old* to *new*, in *new*'s order, then removed requirements."""
    changes = []
    for after in new.requirements:
        before = old.get(after.id)
        if before is None:
            changes.append(
                Change(after.id, after.level.value, after.title, "-", after.status, "new")
            )
        elif before.status != after.status:
            kind = (
                "regression"
                if regressed(before, after, partial=new.run.is_partial)
                else _kind(before.status, after.status)
            )
            changes.append(
                Change(after.id, after.level.value, after.title, before.status, after.status, kind)
            )
    for before in old.requirements:
        if new.get(before.id) is None:
            changes.append(
                Change(before.id, before.level.value, before.title, before.status, "-", "removed")
            )
    return tuple(changes)


def format_diff(changes: tuple[Change, ...], old: Report, new: Report) -> list[str]:
    """A plain-text table of *changes* with a one-line tally, for the terminal."""
    lines = [f"verdict: {old.verdict} -> {new.verdict}"]
    if not changes:
        return [*lines, "no requirement changed status"]
    header = ("ID", "LEVEL", "BEFORE", "AFTER", "CHANGE", "TITLE")
    rows = [header, *((c.id, c.level, c.before, c.after, c.kind, c.title) for c in changes)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    counts = {k: sum(c.kind == k for c in changes) for k in ("regression", "fix")}
    lines.append(
        f"{counts['regression']} regression(s), {counts['fix']} fix(es), {len(changes)} change(s)"
    )
    return lines
