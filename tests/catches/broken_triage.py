"""Deliberately broken providers for triage: a failing call style, a raising second close,
a provider that cannot answer at all. Each subclasses the reference and breaks one thing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from chatmodels.errors import InvalidResponseError, ServerError
from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions
from chatmodels.providers.reference import ReferenceChatModel, ReferenceProvider

_NO_CONTENT_TYPE = "the stream's response has no Content-Type; expected text/event-stream"


class _StreamAlwaysFails(ReferenceChatModel):
    """Every stream fails on its first read, as with a server whose streams lack Content-Type."""

    def _iter_chunks(
        self, result: ChatResult, fault: Any, options: ChatOptions
    ) -> Iterator[ChatChunk]:
        raise InvalidResponseError(_NO_CONTENT_TYPE, op="stream", provider="reference")
        yield  # pragma: no cover - makes this a generator

    async def _aiter_chunks(
        self, result: ChatResult, fault: Any, options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        raise InvalidResponseError(_NO_CONTENT_TYPE, op="astream", provider="reference")
        yield  # pragma: no cover - makes this an async generator


class _SecondCloseRaises(ReferenceChatModel):
    """close() and aclose() on a closed model raise, as closing a closed client can."""

    def close(self) -> None:
        if self.closed:
            msg = "the connection pool is already closed"
            raise RuntimeError(msg)
        super().close()

    async def aclose(self) -> None:
        if self.closed:
            msg = "the connection pool is already closed"
            raise RuntimeError(msg)
        await super().aclose()


class _EveryCallFails(ReferenceChatModel):
    """Every call fails with a server error, as behind a misconfigured gateway."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        raise ServerError("upstream answered 500 to everything", op="invoke", provider="reference")

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        raise ServerError("upstream answered 500 to everything", op="stream", provider="reference")


class StreamAlwaysFails(ReferenceProvider):
    chat_model_class = _StreamAlwaysFails


class SecondCloseRaises(ReferenceProvider):
    chat_model_class = _SecondCloseRaises


class EveryCallFails(ReferenceProvider):
    chat_model_class = _EveryCallFails
