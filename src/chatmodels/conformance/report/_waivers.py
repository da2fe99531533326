"""Expectations files: the requirements an author knows their provider fails, each with a reason.

The file is TOML with one table, ``[waivers]``, mapping a requirement ID to a non-empty reason::

    [waivers]
    "STREAM-003" = "upstream API sends usage on every chunk; tracked in #12"
    "PERF-002" = "shared CI runners are too slow for the latency budget"

A waived requirement that fails or errors is reported as ``waived`` and does not fail the
gate. A waived requirement that passes is flagged ``unexpected_pass`` and fails the gate
until its waiver is removed, so the file never outlives the bugs it describes. Waiving an
ID the catalogue does not know, leaving a reason empty, or any other table, is an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from chatmodels.conformance.report._errors import WaiverError, read_text
from chatmodels.conformance.requirements import Catalogue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = ["load_expectations"]


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.lstrip().startswith((f'"{key}"', f"'{key}'", key)):
            return number
    return 0


def load_expectations(path: Path, catalogue: Catalogue) -> dict[str, str]:
    """Read the waivers in *path*, checking each ID against *catalogue*."""
    text = read_text(path, "expectations file", WaiverError)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = f"invalid TOML in expectations file {str(path)!r}: {exc}"
        raise WaiverError(msg) from None
    extra = sorted(set(data) - {"waivers"})
    if extra:
        msg = f"{str(path)!r}: unexpected key {extra[0]!r}; expected only a [waivers] table"
        raise WaiverError(msg)
    table = data.get("waivers", {})
    if not isinstance(table, dict):
        msg = f'{str(path)!r}: \'waivers\' must be a table of "ID" = "reason", got {table!r}'
        raise WaiverError(msg)
    waivers: dict[str, str] = {}
    for key, reason in table.items():
        where = f"{str(path)!r} line {_line_of(text, key)}"
        if key not in catalogue:
            msg = f"{where}: waiver names unknown requirement {key!r}"
            raise WaiverError(msg)
        if not isinstance(reason, str) or not reason.strip():
            msg = f"{where}: waiver for {key!r} needs a non-empty reason string, got {reason!r}"
            raise WaiverError(msg)
        waivers[key] = reason.strip()
    return waivers
