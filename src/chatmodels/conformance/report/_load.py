"""Read a report back, refusing anything the gate could misread: every failure is one line."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from chatmodels.conformance.report._errors import ReportError, read_text
from chatmodels.conformance.report._model import SCHEMA_VERSION, Report
from chatmodels.conformance.requirements import SUITE_VERSION, Catalogue

__all__ = [
    "MAX_DEPTH",
    "dumps",
    "load_report",
    "parse_json",
    "report_from_data",
    "schema",
    "validate",
]

#: A report nests six levels deep; anything past this is refused before it is walked.
MAX_DEPTH = 32


class _NonFinite(Exception):
    """Raised from inside the JSON parser when it meets NaN or an infinity."""


def _constant(token: str) -> float:
    raise _NonFinite(token)


def _finite(token: str) -> float:
    value = float(token)
    if value != value or value in (float("inf"), float("-inf")):
        raise _NonFinite(token)
    return value


def _too_deep(data: Any) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str, where: str) -> Any:
    """Parse *text* that may hold only finite numbers and shallow nesting; else ReportError."""
    try:
        data = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except _NonFinite as exc:
        msg = f"{where} holds a non-finite number ({exc}); only finite numbers are allowed"
        raise ReportError(msg) from None
    except RecursionError:
        msg = f"{where} is nested deeper than {MAX_DEPTH} levels; it is not a report"
        raise ReportError(msg) from None
    except ValueError as exc:
        detail = " ".join(str(exc).split())[:200]
        msg = f"invalid JSON in {where} (truncated or corrupt?): {detail}"
        raise ReportError(msg) from None
    if _too_deep(data):
        msg = f"{where} is nested deeper than {MAX_DEPTH} levels; it is not a report"
        raise ReportError(msg)
    return data


def schema() -> dict[str, Any]:
    """The JSON Schema every report conforms to, as shipped in the package."""
    text = resources.files("chatmodels.conformance.report").joinpath("schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(data: Any) -> None:
    """Raise ReportError naming the JSON path of the first schema violation in *data*."""
    error = best_match(Draft202012Validator(schema()).iter_errors(data))
    if error is not None:
        detail = " ".join(error.message.split())
        if len(detail) > 200:
            detail = detail[:199] + "…"
        msg = f"schema violation at {error.json_path}: {detail}"
        raise ReportError(msg)


def dumps(report: Report) -> str:
    """The report's JSON text, validated before it is returned."""
    data = report.to_dict()
    validate(data)
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_report(
    path: Path,
    *,
    catalogue: Catalogue | None = None,
    suite_version: str | None = SUITE_VERSION,
    digest: str | None = None,
) -> Report:
    """Load and check the report at *path*.

    With *catalogue*, every ID and level must match it; with *digest*, the report must have
    been run against that catalogue. Stored counts and verdict must match the entries.
    """
    text = read_text(path, "report file", ReportError)
    data = parse_json(text, repr(str(path)))
    return report_from_data(
        data, str(path), catalogue=catalogue, suite_version=suite_version, digest=digest
    )


def report_from_data(
    data: Any,
    source: str,
    *,
    catalogue: Catalogue | None = None,
    suite_version: str | None = SUITE_VERSION,
    digest: str | None = None,
) -> Report:
    """Check parsed report *data* (read from *source*) as :func:`load_report` does."""
    path = source
    found = data.get("schema_version") if isinstance(data, dict) else None
    if found != SCHEMA_VERSION:
        msg = (
            f"schema version mismatch in {str(path)!r}: "
            f"got {found!r}, this tool reads {SCHEMA_VERSION!r}"
        )
        raise ReportError(msg)
    try:
        validate(data)
    except ReportError as exc:
        msg = f"{str(path)!r}: {exc}"
        raise ReportError(msg) from None
    if suite_version is not None and data["suite_version"] != suite_version:
        msg = (
            f"suite version mismatch in {str(path)!r}: "
            f"got {data['suite_version']!r}, expected {suite_version!r}"
        )
        raise ReportError(msg)
    if digest is not None and data["catalogue_digest"] != digest:
        msg = (
            f"catalogue digest mismatch in {str(path)!r}: the report was run against "
            f"{data['catalogue_digest'][:12]}…, this suite is {digest[:12]}…; pass "
            "--catalogue-digest or --any-catalogue to judge it anyway"
        )
        raise ReportError(msg)
    report = Report.from_dict(data)
    counts = Counter(r.id for r in report.requirements)
    if any(n > 1 for n in counts.values()):
        twice = sorted(i for i, n in counts.items() if n > 1)[:10]
        msg = f"requirements {twice!r} appear more than once in {str(path)!r}"
        raise ReportError(msg)
    if catalogue is not None:
        _check_catalogue(report, catalogue, path)
    _check_derived(data, report, path)
    return report


def _first_difference(stored: Any, again: Any, where: str) -> tuple[str, Any, Any] | None:
    if isinstance(stored, dict) and isinstance(again, dict):
        for key in again:
            found = _first_difference(stored.get(key), again[key], f"{where}.{key}")
            if found is not None:
                return found
        return None
    return None if stored == again else (where, stored, again)


def _check_derived(data: Any, report: Report, path: str) -> None:
    """Refuse a report whose stored verdict or counts are not what its entries give."""
    again = report.to_dict()
    for key in ("verdict", "failing_ids", "unexpected_passes", "summary", "run"):
        found = _first_difference(data[key], again[key], key)
        if found is not None:
            where, stored, computed = found
            msg = (
                f"{path!r}: stored {where} is {str(stored)[:60]!r}, but its requirement "
                f"entries give {str(computed)[:60]!r}; the report was edited or is corrupt"
            )
            raise ReportError(msg)


def _check_catalogue(report: Report, catalogue: Catalogue, path: str) -> None:
    for result in report.requirements:
        if result.id not in catalogue:
            msg = f"requirement {result.id!r} in {str(path)!r} is not in the catalogue"
            raise ReportError(msg)
        expected = catalogue.get(result.id).level
        if result.level is not expected:
            msg = (
                f"requirement {result.id!r} in {str(path)!r} has level {result.level.value!r}, "
                f"the catalogue says {expected.value!r}"
            )
            raise ReportError(msg)
