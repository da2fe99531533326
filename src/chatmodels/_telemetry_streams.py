"""The stream wrappers of InstrumentedChatModel: time each chunk and end the span exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Generic, TypeVar

from opentelemetry import context as otel_context

from chatmodels import _semconv as sc
from chatmodels._telemetry_attributes import output_messages, response_attributes
from chatmodels.messages import ChatChunk, FinishReason, Message, Usage, merge_chunks

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from chatmodels.telemetry import InstrumentedChatModel

_perf = time.perf_counter
_I = TypeVar("_I")
_attach = otel_context.attach
_detach = otel_context.detach


class StreamState:
    """What one stream has seen so far, and the guard that ends its span exactly once."""

    __slots__ = (
        "_lock",
        "chunks",
        "ctx",
        "finish",
        "first_chunk_at",
        "last_at",
        "model",
        "open",
        "owner",
        "response_id",
        "span",
        "started",
        "usage",
    )

    def __init__(
        self, owner: InstrumentedChatModel, span: Span, ctx: otel_context.Context, started: float
    ) -> None:
        self.owner = owner
        self.span = span
        self.ctx = ctx
        self.started = started
        self.last_at = started
        self.first_chunk_at: float | None = None
        self.finish: FinishReason | None = None
        self.usage: Usage | None = None
        self.model: str | None = None
        self.response_id: str | None = None
        self.chunks: list[ChatChunk] | None = [] if owner._capture else None
        self.open = True
        self._lock = threading.Lock()

    def on_chunk(self, chunk: ChatChunk) -> None:
        now = _perf()
        self.model = self.model or chunk.model
        self.response_id = self.response_id or chunk.response_id
        self.finish = chunk.finish_reason or self.finish
        self.usage = chunk.usage or self.usage
        if self.chunks is not None:
            self.chunks.append(chunk)
        attrs = self.owner._metric_attributes(self.model)[0]
        if self.first_chunk_at is None:
            self.first_chunk_at = now
            self.owner._ttfc(now - self.started, attrs)
        else:
            self.owner._tpoc(now - self.last_at, attrs)
        self.last_at = now

    def _claim(self) -> bool:
        with self._lock:
            was_open, self.open = self.open, False
            return was_open

    def end(self, exc: BaseException | None = None, *, abandoned: bool = False) -> None:
        """End the span once: a success, a failure (*exc*), or a cancellation (*abandoned*)."""
        if not self._claim():
            return
        owner, span = self.owner, self.span
        if self.first_chunk_at is not None and span.is_recording():
            span.set_attribute(
                sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, self.first_chunk_at - self.started
            )
        if exc is None and abandoned and self.finish is None:
            exc = GeneratorExit()  # dropped before its final chunk: error.type "cancelled"
        if exc is not None:
            self._set_partial_response()
            owner._fail(span, exc, self.started, self.model)
            return
        owner._end_ok(
            span,
            self.started,
            self.finish,
            self.response_id,
            self.model,
            self.usage,
            self._output(),
        )

    def _output(self) -> str | None:
        if self.chunks is None:
            return None
        if self.finish is None:
            message = Message.assistant("".join(c.delta for c in self.chunks))
        else:
            message = merge_chunks(self.chunks).message
        return output_messages(message, self.finish)

    def _set_partial_response(self) -> None:
        if self.span.is_recording():
            attrs = response_attributes(None, self.response_id, self.model, self.usage, None)
            self.span.set_attributes(attrs)


class _Wrapper(Generic[_I]):
    """What both stream wrappers hold, and the end of a stream dropped without a close."""

    __slots__ = ("_inner", "_state")

    def __init__(self, inner: _I, state: StreamState) -> None:
        self._inner = inner
        self._state = state

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state is not None and state.open:
            state.end(abandoned=True)


class InstrumentedStream(_Wrapper[Iterator[ChatChunk]], Iterator[ChatChunk]):
    """Pass chunks through, timing them, with the span current while the provider runs."""

    __slots__ = ()

    def __iter__(self) -> InstrumentedStream:
        return self

    def __next__(self) -> ChatChunk:
        state = self._state
        token = _attach(state.ctx)
        try:
            chunk = next(self._inner)
        except StopIteration:
            state.end()
            raise
        except BaseException as exc:
            state.end(exc)
            raise
        finally:
            _detach(token)
        state.on_chunk(chunk)
        return chunk

    def close(self) -> None:
        """Stop the stream early; the provider's generator is closed and the span ended."""
        state = self._state
        if not state.open:
            return
        close = getattr(self._inner, "close", None)
        try:
            if close is not None:
                token = _attach(state.ctx)
                try:
                    close()
                finally:
                    _detach(token)
        finally:
            state.end(abandoned=True)


class InstrumentedAsyncStream(_Wrapper[AsyncIterator[ChatChunk]], AsyncIterator[ChatChunk]):
    """The async twin of InstrumentedStream."""

    __slots__ = ()

    def __aiter__(self) -> InstrumentedAsyncStream:
        return self

    async def __anext__(self) -> ChatChunk:
        state = self._state
        token = _attach(state.ctx)
        try:
            chunk = await self._inner.__anext__()
        except StopAsyncIteration:
            state.end()
            raise
        except BaseException as exc:
            state.end(exc)
            raise
        finally:
            _detach(token)
        state.on_chunk(chunk)
        return chunk

    async def aclose(self) -> None:
        """Stop the stream early; the provider's generator is closed and the span ended."""
        state = self._state
        if not state.open:
            return
        aclose = getattr(self._inner, "aclose", None)
        try:
            if aclose is not None:
                token = _attach(state.ctx)
                try:
                    await aclose()
                finally:
                    _detach(token)
        finally:
            state.end(abandoned=True)
