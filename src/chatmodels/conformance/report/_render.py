"""Render a report as self-contained HTML, GitHub-flavoured Markdown, a shields.io badge, or text.

Geometry for the inline SVG charts is computed here, so templates only place numbers and
every provider-supplied string reaches the HTML through jinja2's autoescaping.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import jinja2

from chatmodels.conformance.outcomes import Figure
from chatmodels.conformance.report._gate import first_line
from chatmodels.conformance.report._model import (
    STATUSES,
    VERDICT_MUST,
    VERDICT_PARTIAL,
    VERDICT_SHOULD,
    Report,
    RequirementResult,
    Tally,
)

__all__ = [
    "BADGE_LABEL",
    "MARKDOWN_FAILURE_LIMIT",
    "environment",
    "render_badge",
    "render_html",
    "render_markdown",
    "terminal_summary",
]

BADGE_LABEL = "chatmodels conformance"

#: Markdown lists at most this many failures, so a step summary stays far below 1 MiB.
MARKDOWN_FAILURE_LIMIT = 100

_VERDICT_STYLE = {
    VERDICT_SHOULD: ("should", "brightgreen", "#2da44e"),
    VERDICT_MUST: ("must", "yellow", "#bf8700"),
    VERDICT_PARTIAL: ("partial", "lightgrey", "#6e7781"),
}
_NOT_CONFORMANT = ("none", "red", "#cf222e")

_STATUS_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "inconclusive": "inconclusive",
    "blocked": "blocked",
    "waived": "waived",
    "unsupported": "unsupported",
    "skipped": "skipped",
    "not_run": "not run",
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")

#: Statuses that mean a requirement was not examined because it does not apply here.
_NOT_APPLICABLE = frozenset({"unsupported", "skipped"})

#: Where the HTML report's requirement IDs link: SPEC.md, written beside the report.
SPEC_LINK = "SPEC.md#{anchor}"


def environment() -> jinja2.Environment:
    """A jinja2 environment over the packaged templates; ``.html`` ones autoescape."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("chatmodels.conformance.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "svg")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = md_escape
    env.filters["first_line"] = first_line
    env.filters["num"] = _num
    env.filters["plain"] = plain_message
    return env


def md_escape(value: object, limit: int = 200) -> str:
    """One line of Markdown-safe text: HTML specials become entities, Markdown syntax is escaped."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def plain_message(text: str) -> str:
    """*text* without pytest's assertion rewrite (``assert ...`` and its indented lines)."""
    kept: list[str] = []
    in_rewrite = False
    for line in text.splitlines():
        if line.startswith("assert ") or line == "assert":
            in_rewrite = True
        elif in_rewrite and line[:1] not in (" ", "\t") and line.strip():
            in_rewrite = False
        if not in_rewrite:
            kept.append(line)
    return "\n".join(kept).strip()


def _not_applicable(report: Report) -> list[tuple[str, int, str]]:
    """(area, requirements, why) for each area none of whose requirements applied to this run."""
    areas: list[tuple[str, int, str]] = []
    for area in report.by_area:
        results = [r for r in report.requirements if r.area == area]
        if not results or any(r.status not in _NOT_APPLICABLE for r in results):
            continue
        capabilities = sorted({r.capability for r in results if r.capability})
        why = (
            [
                f"provider {report.run.provider_name!r} does not declare "
                + " or ".join(repr(c) for c in capabilities)
            ]
            if capabilities
            else []
        )
        why += [first_line(r.reason, 160) for r in results if not r.capability and r.reason]
        areas.append((area, len(results), "; ".join(list(dict.fromkeys(why))[:3]) or "skipped"))
    return areas


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


@dataclass(frozen=True, slots=True)
class _Segment:
    status: str
    count: int
    x: float
    width: float


@dataclass(frozen=True, slots=True)
class _FigureBar:
    requirement: RequirementResult
    figure: Figure
    value_width: float
    budget_x: float | None
    state: str  # "ok", "over" or "none"


def _segments(tally: Tally, width: float = 100.0) -> list[_Segment]:
    total = tally.total or 1
    segments, x = [], 0.0
    for status in STATUSES:
        count = tally.counts.get(status, 0)
        if count:
            span = width * count / total
            segments.append(_Segment(status, count, round(x, 2), round(span, 2)))
            x += span
    return segments


def _figure_bar(result: RequirementResult, figure: Figure, width: float = 300.0) -> _FigureBar:
    value = max(figure.value, 0.0)
    budget = None if figure.budget is None else max(figure.budget, 0.0)
    scale = max(value, budget or 0.0) * 1.15 or 1.0
    within = figure.within_budget
    state = "none" if within is None else ("ok" if within else "over")
    return _FigureBar(
        requirement=result,
        figure=figure,
        value_width=round(width * value / scale, 2),
        budget_x=None if budget is None else round(width * budget / scale, 2),
        state=state,
    )


def _badge_width(text: str) -> int:
    return int(len(text) * 6.6) + 12


def _context(report: Report) -> dict[str, Any]:
    key, shields_color, hex_color = _VERDICT_STYLE.get(report.verdict, _NOT_CONFORMANT)
    total = report.by_status
    return {
        "report": report,
        "run": report.run,
        "verdict": report.verdict,
        "verdict_key": key,
        "verdict_color": hex_color,
        "shields_color": shields_color,
        "badge_label": BADGE_LABEL,
        "badge_label_width": _badge_width(BADGE_LABEL),
        "badge_message_width": _badge_width(report.verdict),
        "statuses": STATUSES,
        "status_labels": _STATUS_LABELS,
        "total": total,
        "levels": [(name, t, _segments(t)) for name, t in report.by_level.items() if t.total],
        "areas": [(name, t, _segments(t)) for name, t in report.by_area.items()],
        "present": [s for s in STATUSES if total.counts.get(s)],
        "failing": report.failing_by_cause,
        "blocking": report.blocking,
        "unexpected": [r for r in report.requirements if r.unexpected_pass],
        "figures": [_figure_bar(r, f) for r, f in report.figures if f.budget is not None],
        "plain_figures": [(r, f) for r, f in report.figures if f.budget is None],
        "not_applicable": _not_applicable(report),
        "spec_link": SPEC_LINK,
        "over_budget": [(r, f) for r, f in report.figures if f.within_budget is False],
        "kit_figures": report.kit_figures,
        "markdown_limit": MARKDOWN_FAILURE_LIMIT,
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS and SVG, no external requests."""
    return environment().get_template("report.html").render(_context(report))


def render_markdown(report: Report) -> str:
    """A short Markdown summary for ``$GITHUB_STEP_SUMMARY``: verdict, counts, failures."""
    return environment().get_template("report.md").render(_context(report))


def badge(report: Report) -> dict[str, Any]:
    """The shields.io endpoint payload for *report*."""
    _, color, _ = _VERDICT_STYLE.get(report.verdict, _NOT_CONFORMANT)
    return {"schemaVersion": 1, "label": BADGE_LABEL, "message": report.verdict, "color": color}


def render_badge(report: Report) -> str:
    """The shields.io endpoint JSON text for *report*."""
    return json.dumps(badge(report), indent=2) + "\n"


def terminal_summary(report: Report) -> list[str]:
    """Lines for the pytest terminal: counts per level, the verdict, and what fails."""
    run = report.run
    lines = [
        f"chatmodels conformance: {run.provider_name} {run.provider_version}"
        + (f" (model {run.model})" if run.model else "")
    ]
    for level, tally in report.by_level.items():
        if tally.total:
            counts = ", ".join(f"{n} {_STATUS_LABELS[s]}" for s, n in tally.counts.items() if n)
            extra = (
                f", {tally.unexpected_passes} unexpected pass" if tally.unexpected_passes else ""
            )
            lines.append(f"  {level:<7}{counts}{extra}")
    partial = not report.complete and report.verdict != VERDICT_PARTIAL
    lines.append(f"verdict: {report.verdict}" + (" (partial run)" if partial else ""))
    lines.extend(f"  incomplete: {stop}" for stop in run.incomplete)
    if report.not_run:
        lines.append(f"  not run: {len(report.not_run)} of {len(report.requirements)} requirements")
    if run.preflight:
        lines.append(f"  preflight failed: {first_line(run.preflight, 300)}")
    blocking = report.blocking
    for result in report.failing_by_cause:
        what = "passed unexpectedly (waived)" if result.unexpected_pass else result.status
        detail = first_line(result.message, 100)
        if result.id in blocking:
            what += f" (root cause: blocks {blocking[result.id]})"
        if result.status == "blocked":
            what, detail = f"blocked by {result.blocked_by}", ""
        lines.append(
            f"  {result.id} ({result.level.value}) {what}" + (f": {detail}" if detail else "")
        )
    return lines
