"""Which call style each requirement relies on to examine something else, as data.

A requirement listed here uses invoke, stream or async calls only as a means (to produce
spans, load, timings). When the requirement that judges that call style itself fails, the
dependent cannot be examined: the report shows it ``blocked by`` that root, not failed.
"""

from __future__ import annotations

__all__ = ["CALL_STYLE_ROOTS", "DEPENDS_ON"]

#: The requirement that fails when a call style does not work at all.
INVOKE = "CORE-001"
STREAM = "STREAM-002"
ASYNC = "ASYNC-001"

CALL_STYLE_ROOTS: tuple[str, ...] = (INVOKE, STREAM, ASYNC)

_ALL_STYLES = (INVOKE, STREAM, ASYNC)
_SYNC_STYLES = (INVOKE, STREAM)
_INVOKE_AND_ASYNC = (INVOKE, ASYNC)

#: Requirement ID -> the call-style roots it depends on, checked in this order.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    **{f"OTEL-{n:03d}": _ALL_STYLES for n in range(1, 17)},
    **{f"CONC-{n:03d}": _ALL_STYLES for n in range(1, 12)},
    "PERF-003": _SYNC_STYLES,
    "PERF-004": _SYNC_STYLES,
    "PERF-005": _INVOKE_AND_ASYNC,
    "PERF-006": _SYNC_STYLES,
    "PERF-007": _SYNC_STYLES,
}
