"""The compliance report: built from test outcomes, written as JSON, HTML, Markdown and a badge.

The JSON file is the source of truth, validated against the schema shipped beside this
module; the other formats and the CI gate read it back with :func:`load_report`.
"""

from __future__ import annotations

from chatmodels.conformance.report._build import REDACTED, aggregate, build_report, redact
from chatmodels.conformance.report._diff import Change, diff, format_diff
from chatmodels.conformance.report._errors import ReportError, WaiverError
from chatmodels.conformance.report._gate import gate
from chatmodels.conformance.report._journal import (
    Journal,
    JournalWriter,
    journal_path,
    read_journal,
    recover_report,
)
from chatmodels.conformance.report._load import dumps, load_report, schema, validate
from chatmodels.conformance.report._model import (
    FAILING_STATUSES,
    SCHEMA_VERSION,
    STATUSES,
    VERDICT_MUST,
    VERDICT_NONE,
    VERDICT_NOT_RUN,
    VERDICT_PARTIAL,
    VERDICT_SHOULD,
    Report,
    RequirementResult,
    RunInfo,
    Stop,
    Tally,
)
from chatmodels.conformance.report._render import (
    badge,
    render_badge,
    render_html,
    render_markdown,
    terminal_summary,
)
from chatmodels.conformance.report._waivers import load_expectations
from chatmodels.conformance.report._write import FILENAMES, atomic_write, write_reports

__all__ = [
    "FAILING_STATUSES",
    "FILENAMES",
    "REDACTED",
    "SCHEMA_VERSION",
    "STATUSES",
    "VERDICT_MUST",
    "VERDICT_NONE",
    "VERDICT_NOT_RUN",
    "VERDICT_PARTIAL",
    "VERDICT_SHOULD",
    "Change",
    "Journal",
    "JournalWriter",
    "Report",
    "ReportError",
    "RequirementResult",
    "RunInfo",
    "Stop",
    "Tally",
    "WaiverError",
    "aggregate",
    "atomic_write",
    "badge",
    "build_report",
    "diff",
    "dumps",
    "format_diff",
    "gate",
    "journal_path",
    "load_expectations",
    "load_report",
    "read_journal",
    "recover_report",
    "redact",
    "render_badge",
    "render_html",
    "render_markdown",
    "schema",
    "terminal_summary",
    "validate",
    "write_reports",
]
