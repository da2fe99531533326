"""The CI gate's rules: each returns the reasons a report fails, one line per reason."""

from __future__ import annotations

from collections.abc import Mapping

from chatmodels.conformance.report._model import Report, RequirementResult
from chatmodels.conformance.requirements import Level

__all__ = ["gate", "first_line", "regressed"]


def first_line(text: str, limit: int = 160) -> str:
    """The first line of *text*, cut to *limit* characters, for one-line listings."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _label(result: RequirementResult) -> str:
    return f"{result.id} ({result.level.value})"


def regressed(before: RequirementResult, after: RequirementResult, *, partial: bool) -> bool:
    """Whether a requirement that passed before does not now; not_run in a partial run is spared."""
    if before.status != "passed" or after.status == "passed":
        return False
    return not (partial and after.status == "not_run")


def _preflight(report: Report) -> list[str]:
    if not report.run.preflight:
        return []
    return [f"the suites did not run: preflight failed: {first_line(report.run.preflight, 600)}"]


def _failures(report: Report, level: Level) -> list[str]:
    reasons = []
    blocking = report.blocking
    # Root causes first, the requirements they block last, each group in catalogue order.
    ordered = sorted(
        report.failing_at(level), key=lambda r: (r.id not in blocking, r.status == "blocked")
    )
    for result in ordered:
        if result.unexpected_pass:
            continue
        what, detail = result.status, first_line(result.message)
        if result.id in blocking:
            what += f" (blocks {blocking[result.id]})"
        if result.status == "blocked":
            what, detail = f"blocked by {result.blocked_by}", ""
        reasons.append(f"{_label(result)} {what}" + (f": {detail}" if detail else ""))
    for result in report.requirements:
        if result.unexpected_pass:
            reasons.append(
                f"{_label(result)} passed unexpectedly: it is waived "
                f"({first_line(result.waiver, 80)!r}); remove the waiver"
            )
    return reasons


def _regressions(report: Report, baseline: Report) -> list[str]:
    reasons = []
    for after in report.requirements:
        before = baseline.get(after.id)
        if before is not None and regressed(before, after, partial=report.run.is_partial):
            reasons.append(f"{_label(after)} regressed: passed in the baseline, {after.status} now")
    return reasons


def _budgets(report: Report, maxima: Mapping[str, float]) -> list[str]:
    reasons = []
    for name, limit in maxima.items():
        found = [(r, f) for r, f in report.figures if f.name == name]
        if not found:
            reasons.append(f"figure {name!r} (--max {name}={limit:g}) is not in the report")
        for result, figure in found:
            if not figure.value <= limit:  # a NaN never meets a budget
                reasons.append(
                    f"figure {name!r} of {result.id} is {figure.value:g}{figure.unit}, "
                    f"over --max {limit:g}{figure.unit}"
                )
    return reasons


def _listing(ids: list[str], limit: int = 5) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


_ALLOW = "; pass --allow-partial to accept a {} run"


def _completeness(report: Report, *, allow_partial: bool, require_complete: bool) -> list[str]:
    """Why *report* did not check everything; what --allow-partial excuses is left out."""
    run = report.run
    reasons = []
    ran = [r for r in report.requirements if r.status != "not_run"]
    if not ran:
        reasons.append("the report checked nothing: no requirement was run")
    for stop in run.stopped_by("crashed"):
        reasons.append(f"the run crashed ({stop.detail}); its results are incomplete")
    for stop in run.stopped_by("interrupted"):
        reasons.append(f"the run was interrupted ({stop.detail}); its results are incomplete")
    excusable = allow_partial and not require_complete
    if not excusable:
        for stop in run.stopped_by("filtered"):
            reasons.append(f"the run was filtered ({stop.detail})" + _ALLOW.format("filtered"))
        for stop in run.stopped_by("stopped"):
            reasons.append(f"the run stopped early ({stop.detail})" + _ALLOW.format("partial"))
        if run.partial and not run.incomplete:
            reasons.append("the run was partial" + _ALLOW.format("partial"))
    if ran and not (excusable and run.is_partial):
        must = [
            r.id for r in report.requirements if r.status == "not_run" and r.level is Level.MUST
        ]
        if must:
            reasons.append(f"{len(must)} MUST requirement(s) were not run: {_listing(must)}")
    if require_complete:
        rest = [
            r.id for r in report.requirements if r.status == "not_run" and r.level is not Level.MUST
        ]
        if rest:
            reasons.append(f"{len(rest)} SHOULD/MAY requirement(s) were not run: {_listing(rest)}")
    return reasons


def gate(
    report: Report,
    *,
    level: Level = Level.MUST,
    baseline: Report | None = None,
    maxima: Mapping[str, float] | None = None,
    require_complete: bool = False,
    allow_partial: bool = False,
) -> list[str]:
    """Every reason *report* fails the gate; empty when it passes.

    Failures count at *level* or stricter; unexpected passes count at every level. A run
    that did not check everything fails too: *allow_partial* excuses a filtered or stopped
    run (never an empty, interrupted or crashed one); *require_complete* also fails on
    SHOULD and MAY requirements not run.
    """
    reasons = _preflight(report) or _completeness(
        report, allow_partial=allow_partial, require_complete=require_complete
    )
    reasons += _failures(report, level)
    if baseline is not None:
        reasons += _regressions(report, baseline)
    reasons += _budgets(report, maxima or {})
    return reasons
