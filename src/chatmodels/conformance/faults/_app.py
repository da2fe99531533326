"""The aiohttp application of the fault server: answers like the reference model, or misbehaves."""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import random
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from chatmodels.errors import ChatModelError
from chatmodels.messages import ChatChunk, ChatResult
from chatmodels.provider import ChatModel
from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceProvider

from ._fault import FAULT_HEADER, Fault, FaultError, RequestRecord, parse_fault
from ._messages_endpoint import MessagesEndpoint
from ._openai_json import (
    BadRequest,
    ChatRequest,
    chunk_events,
    completion_json,
    parse_chat_request,
)
from ._replies import (
    STATUS_FOR_CODE,
    bad_request,
    error_response,
    pad_for,
    play_early,
    send_body,
    send_frames,
    shaped,
)
from ._responses_endpoint import RESPONSES_ONLY, ResponsesEndpoint
from ._wire_defects import (
    defect_completion,
    defect_error_body,
    defect_stream,
    stream_content_type,
    stream_ends_with_done,
)

__all__ = ["DEFAULT_RANDOM_FAULTS", "FaultApp"]

#: Transient faults a client with retries should ride out, drawn when fault_rate > 0.
DEFAULT_RANDOM_FAULTS: tuple[Fault, ...] = (
    Fault.http_status(500),
    Fault.http_status(502),
    Fault.http_status(503),
    Fault.http_status(429, retry_after=0),
    Fault.reset(),
    Fault.latency(0.05),
)

#: The status of an answer the client hung up on, which never reaches the wire (as nginx logs it).
_CLIENT_GONE = 499


#: Default faults that take the whole server down, its model list included.
_OUTAGES = frozenset({"status", "reset"})

#: A fault's answer, given the request, its raw body and the fault to play.
Answer = Callable[[web.Request, bytes, Fault], Awaitable[web.StreamResponse]]


def _sse(event: Any) -> bytes:
    text = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


class FaultApp:
    """Hold the fault plan and the request log, and serve the OpenAI-compatible endpoints."""

    def __init__(
        self,
        *,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        random_faults: Sequence[Fault] = DEFAULT_RANDOM_FAULTS,
    ) -> None:
        if not 0.0 <= fault_rate <= 1.0:
            msg = f"fault_rate must be a probability in [0, 1], got {fault_rate!r}"
            raise FaultError(msg)
        if fault_rate > 0 and not random_faults:
            msg = "random_faults must hold at least one Fault when fault_rate > 0, got ()"
            raise FaultError(msg)
        self._fault_rate = fault_rate
        self._random_faults = tuple(random_faults)
        self._rng = random.Random(fault_seed)
        self._lock = threading.Lock()
        self._plan: collections.deque[Fault] = collections.deque()
        self._default: Fault | None = None
        self._log: dict[int, RequestRecord] = {}
        self._serial = itertools.count()
        self._reference = ReferenceProvider({"latency": 0})
        self._models: dict[str, ChatModel] = {}
        self._responses = ResponsesEndpoint(self._model)
        self._messages = MessagesEndpoint(self._model)

    # -- plan and log ------------------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        """Give the next requests these faults, in order."""
        with self._lock:
            self._plan.extend(faults)

    def set_default(self, fault: Fault | None) -> None:
        """Play *fault* whenever nothing else is planned; None restores normal answers.

        A default HTTP status or reset is a whole-server outage: ``GET /v1/models`` (what
        health checks probe) gets it too.
        """
        with self._lock:
            self._default = fault

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log, in arrival order."""
        with self._lock:
            return sorted(self._log.values(), key=lambda r: r.time)

    def reset_log(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._log.clear()

    def _choose(self, header: str | None) -> Fault:
        if header:
            return parse_fault(header)
        with self._lock:
            if self._plan:
                return self._plan.popleft()
            if self._fault_rate > 0 and self._rng.random() < self._fault_rate:
                return self._rng.choice(self._random_faults)
            return self._default or Fault.ok()

    def close(self) -> None:
        """Close the reference models."""
        with self._lock:
            models, self._models = list(self._models.values()), {}
        for model in models:
            model.close()

    # -- the application ---------------------------------------------------------------

    def build(self) -> web.Application:
        """Make the aiohttp application."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._respond)
        app.router.add_post("/v1/messages", self._message)
        app.router.add_get("/v1/models", self._list_models)
        app.router.add_get("/health", self._health)
        return app

    def _record(self, record: RequestRecord, serial: int | None = None) -> int:
        """Log a request when it arrives; its completion replaces the entry unless it was reset."""
        with self._lock:
            if serial is None:
                serial = next(self._serial)
            elif serial not in self._log:
                return serial
            self._log[serial] = record
            return serial

    async def _health(self, request: web.Request) -> web.StreamResponse:
        self._record(RequestRecord(time.monotonic(), "GET", request.path, False, "ok", 200))
        return web.json_response({"status": "ok"})

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            outage = self._default if self._default and self._default.kind in _OUTAGES else None
        early = None if outage is None else await play_early(request, outage)
        if outage is not None and early is not None:
            status = outage.status if outage.kind == "status" else None
            now = time.monotonic()
            self._record(RequestRecord(now, "GET", request.path, False, outage.kind, status))
            return early
        self._record(RequestRecord(time.monotonic(), "GET", request.path, False, "ok", 200))
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "chatmodels"}
            for name in REFERENCE_METADATA.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._answer)

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._responses.answer)

    async def _message(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, self._messages.answer)

    async def _handle(self, request: web.Request, answer: Answer) -> web.StreamResponse:
        """Choose the fault, log the request, answer it and log how it ended."""
        arrived = time.monotonic()
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        stream = isinstance(body, dict) and bool(body.get("stream"))
        try:
            fault: Fault | None = self._choose(request.headers.get(FAULT_HEADER))
        except FaultError as exc:
            fault, refusal = None, error_response(400, str(exc))
        kind = "ok" if fault is None else fault.kind
        record = RequestRecord(arrived, "POST", request.path, stream, kind, None, body)
        serial = self._record(record)
        status = None
        try:
            response = refusal if fault is None else await answer(request, raw, fault)
            if fault is not None and fault.kind == "wire" and response.status >= 400:
                response = self._defect_error(fault.defect, response)
            status = None if kind == "reset" else response.status
            return response
        except ConnectionResetError:
            # The client hung up mid-answer (a cancelled call): nothing to send, nothing to log.
            return web.Response(status=_CLIENT_GONE)
        finally:
            self._record(dataclasses.replace(record, status=status), serial)

    async def _answer(self, request: web.Request, raw: bytes, fault: Fault) -> web.StreamResponse:
        early = await play_early(request, fault)
        if early is not None:
            return early
        if fault.kind in RESPONSES_ONLY:
            message = f"fault {fault.header()!r} applies to /v1/responses only"
            return error_response(400, message)
        try:
            chat = parse_chat_request(raw)
        except BadRequest as exc:
            return bad_request(exc)
        try:
            if chat.stream:
                chunks = list(self._model(chat.model).stream(chat.messages, chat.options))
                return await self._send_stream(request, chat, chunks, fault)
            result = self._model(chat.model).invoke(chat.messages, chat.options)
        except ChatModelError as exc:
            return error_response(STATUS_FOR_CODE.get(exc.code, 500), exc.message)
        return await self._send_completion(request, result, fault)

    @staticmethod
    def _defect_error(defect: str, response: web.StreamResponse) -> web.StreamResponse:
        """Re-shape an error answer's body as the wire defect says."""
        if not isinstance(response, web.Response) or response.body is None:
            return response
        try:
            body = json.loads(bytes(response.body))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return response
        shaped = json.dumps(defect_error_body(defect, body))
        return web.Response(
            status=response.status,
            text=shaped,
            content_type="application/json",
            headers={k: v for k, v in response.headers.items() if k.lower() == "retry-after"},
        )

    def _model(self, name: str) -> ChatModel:
        with self._lock:
            model = self._models.get(name)
            if model is None:
                model = self._models[name] = self._reference.create_chat_model(name)
            return model

    async def _send_completion(
        self, request: web.Request, result: ChatResult, fault: Fault
    ) -> web.StreamResponse:
        payload = completion_json(result, created=int(time.time()))
        if fault.kind == "wire":
            payload = defect_completion(fault.defect, payload)
        return await send_body(request, payload, fault)

    async def _send_stream(
        self, request: web.Request, chat: ChatRequest, chunks: list[ChatChunk], fault: Fault
    ) -> web.StreamResponse:
        replaced = shaped(fault, "text/event-stream")
        if replaced is not None:
            return replaced
        events, content_events = chunk_events(
            chunks, model=chat.model, created=int(time.time()), include_usage=chat.include_usage
        )
        pad_for(fault, events[0])
        defect = fault.defect if fault.kind == "wire" else ""
        events = defect_stream(defect, events) if defect else events
        frames = [_sse(event) for event in events]
        cut = fault.kind == "cut_stream"
        if not cut and stream_ends_with_done(defect):
            frames.append(_sse("[DONE]"))
        return await send_frames(
            request,
            frames,
            fault,
            content_type=stream_content_type(defect),
            cut_at=min(fault.after_chunks, content_events) if cut else None,
        )
