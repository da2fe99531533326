"""Errors raised while building, loading or checking a compliance report.

ReportError (ValueError)    a report file is missing, malformed, or from another schema/suite
WaiverError (ValueError)    an expectations file is missing, malformed, or waives an unknown ID
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MAX_FILE_BYTES", "ReportError", "WaiverError", "read_text"]


class ReportError(ValueError):
    """A report could not be built or loaded; the message is one line naming the cause."""


class WaiverError(ValueError):
    """An expectations file is unusable; the message names the file and the bad entry."""


#: Larger than any real report, journal or expectations file; a bigger one is refused unread.
MAX_FILE_BYTES = 32 * 1024 * 1024


def read_text(
    path: Path, what: str, error: type[ValueError], *, limit: int = MAX_FILE_BYTES
) -> str:
    """Read *path* as UTF-8, turning any failure into *error* with a one-line message."""
    try:
        size = Path(path).stat().st_size
        if size > limit:
            msg = f"{what} {str(path)!r} is {size} bytes, over the {limit}-byte limit"
            raise error(msg)
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{what} not found: {str(path)!r}"
        raise error(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read {what} {str(path)!r}: {exc}"
        raise error(msg) from None
