"""The results journal: one JSON line per result as it arrives, so no run ends without evidence.

The first line is the run header; then one ``result`` line per test phase (the test's outcome
so far, the last line for a test wins), ``provider`` and ``stop`` lines as they happen, and
an ``end`` line once the report is written. A journal without its ``end`` line belongs to a
run that never finished: :func:`recover_report` rebuilds that run's report, marked crashed
or interrupted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from chatmodels.conformance.outcomes import Figure, TestOutcome
from chatmodels.conformance.report._build import MIN_SECRET_LENGTH, build_report, scrub
from chatmodels.conformance.report._errors import ReportError, read_text
from chatmodels.conformance.report._load import parse_json
from chatmodels.conformance.report._model import (
    DEFAULT_TELEMETRY_PROFILE,
    Report,
    RunInfo,
    Stop,
)
from chatmodels.conformance.requirements import Catalogue

__all__ = [
    "JOURNAL_VERSION",
    "Journal",
    "JournalWriter",
    "journal_path",
    "read_journal",
    "recover_report",
    "run_info",
]

JOURNAL_VERSION = 1

#: The phase after which pytest has nothing more to say about a test.
_LAST_PHASE = "teardown"


def journal_path(report_path: Path) -> Path:
    """Where the journal of the run that writes *report_path* lives: right beside it."""
    return report_path.with_name(report_path.name.removesuffix(".json") + ".journal.jsonl")


def _masked(secrets: Iterable[str]) -> list[str]:
    return sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


class JournalWriter:
    """Appends journal lines and flushes each one, so a killed process loses at most a line."""

    def __init__(self, path: Path, header: Mapping[str, Any], secrets: Iterable[str] = ()) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._secrets = _masked(secrets)
        self._handle: TextIO | None = path.open("w", encoding="utf-8", newline="\n")
        self._write({"kind": "header", "journal_version": JOURNAL_VERSION, **header})

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Scrub these literal values too from every later line."""
        self._secrets = _masked([*self._secrets, *secrets])

    def _write(self, record: Mapping[str, Any]) -> None:
        if self._handle is None:
            return
        text = json.dumps(record, ensure_ascii=False, allow_nan=False)
        self._handle.write(scrub(text, self._secrets) + "\n")
        self._handle.flush()

    def result(self, outcome: TestOutcome, phase: str) -> None:
        """Record *outcome*, the test's verdict after *phase*."""
        self._write(
            {
                "kind": "result",
                "nodeid": outcome.nodeid,
                "requirement": outcome.requirement_id,
                "phase": phase,
                "outcome": outcome.outcome,
                "duration": outcome.duration,
                "message": outcome.message,
                "figures": [asdict(f) for f in outcome.figures],
            }
        )

    def start(self, nodeid: str, requirement_id: str) -> None:
        """Record that a test is starting, so a crash before its first result still names it."""
        self._write({"kind": "start", "nodeid": nodeid, "requirement": requirement_id})

    def provider(self, summary: Mapping[str, Any]) -> None:
        """Record the provider once it is known (name, version, model, capabilities)."""
        self._write({"kind": "provider", **{k: v for k, v in summary.items() if k != "secrets"}})

    def stop(self, stop: Stop) -> None:
        """Record why the run will not check everything, the moment it is known."""
        self._write({"kind": "stop", "stop": stop.kind, "detail": stop.detail})

    def end(self, exitstatus: int, incomplete: Sequence[Stop], workers: int) -> None:
        """Record that the run finished and its report was written; then close."""
        self._write(
            {
                "kind": "end",
                "exitstatus": exitstatus,
                "workers": workers,
                "incomplete": [{"kind": s.kind, "detail": s.detail} for s in incomplete],
            }
        )
        self.close()

    def close(self) -> None:
        """Close the file; later writes are ignored."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass
class Journal:
    """What a journal file holds, folded: the header, the latest outcome per test, the stops."""

    header: dict[str, Any]
    provider: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, TestOutcome] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    stops: list[Stop] = field(default_factory=list)
    end: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        """Whether the run wrote its report and closed the journal."""
        return self.end is not None


def _outcome(record: Mapping[str, Any]) -> TestOutcome:
    return TestOutcome(
        str(record["nodeid"]),
        str(record["requirement"]),
        record["outcome"],
        float(record["duration"]),
        str(record["message"]),
        tuple(Figure(**f) for f in record["figures"]),
    )


def _fold(journal: Journal, record: Any) -> None:
    kind = record["kind"]
    if kind == "start":
        nodeid = str(record["nodeid"])
        journal.outcomes[nodeid] = TestOutcome(nodeid, str(record["requirement"]), "not_run")
        journal.phases[nodeid] = "start"
    elif kind == "result":
        nodeid = str(record["nodeid"])
        journal.outcomes[nodeid] = _outcome(record)
        journal.phases[nodeid] = str(record["phase"])
    elif kind == "provider":
        journal.provider = dict(record)
    elif kind == "stop":
        journal.stops.append(Stop(record["stop"], str(record["detail"])))
    elif kind == "end":
        journal.end = dict(record)


def read_journal(path: Path) -> Journal:
    """Read and fold the journal at *path*; a cut-off last line (a crash mid-write) is dropped."""
    lines = read_text(path, "journal", ReportError).splitlines()
    where = repr(str(path))
    if not lines:
        msg = f"journal {where} is empty: the run stopped before it started"
        raise ReportError(msg)
    header = parse_json(lines[0], f"{where} line 1")
    if not isinstance(header, dict) or header.get("kind") != "header":
        msg = f"{where} does not start with a journal header"
        raise ReportError(msg)
    if header.get("journal_version") != JOURNAL_VERSION:
        msg = (
            f"journal version mismatch in {where}: got {header.get('journal_version')!r}, "
            f"this tool reads {JOURNAL_VERSION!r}"
        )
        raise ReportError(msg)
    journal = Journal(header)
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = parse_json(line, f"{where} line {number}")
        except ReportError:
            if number == len(lines):
                break  # the process died while writing its last line
            raise
        try:
            _fold(journal, record)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = f"{where} line {number} is malformed: {type(exc).__name__}: {exc}"
            raise ReportError(msg) from None
    return journal


def run_info(
    header: Mapping[str, Any],
    provider: Mapping[str, Any],
    *,
    duration: float,
    workers: int,
    incomplete: Sequence[Stop],
    preflight: str = "",
) -> RunInfo:
    """The report's run description, from a journal header and the provider once known."""
    facts = {**header["provider"], **provider}
    env = header["environment"]
    return RunInfo(
        provider_name=str(facts["name"]),
        provider_version=str(facts["version"]),
        model=str(facts["model"]),
        capabilities=tuple(facts["capabilities"]),
        options={str(k): str(v) for k, v in facts["options"].items()},
        started_at=str(header["started_at"]),
        duration=duration,
        python=str(env["python"]),
        platform=str(env["platform"]),
        pytest_version=str(env["pytest"]),
        otel_sdk_version=str(env["opentelemetry_sdk"]),
        suites=tuple(header["suites"]),
        partial=bool(incomplete),
        workers=workers,
        incomplete=tuple(incomplete),
        preflight=preflight,
        profile=str(header.get("profile", "default")),
        telemetry_profile=str(header.get("telemetry_profile", DEFAULT_TELEMETRY_PROFILE)),
    )


def _unique(stops: Iterable[Stop]) -> list[Stop]:
    return list(dict.fromkeys(stops))


def recover_report(path: Path, catalogue: Catalogue) -> Report:
    """Rebuild the report of the run that wrote the journal at *path*."""
    journal = read_journal(path)
    header = journal.header
    try:
        if header["catalogue_digest"] != catalogue.digest():
            msg = (
                f"journal {str(path)!r} was written against another catalogue "
                f"({str(header['catalogue_digest'])[:12]}…); this suite is "
                f"{catalogue.digest()[:12]}…"
            )
            raise ReportError(msg)
        outcomes = dict(journal.outcomes)
        if journal.end is not None:
            stops = [Stop(s["kind"], s["detail"]) for s in journal.end["incomplete"]]
            workers = int(journal.end["workers"])
        else:
            stops = [Stop("filtered", f) for f in header["filters"]] + journal.stops
            workers = 0
            if not any(s.kind in ("interrupted", "crashed") for s in stops):
                stops.append(Stop("crashed", "the run ended without finishing its report"))
            for nodeid, phase in journal.phases.items():
                if phase != _LAST_PHASE and outcomes[nodeid].outcome in ("not_run", "passed"):
                    outcomes[nodeid] = TestOutcome(
                        nodeid,
                        outcomes[nodeid].requirement_id,
                        "error",
                        outcomes[nodeid].duration,
                        f"the run crashed while this test was running (at its {phase})",
                    )
        run = run_info(
            header, journal.provider, duration=0.0, workers=workers, incomplete=_unique(stops)
        )
        return build_report(catalogue, list(outcomes.values()), run, header["waivers"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, ReportError):
            raise
        msg = f"journal {str(path)!r} is malformed: {type(exc).__name__}: {exc}"
        raise ReportError(msg) from None
