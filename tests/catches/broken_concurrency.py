"""Providers that break one concurrency requirement each; the concurrency suite must catch them.

Each provider class is a conftest factory (a ReferenceProvider subclass); each model class
overrides the few methods that carry its bug. Whatever they start stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from chatmodels.errors import ChatCancelledError
from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.providers.reference import ReferenceChatModel, ReferenceProvider
from scaffold import catching

_LEAKED_THREAD_LIFE = 5.0
_STRANDED = 10.0
_RACE_WINDOW = 0.002


class _Counted(ReferenceChatModel):
    """Counts its sync calls in flight, for bugs that only show under contention."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._busy = 0
        self._busy_lock = threading.Lock()

    @contextlib.contextmanager
    def _call(self) -> Iterator[bool]:
        """Yield whether another sync call is in flight."""
        with self._busy_lock:
            self._busy += 1
            contended = self._busy > 1
        try:
            yield contended
        finally:
            with self._busy_lock:
                self._busy -= 1


# -- CONC-001 ----------------------------------------------------------------------------


class _EmptiesUnderLoadModel(_Counted):
    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        with self._call() as contended:
            result = super()._invoke(messages, options)
        if contended:  # a shared text buffer was flushed by the neighbour
            return dataclasses.replace(result, message=Message.assistant(""))
        return result


@catching("CONC-001")
class EmptiesAnswersUnderLoad(ReferenceProvider):
    """invoke returns an empty answer whenever another invoke is in flight."""

    chat_model_class = _EmptiesUnderLoadModel


# -- CONC-002 ----------------------------------------------------------------------------


class _SharedBufferModel(ReferenceChatModel):
    _buffer: ChatResult

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self._buffer = self._answer(messages, options)
        time.sleep(self._latency(options))
        return self._buffer

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self._buffer = self._answer(messages, options)
        await asyncio.sleep(self._latency(options))
        return self._buffer

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        self._buffer = self._answer(messages, options)
        time.sleep(self._latency(options))
        yield from self._chunks(self._buffer, options)

    async def _astream(  # type: ignore[override]
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        self._buffer = self._answer(messages, options)
        await asyncio.sleep(self._latency(options))
        for chunk in self._chunks(self._buffer, options):
            yield chunk


@catching("CONC-002")
class SharesResponseBuffer(ReferenceProvider):
    """Every call parks its answer in one model-wide attribute and reads it back after waiting."""

    chat_model_class = _SharedBufferModel


# -- CONC-003 ----------------------------------------------------------------------------


class _RaisesUnderContentionModel(_Counted):
    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        with self._call() as contended:
            if contended:
                msg = "dictionary changed size during iteration"
                raise RuntimeError(msg)
            return super()._invoke(messages, options)


@catching(
    "CONC-003",
    also={"CONC-001", "CONC-006"},
    because="the failed calls return no answer (CONC-001) and fail in flight during close "
    "(CONC-006)",
)
class RaisesRuntimeErrorUnderContention(ReferenceProvider):
    """invoke raises a bare RuntimeError whenever another invoke is in flight."""

    chat_model_class = _RaisesUnderContentionModel


# -- CONC-004 ----------------------------------------------------------------------------


class _BlockingModel(ReferenceChatModel):
    async def _await(self, seconds: float, budget: Any) -> None:
        time.sleep(seconds)  # the bug: a sync sleep inside async code
        await asyncio.sleep(0)


@catching("CONC-004")
class BlocksEventLoop(ReferenceProvider):
    """Async calls wait with time.sleep, stalling every other task on the loop."""

    chat_model_class = _BlockingModel


SLEEP_IN_AINVOKE = 0.02


class _SleepsInAinvokeModel(ReferenceChatModel):
    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        time.sleep(SLEEP_IN_AINVOKE)  # the bug: 20 ms of sync sleep on the event loop
        return await super()._ainvoke(messages, options)


class SleepsInAinvoke(ReferenceProvider):
    """ainvoke sleeps 20 ms with time.sleep before answering: CONC-004 and ASYNC-005 both fail."""

    chat_model_class = _SleepsInAinvokeModel


# -- CONC-005 ----------------------------------------------------------------------------


class _DeafToCancelModel(ReferenceChatModel):
    async def _await(self, seconds: float, budget: Any) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # the bug
            await super()._await(seconds, budget)


@catching("CONC-005")
class IgnoresCancellation(ReferenceProvider):
    """Async waits swallow CancelledError, so a cancelled stream runs on to its end."""

    chat_model_class = _DeafToCancelModel


class _CancelAsErrorModel(ReferenceChatModel):
    async def _await(self, seconds: float, budget: Any) -> None:
        try:
            await super()._await(seconds, budget)
        except asyncio.CancelledError:  # the bug: asyncio.timeout and task groups need it
            msg = "the call was cancelled"
            raise ChatCancelledError(msg, op="ainvoke") from None


class TurnsCancellationIntoError(ReferenceProvider):
    """Async waits answer cancellation with ChatCancelledError instead of letting it propagate.

    Fails CONC-005 and CANCEL-001 alike: both require asyncio.CancelledError.
    """

    chat_model_class = _CancelAsErrorModel


# -- CONC-006 ----------------------------------------------------------------------------


class _StrandsOnCloseModel(ReferenceChatModel):
    def _wait(self, seconds: float, budget: Any) -> None:
        super()._wait(seconds, budget)
        if self._closed:  # waits for a reply that close() threw away
            time.sleep(_STRANDED)

    async def _await(self, seconds: float, budget: Any) -> None:
        await super()._await(seconds, budget)
        if self._closed:
            await asyncio.sleep(_STRANDED)


class HangsInFlightCallsOnClose(ReferenceProvider):
    """Calls in flight when the model closes wait 10 s for a reply that never comes."""

    chat_model_class = _StrandsOnCloseModel


# -- CONC-007 ----------------------------------------------------------------------------


class _ForgetfulModel(ReferenceChatModel):
    def close(self) -> None:
        self._close()  # releases resources but never marks the model closed

    async def aclose(self) -> None:
        await self._aclose()


@catching("CONC-007")
class KeepsAnsweringAfterClose(ReferenceProvider):
    """close() releases resources but later calls still go out and answer."""

    chat_model_class = _ForgetfulModel


# -- CONC-008 ----------------------------------------------------------------------------


class _ThreadLeakModel(ReferenceChatModel):
    def _answer(self, messages: Any, options: ChatOptions) -> ChatResult:
        leaked = threading.Thread(
            target=time.sleep, args=(_LEAKED_THREAD_LIFE,), name="leaked-per-call", daemon=True
        )
        leaked.start()
        return super()._answer(messages, options)


@catching(
    "CONC-008",
    also={"CONC-014"},
    because="its stream threads outlive closed streams too, which is CONC-014",
)
class LeaksThreadPerCall(ReferenceProvider):
    """Every call starts a helper thread that lingers for 5 s."""

    chat_model_class = _ThreadLeakModel


# -- CONC-009 ----------------------------------------------------------------------------


class _FileLeakModel(ReferenceChatModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._held: list[int] = []

    def _answer(self, messages: Any, options: ChatOptions) -> ChatResult:
        self._held.append(os.open(os.devnull, os.O_RDONLY))  # one descriptor per call
        return super()._answer(messages, options)

    def _close(self) -> None:
        held, self._held = self._held, []
        for fd in held:
            os.close(fd)


@catching("CONC-009")
class LeaksFileDescriptorPerCall(ReferenceProvider):
    """Every call opens a descriptor that is only released when the model closes."""

    chat_model_class = _FileLeakModel


# -- CONC-010 ----------------------------------------------------------------------------


class _SocketLeakModel(ReferenceChatModel):
    def _answer(self, messages: Any, options: ChatOptions) -> ChatResult:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # dropped unclosed: ResourceWarning
        return super()._answer(messages, options)


# ResourceWarning is ignored for the run, as Python does by default, so only the suite test
# that records warnings on purpose sees it.
@catching("CONC-010", args=("-W", "ignore::ResourceWarning"))
class LeaksSocketPerCall(ReferenceProvider):
    """Every call opens a socket and drops it without closing it."""

    chat_model_class = _SocketLeakModel


# -- CONC-011 ----------------------------------------------------------------------------


class _UnawaitedModel(ReferenceChatModel):
    async def _record_call(self) -> None:
        """Meant to record the call; the bug is that nobody awaits it."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self._record_call()  # type: ignore[unused-coroutine]
        return await super()._ainvoke(messages, options)


# RuntimeWarning is ignored for the run, so only the suite test that records warnings sees it.
@catching("CONC-011", args=("-W", "ignore::RuntimeWarning"))
class LeavesCoroutineUnawaited(ReferenceProvider):
    """ainvoke creates a coroutine and drops it without awaiting it."""

    chat_model_class = _UnawaitedModel


# -- CONC-012 ----------------------------------------------------------------------------


@catching("CONC-012")
class NotReentrantProvider(ReferenceProvider):
    """Construction sets a class-wide flag without a lock and refuses to overlap with itself."""

    _initialising = False

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        cls = type(self)
        if cls._initialising:
            msg = "provider initialisation is already in progress"
            raise RuntimeError(msg)
        cls._initialising = True
        try:
            time.sleep(_RACE_WINDOW)  # loading a shared tokenizer, say
            super().__init__(options)
        finally:
            cls._initialising = False


# -- CONC-013 ----------------------------------------------------------------------------


@catching("CONC-013")
class RacyModelCreation(ReferenceProvider):
    """create_chat_model parks the new model on the provider, so racing creators share one."""

    _latest: ReferenceChatModel

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> ReferenceChatModel:
        self._latest = super().create_chat_model(model, options)
        time.sleep(_RACE_WINDOW)  # warming the model, say
        return self._latest
