"""``POST /v1/messages`` of the fault server: the reference's answers as Anthropic Messages,
and every fault, including the protocol's own: an ``error`` event mid-stream
(``failed_stream``), ``overloaded_error`` as HTTP 529, a ``max_tokens`` end (``incomplete``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from chatmodels.errors import ChatModelError
from chatmodels.messages import merge_chunks
from chatmodels.provider import ChatModel

from ._fault import Fault
from ._messages_defects import MESSAGES_WIRE_DEFECTS, defect_error, defect_events
from ._messages_json import error_body, message_events, message_json, parse_messages_request
from ._openai_json import BadRequest
from ._replies import STATUS_FOR_CODE, play_early, send_body, send_typed_events

__all__ = ["MessagesEndpoint"]

#: What a failed stream sends where its end should be: the overload Anthropic documents.
_OVERLOADED = {"type": "overloaded_error", "message": "fault injected: overloaded mid-stream"}


class MessagesEndpoint:
    """Answer create-message requests from the reference models *model_for* hands out."""

    def __init__(self, model_for: Callable[[str], ChatModel]) -> None:
        self._model_for = model_for

    @staticmethod
    def _error(fault: Fault, status: int, message: str, retry_after: object = None) -> web.Response:
        body = error_body(status, message)
        if fault.kind == "wire":
            body = defect_error(fault.defect, body)
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return web.json_response(body, status=status, headers=headers)

    async def answer(self, request: web.Request, raw: bytes, fault: Fault) -> web.StreamResponse:
        """Play *fault* on one create-message request."""
        if fault.kind == "status":
            message = f"fault injected: HTTP {fault.status}"
            return self._error(fault, fault.status, message, fault.retry_after)
        early = await play_early(request, fault)
        if early is not None:
            return early
        if fault.kind == "wire" and fault.defect not in MESSAGES_WIRE_DEFECTS:
            message = f"fault {fault.header()!r} is not a Messages defect; /v1/messages "
            message += f"plays {sorted(MESSAGES_WIRE_DEFECTS)!r}"
            return self._error(fault, 400, message)
        try:
            call = parse_messages_request(raw)
        except BadRequest as exc:
            return self._error(fault, 400, exc.message)
        try:
            model = self._model_for(call.model)
            if not call.stream:
                result = model.invoke(call.messages, call.options)
            else:
                chunks = list(model.stream(call.messages, call.options))
                result = merge_chunks(chunks)
        except ChatModelError as exc:
            return self._error(fault, STATUS_FOR_CODE.get(exc.code, 500), exc.message)
        if not call.stream:
            if fault.kind == "failed_stream":
                return self._error(fault, 529, _OVERLOADED["message"])
            payload = message_json(result)
            if fault.kind == "incomplete":
                payload["stop_reason"] = "max_tokens"
            return await send_body(request, payload, fault)
        return await self._send_stream(request, message_events(result, chunks), fault)

    @staticmethod
    async def _send_stream(
        request: web.Request, events: list[dict[str, Any]], fault: Fault
    ) -> web.StreamResponse:
        if fault.kind == "incomplete":
            for event in events:
                if event["type"] == "message_delta":
                    event["delta"]["stop_reason"] = "max_tokens"
        if fault.kind == "failed_stream":
            # The content so far, then the error where message_delta and message_stop belong.
            last_stop = max(i for i, e in enumerate(events) if e["type"] == "content_block_stop")
            events = [*events[:last_stop], {"type": "error", "error": dict(_OVERLOADED)}]
        return await send_typed_events(request, events, fault, defect_events)
