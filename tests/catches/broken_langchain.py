"""LangChain chat models for the langchain bridge: one correct echo fake, and one defect each.

Every model subclasses LangChain's own fakes (``GenericFakeChatModel``) or ``ChatOpenAI``, so
the suites judge them through the bundled ``langchain`` provider exactly as a LangChain
integration author would run them. Each module-level name is a provider factory for the
``chatmodels_provider`` fixture.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import openai
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import Field

from chatmodels.providers.langchain import LangChainProvider
from scaffold import broken

#: The echo fake is deterministic and reports usage; LangChain cannot say so by itself.
ECHO_OPTIONS = {"deterministic": "true", "capabilities": "+usage"}


class EchoFake(GenericFakeChatModel):
    """A correct fake: answers "Echo: <last message>", word by word when streamed, with usage."""

    messages: Iterator[AIMessage | str] = Field(default_factory=lambda: iter(()))
    latency: float = 0.005

    def _text(self, messages: list[BaseMessage]) -> str:
        return f"Echo: {messages[-1].text}"

    def _usage(self, messages: list[BaseMessage], text: str) -> UsageMetadata:
        used = sum(len(m.text.split()) + 1 for m in messages)
        produced = len(text.split())
        return {
            "input_tokens": used,
            "output_tokens": produced,
            "total_tokens": used + produced,
        }

    def _final(self, messages: list[BaseMessage], text: str) -> dict[str, Any]:
        return {
            "usage_metadata": self._usage(messages, text),
            "response_metadata": {"finish_reason": "stop", "model_name": "echo-fake"},
        }

    def _answer(self, messages: list[BaseMessage]) -> str:
        text = self._text(messages)
        time.sleep(self.latency)
        return text

    async def _aanswer(self, messages: list[BaseMessage]) -> str:
        text = self._text(messages)
        await asyncio.sleep(self.latency)
        return text

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        text = self._answer(messages)
        message = AIMessage(content=text, **self._final(messages, text))
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        text = await self._aanswer(messages)
        message = AIMessage(content=text, **self._final(messages, text))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _streamed(self, text: str) -> str:
        return text

    def _chunks(self, messages: list[BaseMessage], text: str) -> Iterator[ChatGenerationChunk]:
        shown = self._streamed(text)
        for token in (t for t in re.split(r"(\s)", shown) if t):
            yield ChatGenerationChunk(message=AIMessageChunk(content=token))
        final = AIMessageChunk(content="", **self._final(messages, text))
        yield ChatGenerationChunk(message=final)

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        yield from self._chunks(messages, self._answer(messages))

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in self._chunks(messages, await self._aanswer(messages)):
            yield chunk


class _CrossTalkFake(EchoFake):
    """Parks each answer in one class-wide slot and reads it back after the wait."""

    _slot: ClassVar[dict[str, str]] = {}

    def _answer(self, messages: list[BaseMessage]) -> str:
        self._slot["answer"] = self._text(messages)
        time.sleep(max(self.latency, 0.02))
        return self._slot["answer"]

    async def _aanswer(self, messages: list[BaseMessage]) -> str:
        self._slot["answer"] = self._text(messages)
        await asyncio.sleep(max(self.latency, 0.02))
        return self._slot["answer"]


class _StreamDiffersFake(EchoFake):
    """Streams the answer without its last word, while invoke returns all of it."""

    def _streamed(self, text: str) -> str:
        return text.rsplit(" ", 1)[0]


class _UsageOffByOneFake(EchoFake):
    """Reports a total one token above input plus output."""

    def _usage(self, messages: list[BaseMessage], text: str) -> UsageMetadata:
        usage = super()._usage(messages, text)
        usage["total_tokens"] += 1
        return usage


class _BareRateLimitOpenAI(ChatOpenAI):
    """A ChatOpenAI integration that re-raises a 429 as a bare RuntimeError, losing its type."""

    def _generate(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super()._generate(*args, **kwargs)
        except openai.RateLimitError as exc:
            msg = f"the service is busy: {exc}"
            raise RuntimeError(msg) from None

    async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._agenerate(*args, **kwargs)
        except openai.RateLimitError as exc:
            msg = f"the service is busy: {exc}"
            raise RuntimeError(msg) from None

    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        try:
            yield from super()._stream(*args, **kwargs)
        except openai.RateLimitError as exc:
            msg = f"the service is busy: {exc}"
            raise RuntimeError(msg) from None

    async def _astream(self, *args: Any, **kwargs: Any) -> Any:
        try:
            async for chunk in super()._astream(*args, **kwargs):
                yield chunk
        except openai.RateLimitError as exc:
            msg = f"the service is busy: {exc}"
            raise RuntimeError(msg) from None


#: A FAULT run re-points the provider at the kit's server; this address only has to parse, so
#: the preflight (which would call it) is off.
HTTP_OPTIONS = (
    "--chatmodels-option",
    "base_url=http://127.0.0.1:9/v1",
    "--chatmodels-option",
    "model=reference-echo",
    "--chatmodels-setting",
    "preflight_timeout=0",
    # langchain-openai leaks sockets (a waived ChatOpenAI defect, CONC-009/010); when GC finds
    # one at unconfigure, the inner run's unraisable-exception check would crash the run.
    "-p",
    "no:unraisableexception",
)

Echo = LangChainProvider.from_class(EchoFake, **ECHO_OPTIONS)
CrossTalk = broken(LangChainProvider.from_class(_CrossTalkFake, **ECHO_OPTIONS), catches="CONC-002")
StreamDiffersFromInvoke = broken(
    LangChainProvider.from_class(_StreamDiffersFake, **ECHO_OPTIONS), catches="STREAM-001"
)
UsageDoesNotAddUp = broken(
    LangChainProvider.from_class(_UsageOffByOneFake, **ECHO_OPTIONS), catches="USAGE-001"
)
BareRateLimit = broken(
    LangChainProvider.from_class(
        _BareRateLimitOpenAI, api_key="sk-fake", stream_usage=True, deterministic="true"
    ),
    catches="FAULT-002",
    also={"FAULT-007", "FAULT-014", "FAULT-016"},
    because="as with the openai provider's RateLimitKeyError, the bare error also escapes the "
    "Retry-After retry, the load test and the one-off 429",
    args=HTTP_OPTIONS,
)
