"""Providers (and one telemetry capture) that break one performance requirement each."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chatmodels import _semconv as sc
from chatmodels.errors import ChatModelError
from chatmodels.messages import ChatChunk, ChatResult, Message, MessageLike
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.provider import Capability, ChatModel
from chatmodels.providers.reference import (
    REFERENCE_METADATA,
    ReferenceChatModel,
    ReferenceProvider,
)
from chatmodels.telemetry import InstrumentedChatModel
from scaffold import broken, catching, reference_provider

WRAPPER_BUSY_SECONDS = 200e-6


@catching("PERF-001", only="PERF-001")
class SlowResolution(ReferenceProvider):
    """Does 3 ms of start-up work (a file read, a handshake) every time it is built."""

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        time.sleep(0.003)
        super().__init__(options)


@catching("PERF-002", only="PERF-002")
class SlowCreation(ReferenceProvider):
    """Connects eagerly: 20 ms inside every create_chat_model."""

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> Any:
        time.sleep(0.020)
        return super().create_chat_model(model, options)


class _StallingModel(ReferenceChatModel):
    """Every 8th call stalls 100 ms (a reconnect, a cache rebuild)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._calls = itertools.count(1)

    def _latency(self, options: ChatOptions) -> float:
        stall = 0.1 if next(self._calls) % 8 == 0 else 0.0
        return super()._latency(options) + stall


class _SlowFirstChunkModel(ReferenceChatModel):
    """Sets up each stream slowly: 25 ms before the first chunk, on top of the latency."""

    def _iter_chunks(
        self, result: ChatResult, fault: ChatModelError | None, options: ChatOptions
    ) -> Iterator[ChatChunk]:
        time.sleep(0.025)
        yield from super()._iter_chunks(result, fault, options)


_GLOBAL_LOCK = threading.Lock()


class _SerialisingModel(ReferenceChatModel):
    """Holds one process-wide lock across every call, sync or async (blocking the loop)."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        with _GLOBAL_LOCK:
            return super()._invoke(messages, options)

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return self._invoke(messages, options)


#: The wait a fast serialising model holds its lock across: a sub-millisecond local call.
FAST_WAIT_SECONDS = 0.0005


class _FastSerialisingModel(_SerialisingModel):
    """Holds the process-wide lock across a 0.5 ms wait: fast, and still one caller at a time."""

    def _latency(self, options: ChatOptions) -> float:
        return FAST_WAIT_SECONDS


_SPIN_LOCK = threading.Lock()


class _SpinLockingModel(ReferenceChatModel):
    """Answers in microseconds, all CPU, but spins for a process-wide lock while another holds it.

    Alone it never waits; under many callers the spinners hold the GIL from the lock's holder.
    """

    def _latency(self, options: ChatOptions) -> float:
        return 0.0

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        while not _SPIN_LOCK.acquire(blocking=False):
            pass
        try:
            return super()._invoke(messages, options)
        finally:
            _SPIN_LOCK.release()


class _LoopBlockingModel(ReferenceChatModel):
    """Sleeps with time.sleep inside ainvoke, so concurrent tasks run one at a time."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return self._invoke(messages, options)


StallingCalls = broken(_StallingModel, catches="PERF-003", only="PERF-003")
SlowFirstChunk = broken(_SlowFirstChunkModel, catches="PERF-004", only="PERF-004")
SerialisesCallers = reference_provider(_SerialisingModel)
SerialisesFastCalls = reference_provider(_FastSerialisingModel)
SpinsForALock = reference_provider(_SpinLockingModel)
BlocksTheLoop = reference_provider(_LoopBlockingModel)


def _busy_wait(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


class _SlowInstrumentedChatModel(InstrumentedChatModel):
    """The library's instrumentation plus 200 us of busy work per call, as a careless wrapper."""

    __slots__ = ()

    def invoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        _busy_wait(WRAPPER_BUSY_SECONDS)
        return super().invoke(messages, options)

    async def ainvoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        _busy_wait(WRAPPER_BUSY_SECONDS)
        return await super().ainvoke(messages, options)


TELEMETRY_METADATA = dataclasses.replace(
    REFERENCE_METADATA, capabilities=REFERENCE_METADATA.capabilities | {Capability.TELEMETRY}
)


class _InstrumentsItselfModel(ReferenceChatModel):
    """Brings its own instrumentation: the library's, reporting to the providers it is given."""

    wrapper: type[InstrumentedChatModel] = InstrumentedChatModel

    def instrumented(self, tracer_provider: Any, meter_provider: Any) -> ChatModel:
        scope = sc.INSTRUMENTATION_SCOPE
        return self.wrapper(
            self, tracer_provider.get_tracer(scope), meter_provider.get_meter(scope)
        )


class _InstrumentsItselfSlowlyModel(_InstrumentsItselfModel):
    wrapper = _SlowInstrumentedChatModel


class InstrumentsItself(ReferenceProvider):
    """Declares 'telemetry' and instruments itself as cheaply as the library does."""

    metadata = TELEMETRY_METADATA
    chat_model_class = _InstrumentsItselfModel


class InstrumentsItselfSlowly(InstrumentsItself):
    """Declares 'telemetry'; its own instrumentation busy-waits 200 us per call."""

    chat_model_class = _InstrumentsItselfSlowlyModel
