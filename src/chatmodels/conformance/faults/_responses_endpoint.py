"""``POST /v1/responses`` of the fault server: the reference's answers as Open Responses,
and every fault, including the protocol's own: a failed or incomplete end, wire defects."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from chatmodels.errors import ChatModelError
from chatmodels.messages import merge_chunks
from chatmodels.provider import ChatModel

from ._fault import Fault
from ._openai_json import BadRequest
from ._replies import (
    STATUS_FOR_CODE,
    bad_request,
    error_response,
    play_early,
    send_body,
    send_typed_events,
)
from ._responses_defects import RESPONSES_WIRE_DEFECTS, defect_events, end_as, end_response
from ._responses_json import parse_responses_request, response_events, response_json

__all__ = ["RESPONSES_ONLY", "ResponsesEndpoint"]

#: Fault kinds only this endpoint plays: the stream ends with response.failed / .incomplete.
RESPONSES_ONLY = frozenset({"failed_stream", "incomplete"})
_ENDS = {"failed_stream": "failed", "incomplete": "incomplete"}


class ResponsesEndpoint:
    """Answer create-response requests from the reference models *model_for* hands out."""

    def __init__(self, model_for: Callable[[str], ChatModel]) -> None:
        self._model_for = model_for

    async def answer(self, request: web.Request, raw: bytes, fault: Fault) -> web.StreamResponse:
        """Play *fault* on one create-response request."""
        early = await play_early(request, fault)
        if early is not None:
            return early
        if fault.kind == "wire" and fault.defect not in RESPONSES_WIRE_DEFECTS:
            message = f"fault {fault.header()!r} is a chat-completions defect; /v1/responses "
            message += f"plays {sorted(RESPONSES_WIRE_DEFECTS)!r}"
            return error_response(400, message)
        try:
            call = parse_responses_request(raw)
        except BadRequest as exc:
            return bad_request(exc)
        created = int(time.time())
        try:
            model = self._model_for(call.model)
            if not call.stream:
                result = model.invoke(call.messages, call.options)
                payload = response_json(result, call.echo, created=created)
                return await self._send_whole(request, payload, fault)
            chunks = list(model.stream(call.messages, call.options))
        except ChatModelError as exc:
            return error_response(STATUS_FOR_CODE.get(exc.code, 500), exc.message)
        events = response_events(merge_chunks(chunks), chunks, call.echo, created=created)
        return await self._send_stream(request, events, fault)

    @staticmethod
    async def _send_whole(
        request: web.Request, payload: dict[str, Any], fault: Fault
    ) -> web.StreamResponse:
        if fault.kind in _ENDS:
            payload = end_response(payload, _ENDS[fault.kind])
        return await send_body(request, payload, fault)

    @staticmethod
    async def _send_stream(
        request: web.Request, events: list[dict[str, Any]], fault: Fault
    ) -> web.StreamResponse:
        if fault.kind in _ENDS:
            events = end_as(events, _ENDS[fault.kind])
        return await send_typed_events(request, events, fault, defect_events)
