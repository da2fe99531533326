"""The report model: one result per requirement, and the verdict and summaries derived from them.

Summaries and the verdict are always recomputed from the requirement entries, so a report
whose stored verdict was edited by hand cannot fool the gate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatmodels.conformance.outcomes import Figure
from chatmodels.conformance.report._errors import ReportError
from chatmodels.conformance.requirements import Level

__all__ = [
    "DEFAULT_TELEMETRY_PROFILE",
    "FAILING_STATUSES",
    "SCHEMA_VERSION",
    "STATUSES",
    "Report",
    "RequirementResult",
    "RunInfo",
    "STOP_KINDS",
    "Stop",
    "Tally",
    "VERDICT_MUST",
    "VERDICT_NONE",
    "VERDICT_PARTIAL",
    "VERDICT_NOT_RUN",
    "VERDICT_SHOULD",
]

#: Bump when the JSON layout changes; readers refuse other versions.
SCHEMA_VERSION = "1.1"

#: The conventions' edition of reports that do not name one: the only one before 2.1.0.
DEFAULT_TELEMETRY_PROFILE = "semconv-1.41.1"

#: Every requirement status, in display order.
STATUSES: tuple[str, ...] = (
    "passed",
    "failed",
    "error",
    "inconclusive",
    "blocked",
    "waived",
    "unsupported",
    "skipped",
    "not_run",
)

#: Statuses that count against conformance (an unexpected pass counts too). A blocked
#: requirement was never examined, so it is never a pass.
FAILING_STATUSES = frozenset({"failed", "error", "inconclusive", "blocked"})

VERDICT_SHOULD = "conformant at SHOULD"
VERDICT_MUST = "conformant at MUST"
VERDICT_NONE = "not conformant"
#: Nothing failed, but the run did not check everything: never a conformance claim.
VERDICT_PARTIAL = "partial"

#: Why a run is incomplete. ``filtered`` and ``stopped`` may be accepted by the gate's
#: ``--allow-partial``; ``interrupted`` and ``crashed`` never are.
STOP_KINDS = ("filtered", "stopped", "interrupted", "crashed")


@dataclass(frozen=True, slots=True)
class Stop:
    """One reason a run did not check everything, e.g. ``filtered: -k 'CORE'``."""

    kind: str
    detail: str

    def __post_init__(self) -> None:
        if self.kind not in STOP_KINDS:
            msg = f"incomplete-run kind {self.kind!r} is not one of {STOP_KINDS!r}"
            raise ValueError(msg)

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


VERDICT_NOT_RUN = "not run: preflight failed"


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Who and what was tested, where, and how the run was shaped."""

    provider_name: str
    provider_version: str
    model: str
    capabilities: tuple[str, ...]
    options: Mapping[str, str]
    started_at: str
    duration: float
    python: str
    platform: str
    pytest_version: str
    otel_sdk_version: str
    suites: tuple[str, ...]
    partial: bool = False
    workers: int = 0
    incomplete: tuple[Stop, ...] = ()

    @property
    def is_partial(self) -> bool:
        """Whether the run was filtered, stopped early, interrupted or crashed."""
        return self.partial or bool(self.incomplete)

    def stopped_by(self, *kinds: str) -> tuple[Stop, ...]:
        """The reasons of the given kinds this run is incomplete."""
        return tuple(s for s in self.incomplete if s.kind in kinds)

    #: Why the preflight stopped the run before any suite ran; empty when it passed.
    preflight: str = ""
    #: The sizing profile of the run (``--chatmodels-profile``).
    profile: str = "default"
    #: The edition of the GenAI conventions the telemetry suite checked (``otel_semconv``).
    telemetry_profile: str = DEFAULT_TELEMETRY_PROFILE


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """The aggregated verdict on one requirement over all the tests behind it."""

    id: str
    level: Level
    title: str
    area: str
    capability: str | None
    status: str
    reason: str = ""
    tests: tuple[str, ...] = ()
    message: str = ""
    figures: tuple[Figure, ...] = ()
    waiver: str = ""
    unexpected_pass: bool = False
    #: The failed requirement that left this one unexaminable, when ``status`` is blocked.
    blocked_by: str = ""

    @property
    def failing(self) -> bool:
        """Whether this entry counts against conformance at its level."""
        return self.status in FAILING_STATUSES or self.unexpected_pass


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts of requirement statuses in one slice of the report (a level, an area)."""

    counts: Mapping[str, int] = field(default_factory=dict)
    unexpected_passes: int = 0

    @classmethod
    def of(cls, results: Iterable[RequirementResult]) -> Tally:
        """Count *results* by status."""
        counts = dict.fromkeys(STATUSES, 0)
        unexpected = 0
        for result in results:
            counts[result.status] += 1
            unexpected += result.unexpected_pass
        return cls(counts, unexpected)

    @property
    def total(self) -> int:
        """How many requirements are in the slice."""
        return sum(self.counts.values())

    @property
    def failing(self) -> int:
        """How many requirements in the slice count against conformance."""
        return sum(self.counts[s] for s in FAILING_STATUSES) + self.unexpected_passes

    def to_dict(self) -> dict[str, int]:
        """JSON form: every status count, the total, and the unexpected passes."""
        return {
            **self.counts,
            "unexpected_pass": self.unexpected_passes,
            "total": self.total,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """One conformance run's results: the source of truth every rendering reads."""

    suite_version: str
    catalogue_digest: str
    run: RunInfo
    requirements: tuple[RequirementResult, ...]
    schema_version: str = SCHEMA_VERSION
    #: Figures of the kit itself (its instrumentation's cost), never held against the provider.
    kit_figures: tuple[Figure, ...] = ()

    def get(self, requirement_id: str) -> RequirementResult | None:
        """The entry for *requirement_id*, or None when the report has none."""
        for result in self.requirements:
            if result.id == requirement_id:
                return result
        return None

    def failing_at(self, level: Level) -> tuple[RequirementResult, ...]:
        """Failing entries at *level* or stricter, in catalogue order."""
        return tuple(r for r in self.requirements if r.failing and r.level.rank <= level.rank)

    @property
    def failing(self) -> tuple[RequirementResult, ...]:
        """Every failing entry, at any level."""
        return self.failing_at(Level.MAY)

    @property
    def failing_ids(self) -> tuple[str, ...]:
        """IDs of every failing entry, at any level."""
        return tuple(r.id for r in self.failing)

    @property
    def blocking(self) -> dict[str, int]:
        """Root causes: each requirement that blocks others, with how many it blocks."""
        counts: dict[str, int] = {}
        for result in self.requirements:
            if result.status == "blocked" and result.blocked_by:
                counts[result.blocked_by] = counts.get(result.blocked_by, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1]))

    @property
    def failing_by_cause(self) -> tuple[RequirementResult, ...]:
        """Every failing entry, root causes first (most blocked first), blocked ones last."""
        roots = [r for r in (self.get(i) for i in self.blocking) if r is not None]
        rest = [r for r in self.failing if r not in roots and r.status != "blocked"]
        blocked = [r for r in self.failing if r.status == "blocked"]
        return tuple(roots + rest + blocked)

    @property
    def unexpected_passes(self) -> tuple[str, ...]:
        """IDs of waived requirements that passed: their waivers are stale."""
        return tuple(r.id for r in self.requirements if r.unexpected_pass)

    @property
    def not_run(self) -> tuple[str, ...]:
        """IDs of requirements no test ran for."""
        return tuple(r.id for r in self.requirements if r.status == "not_run")

    @property
    def complete(self) -> bool:
        """Whether the run was unfiltered, ran to its end, and every requirement ran."""
        return not self.run.is_partial and not self.not_run and bool(self.requirements)

    @property
    def verdict(self) -> str:
        """The strongest level with no failing requirement at or above it.

        A run in which no requirement passed establishes nothing, so it is not conformant;
        a run the preflight stopped was not run at all; one that did not check everything
        is ``partial``, never conformant.
        """
        if self.run.preflight:
            return VERDICT_NOT_RUN
        if self.failing_at(Level.MUST) or not any(r.status == "passed" for r in self.requirements):
            return VERDICT_NONE
        if not self.complete:
            return VERDICT_PARTIAL
        if self.failing_at(Level.SHOULD):
            return VERDICT_MUST
        return VERDICT_SHOULD

    @property
    def figures(self) -> tuple[tuple[RequirementResult, Figure], ...]:
        """Every recorded figure with the requirement it belongs to."""
        return tuple((r, f) for r in self.requirements for f in r.figures)

    @property
    def by_status(self) -> Tally:
        """Status counts over the whole report."""
        return Tally.of(self.requirements)

    @property
    def by_level(self) -> dict[str, Tally]:
        """Status counts per RFC 2119 level, strongest first."""
        return {
            level.value: Tally.of(r for r in self.requirements if r.level is level)
            for level in Level
        }

    @property
    def by_area(self) -> dict[str, Tally]:
        """Status counts per area, in order of first appearance."""
        areas = dict.fromkeys(r.area for r in self.requirements)
        return {a: Tally.of(r for r in self.requirements if r.area == a) for a in areas}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form validated by the shipped schema."""
        run = self.run
        return {
            "schema_version": self.schema_version,
            "suite_version": self.suite_version,
            "catalogue_digest": self.catalogue_digest,
            "verdict": self.verdict,
            "failing_ids": list(self.failing_ids),
            "unexpected_passes": list(self.unexpected_passes),
            "provider": {
                "name": run.provider_name,
                "version": run.provider_version,
                "model": run.model,
                "capabilities": list(run.capabilities),
            },
            "options": dict(run.options),
            "environment": {
                "python": run.python,
                "platform": run.platform,
                "pytest": run.pytest_version,
                "opentelemetry_sdk": run.otel_sdk_version,
            },
            "run": {
                "started_at": run.started_at,
                "duration": run.duration,
                "suites": list(run.suites),
                "partial": run.is_partial,
                "workers": run.workers,
                "incomplete": [{"kind": s.kind, "detail": s.detail} for s in run.incomplete],
                "preflight": run.preflight,
                "profile": run.profile,
                "telemetry_profile": run.telemetry_profile,
            },
            "summary": {
                "total": self.by_status.to_dict(),
                "by_level": {k: v.to_dict() for k, v in self.by_level.items()},
                "by_area": {k: v.to_dict() for k, v in self.by_area.items()},
            },
            "requirements": [_result_to_dict(r) for r in self.requirements],
            "kit_figures": [_figure_to_dict(f) for f in self.kit_figures],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Rebuild a report from its JSON form; derived fields are recomputed, not trusted."""
        try:
            provider, env, run = data["provider"], data["environment"], data["run"]
            info = RunInfo(
                provider_name=provider["name"],
                provider_version=provider["version"],
                model=provider["model"],
                capabilities=tuple(provider["capabilities"]),
                options={str(k): str(v) for k, v in data["options"].items()},
                started_at=run["started_at"],
                duration=float(run["duration"]),
                python=env["python"],
                platform=env["platform"],
                pytest_version=env["pytest"],
                otel_sdk_version=env["opentelemetry_sdk"],
                suites=tuple(run["suites"]),
                partial=bool(run["partial"]),
                workers=int(run["workers"]),
                incomplete=tuple(Stop(s["kind"], s["detail"]) for s in run["incomplete"]),
                preflight=str(run.get("preflight", "")),
                profile=str(run.get("profile", "default")),
                telemetry_profile=str(run.get("telemetry_profile", DEFAULT_TELEMETRY_PROFILE)),
            )
            return cls(
                suite_version=data["suite_version"],
                catalogue_digest=data["catalogue_digest"],
                run=info,
                requirements=tuple(_result_from_dict(r) for r in data["requirements"]),
                schema_version=data["schema_version"],
                kit_figures=tuple(_figure_from_dict(f) for f in data.get("kit_figures", ())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"report data is malformed: {type(exc).__name__}: {exc}"
            raise ReportError(msg) from None


def _figure_to_dict(figure: Figure) -> dict[str, Any]:
    return {
        "name": figure.name,
        "value": figure.value,
        "unit": figure.unit,
        "budget": figure.budget,
        "higher_is_better": figure.higher_is_better,
        "within_budget": figure.within_budget,
        "detail": figure.detail,
    }


def _result_to_dict(result: RequirementResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "level": result.level.value,
        "title": result.title,
        "area": result.area,
        "capability": result.capability,
        "status": result.status,
        "reason": result.reason,
        "waiver": result.waiver,
        "unexpected_pass": result.unexpected_pass,
        "blocked_by": result.blocked_by,
        "tests": list(result.tests),
        "message": result.message,
        "figures": [_figure_to_dict(f) for f in result.figures],
    }


def _figure_from_dict(f: Mapping[str, Any]) -> Figure:
    return Figure(
        name=f["name"],
        value=float(f["value"]),
        unit=f["unit"],
        budget=None if f["budget"] is None else float(f["budget"]),
        higher_is_better=bool(f["higher_is_better"]),
        detail=f.get("detail", ""),
    )


def _result_from_dict(data: Mapping[str, Any]) -> RequirementResult:
    figures = tuple(_figure_from_dict(f) for f in data["figures"])
    status = data["status"]
    if status not in STATUSES:
        msg = f"status {status!r} of {data['id']!r} is not one of {STATUSES!r}"
        raise ValueError(msg)
    return RequirementResult(
        id=data["id"],
        level=Level(data["level"]),
        title=data["title"],
        area=data["area"],
        capability=data["capability"],
        status=status,
        reason=data["reason"],
        tests=tuple(data["tests"]),
        message=data["message"],
        figures=figures,
        waiver=data.get("waiver", ""),
        unexpected_pass=bool(data["unexpected_pass"]),
        blocked_by=str(data.get("blocked_by", "")),
    )
