"""aiohttp answers every endpoint of the fault server shares: errors, faults that replace the
body, and bodies or event streams written whole, cut, or dripped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from chatmodels.errors import ErrorCode

from ._fault import Fault
from ._openai_json import BadRequest, error_json

__all__ = [
    "STATUS_FOR_CODE",
    "abort",
    "bad_request",
    "error_response",
    "event_frame",
    "pad_for",
    "play_early",
    "send_body",
    "send_frames",
    "send_typed_events",
    "shaped",
]

_STATUS_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
}

#: The HTTP status a reference error becomes.
STATUS_FOR_CODE = {
    ErrorCode.INVALID_INPUT: 400,
    ErrorCode.UNSUPPORTED: 400,
    ErrorCode.MODEL_NOT_FOUND: 404,
    ErrorCode.TIMEOUT: 408,
    ErrorCode.RATE_LIMIT: 429,
}

_MALFORMED = b'{"id": "chatcmpl-malformed", "object": "chat.completion", "choices": [{"index": '
_HTML = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"


def error_response(status: int, message: str, *, retry_after: object = None) -> web.Response:
    """An OpenAI-style error envelope (Open Responses uses the same), with Retry-After."""
    kind, code = _STATUS_TYPES.get(status, ("server_error" if status >= 500 else "api_error", None))
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    body = json.dumps(error_json(message, kind=kind, code=code))
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def event_frame(event: dict[str, Any]) -> bytes:
    """One SSE frame named by the event's own ``type`` (Messages and Responses both send that)."""
    data = json.dumps(event, ensure_ascii=False)
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


async def send_typed_events(
    request: web.Request,
    events: list[dict[str, Any]],
    fault: Fault,
    defect: Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]],
) -> web.StreamResponse:
    """Send events named by their ``type`` (Messages, Responses): replaced outright, padded,
    broken by the protocol's *defect* rewrite, or cut before the last, as the fault says."""
    replaced = shaped(fault, "text/event-stream")
    if replaced is not None:
        return replaced
    pad_for(fault, events[0])
    if fault.kind == "wire":
        events = defect(fault.defect, events)
    cut = fault.kind == "cut_stream"
    return await send_frames(
        request,
        [event_frame(event) for event in events],
        fault,
        cut_at=min(fault.after_chunks, len(events) - 1) if cut else None,
    )


def bad_request(exc: BadRequest) -> web.Response:
    """The 400 answer to a request a real server would refuse, naming the field at fault."""
    body = error_json(exc.message, kind="invalid_request_error", param=exc.param)
    return web.json_response(body, status=400)


def abort(request: web.Request) -> web.StreamResponse:
    """Drop the connection without an answer."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=200)


async def play_early(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """Play the faults that act before any answer: reset, latency (then None), status."""
    if fault.kind == "reset":
        return abort(request)
    if fault.kind == "latency":
        await asyncio.sleep(fault.delay)
    if fault.kind == "status":
        message = f"fault injected: HTTP {fault.status}"
        return error_response(fault.status, message, retry_after=fault.retry_after)
    return None


def shaped(fault: Fault, content_type: str) -> web.Response | None:
    """Answer the faults that replace the body outright, or return None."""
    if fault.kind == "malformed_json":
        stream = content_type == "text/event-stream"
        broken = b"data: " + _MALFORMED + b"\n\n" if stream else _MALFORMED
        return web.Response(status=200, body=broken, content_type=content_type)
    if fault.kind == "wrong_content_type":
        return web.Response(status=200, text=_HTML, content_type="text/html")
    if fault.kind == "empty_200":
        return web.Response(status=200, body=b"", content_type=content_type)
    return None


def pad_for(fault: Fault, payload: dict[str, Any]) -> None:
    """Grow *payload* (a body, or a stream's first event) past the size limit for huge_body."""
    if fault.kind == "huge_body":
        payload["x_padding"] = "x" * fault.size


async def send_body(
    request: web.Request, payload: dict[str, Any], fault: Fault
) -> web.StreamResponse:
    """Send a whole JSON answer: shaped, padded, cut halfway, dripped in pieces, or as it is."""
    replaced = shaped(fault, "application/json")
    if replaced is not None:
        return replaced
    pad_for(fault, payload)
    body = json.dumps(payload, ensure_ascii=False).encode()
    if fault.kind not in ("cut_stream", "drip"):
        return web.Response(status=200, body=body, content_type="application/json")
    response = web.StreamResponse(status=200)
    response.content_type = "application/json"
    response.content_length = len(body)
    await response.prepare(request)
    if fault.kind == "cut_stream":
        await response.write(body[: len(body) // 2])
        return abort(request)
    step = max(1, len(body) // 8)
    for start in range(0, len(body), step):
        await response.write(body[start : start + step])
        await asyncio.sleep(fault.delay)
    await response.write_eof()
    return response


async def send_frames(
    request: web.Request,
    frames: Sequence[bytes],
    fault: Fault,
    *,
    content_type: str | None = "text/event-stream",
    cut_at: int | None = None,
) -> web.StreamResponse:
    """Send SSE frames; *cut_at* frames then a dropped connection when the fault cuts."""
    response = web.StreamResponse(status=200, headers={"Cache-Control": "no-cache"})
    if content_type is not None:
        response.content_type = content_type
    if cut_at is not None:
        frames = frames[:cut_at]
        response.force_close()
    await response.prepare(request)
    delay = fault.delay if fault.kind == "drip" else 0.0
    for frame in frames:
        await response.write(frame)
        if delay:
            await asyncio.sleep(delay)
    await response.write_eof()
    return response
