"""Which call styles each requirement relies on to examine something else, as data.

A requirement listed here uses invoke, stream or async calls only as a means: to produce
spans, load or timings, or to exercise messages, tools and timeouts in every calling style.
When the requirement that judges such a call style itself fails, the dependent cannot be
examined: the report shows it ``blocked by`` that root, not failed.
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
_ASYNC_STREAMS = (STREAM, ASYNC)

#: Requirement ID -> the call-style roots it depends on, checked in this order.
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    "ASYNC-002": _ASYNC_STREAMS,
    "ASYNC-003": _INVOKE_AND_ASYNC,
    "ASYNC-004": _ALL_STYLES,
    "MSG-001": _ALL_STYLES,
    "MSG-002": _ALL_STYLES,
    "MSG-003": _ALL_STYLES,
    "TOOLS-001": _SYNC_STYLES,
    "JSON-002": (STREAM,),
    "TOOLS-007": _SYNC_STYLES,
    "TOOLS-009": _SYNC_STYLES,
    "OPT-005": _SYNC_STYLES,
    "SCHEMA-002": (STREAM,),
    "VISION-001": _SYNC_STYLES,
    "REASON-001": _SYNC_STYLES,
    "META-001": _ALL_STYLES,
    "CANCEL-001": _ASYNC_STREAMS,
    "TIMEOUT-001": _SYNC_STYLES,
    "TIMEOUT-002": _ASYNC_STREAMS,
    **{f"OTEL-{n:03d}": _ALL_STYLES for n in range(1, 17)},
    **{f"CONC-{n:03d}": _ALL_STYLES for n in range(1, 12)},
    "PERF-003": _SYNC_STYLES,
    "PERF-004": _SYNC_STYLES,
    "PERF-005": _INVOKE_AND_ASYNC,
    "PERF-006": _SYNC_STYLES,
}
