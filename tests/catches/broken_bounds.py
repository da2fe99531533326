"""Hostile providers that hang or raise BaseExceptions: the kit must bound and contain them.

Each subclasses the reference model and breaks one call path for ever (or raises what no
provider may raise); ``tests/kit/test_bounded.py`` runs the suites against them in a subprocess.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions
from chatmodels.providers.reference import ReferenceChatModel
from scaffold import reference_provider

#: Set by nobody: a wait on it lasts for ever.
_NEVER = threading.Event()


class BlockedLoop(ReferenceChatModel):
    """_ainvoke blocks its event loop for an hour."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        time.sleep(3600)
        return await super()._ainvoke(messages, options)


class SlowAinvoke(ReferenceChatModel):
    """_ainvoke blocks its event loop for 20 s, then answers."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        time.sleep(20)
        return await super()._ainvoke(messages, options)


class SyncHang(ReferenceChatModel):
    """_invoke waits on an event no one sets, whatever its timeout says."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        _NEVER.wait()
        return super()._invoke(messages, options)


class EndlessStream(ReferenceChatModel):
    """_stream yields the same chunk every 10 ms, for ever."""

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        def endless() -> Iterator[ChatChunk]:
            while True:
                time.sleep(0.01)
                yield ChatChunk(delta="and on ")

        return endless()


class HangingClose(ReferenceChatModel):
    """close() never returns."""

    def _close(self) -> None:
        _NEVER.wait()


class InterruptingInvoke(ReferenceChatModel):
    """invoke raises KeyboardInterrupt, as if the user pressed Ctrl-C."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        raise KeyboardInterrupt


class ExitingInvoke(ReferenceChatModel):
    """invoke raises SystemExit."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        raise SystemExit(3)


class ProviderPanic(BaseException):
    """A custom BaseException, outside the Exception tree."""


class PanickingAinvoke(ReferenceChatModel):
    """ainvoke raises a custom BaseException."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        raise ProviderPanic("the provider gave up")


BlockedLoopProvider = reference_provider(BlockedLoop, latency=0.0)
SlowAinvokeProvider = reference_provider(SlowAinvoke, latency=0.0)
SyncHangProvider = reference_provider(SyncHang, latency=0.0)
EndlessStreamProvider = reference_provider(EndlessStream, latency=0.0)
HangingCloseProvider = reference_provider(HangingClose, latency=0.0)
InterruptingInvokeProvider = reference_provider(InterruptingInvoke, latency=0.0)
ExitingInvokeProvider = reference_provider(ExitingInvoke, latency=0.0)
PanickingAinvokeProvider = reference_provider(PanickingAinvoke, latency=0.0)
