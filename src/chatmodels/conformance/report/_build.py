"""Fold test outcomes into one result per requirement, apply waivers, and keep secrets out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report._errors import ReportError
from chatmodels.conformance.report._gate import first_line
from chatmodels.conformance.report._model import Report, RequirementResult, RunInfo
from chatmodels.conformance.requirements import SUITE_VERSION, Catalogue, Requirement
from chatmodels.conformance.scrubber import MIN_SECRET_LENGTH, REDACTED, scrub
from chatmodels.conformance.subject import SECRET_PATTERN

__all__ = [
    "MESSAGE_LIMIT",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "aggregate",
    "build_report",
    "redact",
    "scrub",
]

#: Failure messages longer than this are cut, so one chatty test cannot bloat the report.
MESSAGE_LIMIT = 500

#: Aggregation precedence: the first status any test reached wins.
_PRECEDENCE = ("error", "failed", "inconclusive", "passed", "unsupported", "skipped", "not_run")

#: A root in these statuses blocks its dependents; dependents in these may be blocked.
_ROOT_FAILED = frozenset({"failed", "error"})
_UNEXAMINED = frozenset({"failed", "error", "inconclusive"})

#: A waiver turns these into ``waived``; on a pass it flags the waiver as stale.
_WAIVABLE = frozenset({"failed", "error", "inconclusive", "blocked"})


def redact(options: Mapping[str, object], secret_names: Iterable[str] = ()) -> dict[str, str]:
    """Stringify *options*, masking values whose key is named secret or looks like a credential."""
    named = {n.lower() for n in secret_names}
    return {
        str(key): REDACTED
        if str(key).lower() in named or SECRET_PATTERN.search(str(key))
        else str(value)
        for key, value in options.items()
    }


def _shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def aggregate(outcomes: Sequence[TestOutcome]) -> str:
    """The status of a requirement given its tests' outcomes; ``not_run`` when it has none."""
    seen = {o.outcome for o in outcomes}
    for status in _PRECEDENCE:
        if status in seen:
            return status
    return "not_run"


def _result(
    requirement: Requirement, outcomes: Sequence[TestOutcome], secrets: Sequence[str]
) -> RequirementResult:
    status = aggregate(outcomes)
    deciding = [o for o in outcomes if o.outcome == status]
    texts = [scrub(o.message, secrets).strip() for o in deciding if o.message.strip()]
    texts = list(dict.fromkeys(texts))
    message = reason = ""
    if status in ("failed", "error", "inconclusive"):
        message = _shorten("\n".join(texts))
    elif status in ("skipped", "unsupported", "not_run"):
        reason = _shorten("; ".join(texts))
    return RequirementResult(
        id=requirement.id,
        level=requirement.level,
        title=requirement.title,
        area=requirement.area,
        capability=requirement.capability.value if requirement.capability else None,
        status=status,
        reason=reason,
        tests=tuple(scrub(o.nodeid, secrets) for o in outcomes),
        message=message,
        figures=tuple(
            replace(f, detail=scrub(f.detail, secrets)) for o in outcomes for f in o.figures
        ),
    )


def _apply_blocking(
    results: Sequence[RequirementResult], catalogue: Catalogue
) -> list[RequirementResult]:
    """Mark requirements whose call style failed at its root as ``blocked by`` that root."""
    by_id = {r.id: r for r in results}
    marked = []
    for result in results:
        roots = catalogue.get(result.id).depends_on
        root = next((by_id[i] for i in roots if by_id[i].status in _ROOT_FAILED), None)
        if root is not None and result.status in _UNEXAMINED:
            cause = first_line(root.message, 160)
            message = f"blocked by {root.id}" + (f" ({cause})" if cause else "")
            own = f"; its own check said: {result.message}" if result.message else ""
            result = replace(
                result, status="blocked", blocked_by=root.id, message=_shorten(message + own)
            )
        marked.append(result)
    return marked


#: A waiver whose reason starts with this covers a defect that shows in some runs only (a race
#: in the server): a pass is then expected too, not a stale waiver.
INTERMITTENT = "intermittent:"


def _apply_waiver(result: RequirementResult, waiver: str) -> RequirementResult:
    if result.status in _WAIVABLE:
        return replace(result, status="waived", reason=waiver, waiver=waiver)
    stale = result.status == "passed" and not waiver.startswith(INTERMITTENT)
    return replace(result, waiver=waiver, unexpected_pass=stale)


def build_report(
    catalogue: Catalogue,
    outcomes: Sequence[TestOutcome],
    run: RunInfo,
    waivers: Mapping[str, str] | None = None,
    *,
    secrets: Iterable[str] = (),
    kit_figures: Sequence[Figure] = (),
) -> Report:
    """Build the report of one run; *secrets* are literal values masked wherever they appear."""
    masked = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    by_id: defaultdict[str, list[TestOutcome]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.requirement_id not in catalogue:
            msg = (
                f"test {outcome.nodeid!r} names requirement {outcome.requirement_id!r}, "
                "which is not in the catalogue"
            )
            raise ReportError(msg)
        by_id[outcome.requirement_id].append(outcome)
    for waived in waivers or {}:
        if waived not in catalogue:
            msg = f"waiver names requirement {waived!r}, which is not in the catalogue"
            raise ReportError(msg)
    results = []
    for requirement in catalogue:
        tests = sorted(by_id.get(requirement.id, ()), key=lambda o: o.nodeid)
        results.append(_result(requirement, tests, masked))
    results = _apply_blocking(results, catalogue)
    if run.preflight:
        reason = _shorten(f"preflight failed: {scrub(run.preflight, masked)}")
        results = [replace(r, reason=reason) if r.status == "not_run" else r for r in results]
    for index, result in enumerate(results):
        if waivers and result.id in waivers:
            results[index] = _apply_waiver(result, scrub(waivers[result.id], masked))
    options = {k: scrub(v, masked) for k, v in redact(run.options).items()}
    return Report(
        suite_version=SUITE_VERSION,
        catalogue_digest=catalogue.digest(),
        run=replace(run, options=options, preflight=scrub(run.preflight, masked)),
        requirements=tuple(results),
        kit_figures=tuple(kit_figures),
    )
