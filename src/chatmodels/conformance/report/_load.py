"""Read a report back, refusing anything the gate could misread: every failure is one line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from chatmodels.conformance.report._errors import ReportError, read_text
from chatmodels.conformance.report._model import SCHEMA_VERSION, Report
from chatmodels.conformance.requirements import SUITE_VERSION, Catalogue

__all__ = ["dumps", "load_report", "schema", "validate"]


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
) -> Report:
    """Load and check the report at *path*; with *catalogue*, every ID and level must match it."""
    text = read_text(path, "report file", ReportError)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON in {str(path)!r} (truncated or corrupt?): {exc}"
        raise ReportError(msg) from None
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
    report = Report.from_dict(data)
    ids = [r.id for r in report.requirements]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        msg = f"requirements {twice!r} appear more than once in {str(path)!r}"
        raise ReportError(msg)
    if catalogue is not None:
        _check_catalogue(report, catalogue, path)
    return report


def _check_catalogue(report: Report, catalogue: Catalogue, path: Path) -> None:
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
