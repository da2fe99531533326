"""Write every rendering of a report atomically, so a reader never sees half a file.

SPEC.md goes beside them when the report was made against the installed catalogue, so the
HTML report's requirement links resolve offline.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from chatmodels.conformance.report._load import dumps
from chatmodels.conformance.report._model import Report
from chatmodels.conformance.report._render import render_badge, render_html, render_markdown

__all__ = ["FILENAMES", "atomic_write", "write_reports"]

#: The file each rendering is written to, inside the report directory.
FILENAMES = {
    "json": "chatmodels-conformance.json",
    "html": "chatmodels-conformance.html",
    "md": "chatmodels-conformance.md",
    "badge": "badge.json",
    "spec": "SPEC.md",
}


def atomic_write(path: Path, text: str) -> None:
    """Replace *path* with *text* through a temporary file in the same directory."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_reports(report: Report, directory: Path) -> dict[str, Path]:
    """Render every format first, then write each; a failed render leaves old files untouched."""
    texts = {
        "json": dumps(report),
        "html": render_html(report),
        "md": render_markdown(report),
        "badge": render_badge(report),
    }
    spec = _spec_for(report)
    if spec is not None:
        texts["spec"] = spec
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in ("spec", "html", "md", "badge", "json"):
        if kind not in texts:
            continue
        path = directory / FILENAMES[kind]
        atomic_write(path, texts[kind])
        paths[kind] = path
    return {kind: paths[kind] for kind in FILENAMES if kind in paths}


def _spec_for(report: Report) -> str | None:
    """SPEC.md, which the HTML links each requirement to, when the report used this catalogue.

    SPEC.md is an aid: if it cannot be rendered (it parses the suites' source), the report is
    written without it rather than lost.
    """
    from chatmodels.conformance.requirements import CATALOGUE
    from chatmodels.conformance.spec import render_spec

    if report.catalogue_digest != CATALOGUE.digest():
        return None
    try:
        return render_spec()
    except Exception:  # e.g. CPython 3.11.7's "AST constructor recursion depth mismatch"
        return None
