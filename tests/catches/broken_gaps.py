"""Deliberately broken providers for the defects the 2.0 suite let through (issue 14).

Each model subclasses the reference and overrides one step, so exactly the named requirement
breaks; the factories are made by the scaffold of ``broken_contract_features``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence

from broken_faults import _Broken
from broken_telemetry import Attributes, ShimCapture
from chatmodels import _semconv as sc
from chatmodels.errors import AuthenticationError, ChatModelError, ErrorCode
from chatmodels.messages import ChatChunk, ChatResult, Message, Role
from chatmodels.options import ChatOptions
from chatmodels.provider import HealthState, HealthStatus
from chatmodels.providers.openai import OpenAIChatModel
from chatmodels.providers.reference import ReferenceChatModel
from scaffold import broken, reference_provider

# -- ERR and CONC-003 through the fault hook ------------------------------------------------


class _RateLimitAsKeyError(ReferenceChatModel):
    """Reads a 429's body by a key it lacks, as a hand-rolled error mapper might."""

    def _fault(self, op: str) -> ChatModelError | None:
        fault = super()._fault(op)
        if fault is not None and fault.code is ErrorCode.RATE_LIMIT:
            raise KeyError("error")
        return fault


RateLimitAsKeyError = reference_provider(_RateLimitAsKeyError)


class _RetryableAuthentication(ReferenceChatModel):
    """Marks a rejected key retryable, so retry middleware hammers the API with it."""

    def _fault(self, op: str) -> ChatModelError | None:
        fault = super()._fault(op)
        if fault is not None and fault.code is ErrorCode.AUTHENTICATION:
            return AuthenticationError(fault.message, op=op, retryable=True)
        return fault


RetryableAuthentication = reference_provider(_RetryableAuthentication)


# -- STREAM-008 ------------------------------------------------------------------------------


class _SwitchesModelMidStream(ReferenceChatModel):
    """Names a fallback model on the last chunk, as a router failing over mid-answer might."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        chunks[-1] = dataclasses.replace(chunks[-1], model=f"{result.model}-fallback")
        return chunks


SwitchesModelMidStream = broken(_SwitchesModelMidStream, catches="STREAM-008", only="STREAM,CORE")


# -- HEALTH-003 / HEALTH-004 -----------------------------------------------------------------


class _HealthyAfterClose(ReferenceChatModel):
    """Answers its probe from a cached answer, forgetting that close() released the model."""

    def _health_check(self) -> HealthStatus:
        return HealthStatus(HealthState.HEALTHY, 0.0)


HealthyAfterClose = broken(_HealthyAfterClose, catches="HEALTH-003", only="HEALTH,LIFE")


class _HealthyWithoutProbing(OpenAIChatModel):
    """Reports HEALTHY while open without asking the server, as a lazy readiness probe might."""

    def _health_check(self) -> HealthStatus:
        if self.closed:
            return HealthStatus(HealthState.UNHEALTHY, 0.0, "closed")
        return HealthStatus(HealthState.HEALTHY, 0.0)


class HealthyWithoutProbing(_Broken):
    """The openai provider with a health check that never reaches the server."""

    model_class = _HealthyWithoutProbing


# -- MSG-008 ---------------------------------------------------------------------------------


class _DropsSystemMessages(ReferenceChatModel):
    """Sends only user, assistant and tool turns upstream, as an adapter without a system slot."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        kept = [m for m in messages if m.role is not Role.SYSTEM]
        return super()._answer(kept, options)


DropsSystemMessages = reference_provider(_DropsSystemMessages)


# -- OTEL-018 --------------------------------------------------------------------------------

_DURATIONS = frozenset(profile.duration.name for profile in sc.PROFILES.values())


class DurationInMsCapture(ShimCapture):
    """Records each call's duration in milliseconds under unit 's', as a ported timer might."""

    def record(self, name: str, value: float, attrs: Attributes) -> list[tuple[float, Attributes]]:
        return [(value * 1000.0 if name in _DURATIONS else value, attrs)]


# -- CONC-014 --------------------------------------------------------------------------------

#: Seconds the producer takes per chunk, as an upstream would send them.
_PRODUCE_EVERY = 0.05


class _ProducerOutlivesConsumer(ReferenceChatModel):
    """Streams through a producer task (a thread for sync) that reads the whole answer even
    after its consumer is cancelled or closed: the work nobody reads is still paid for."""

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        chunks = self._chunks(self._answer(messages, options), options)
        box: queue.Queue[ChatChunk] = queue.Queue()

        def produce() -> None:
            for chunk in chunks:
                time.sleep(_PRODUCE_EVERY)
                box.put(chunk)

        threading.Thread(target=produce, name="producer", daemon=True).start()
        return (box.get() for _ in chunks)

    def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        chunks = self._chunks(self._answer(messages, options), options)

        async def relay() -> AsyncIterator[ChatChunk]:
            box: asyncio.Queue[ChatChunk] = asyncio.Queue()

            async def produce() -> None:
                for chunk in chunks:
                    await asyncio.sleep(_PRODUCE_EVERY)
                    await box.put(chunk)

            _PRODUCERS.add(asyncio.ensure_future(produce()))
            for _ in chunks:
                yield await box.get()

        return relay()


ProducerOutlivesConsumer = reference_provider(_ProducerOutlivesConsumer)


#: Strong references to the producer tasks, as a provider's task set would keep them.
_PRODUCERS: set[asyncio.Future[None]] = set()


class _SyncProducerOutlivesConsumer(_ProducerOutlivesConsumer):
    """Only the sync path keeps producing; the async one is the reference's."""

    _astream = ReferenceChatModel._astream


SyncProducerOutlivesConsumer = reference_provider(_SyncProducerOutlivesConsumer)
