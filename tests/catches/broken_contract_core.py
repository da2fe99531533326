"""Deliberately broken providers for the contract suite, part one: one failure mode each.

Each model subclasses the reference model and overrides one step; ``broken`` wraps it in a
provider factory for the ``chatmodels_provider`` fixture. Latency is 0 to keep runs fast.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any, ClassVar

from chatmodels.errors import ChatModelError, InvalidInputError, NetworkError
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    Role,
    Usage,
)
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.provider import BatchResult, Capability
from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceChatModel
from scaffold import broken


def _with_text(result: ChatResult, text: str, **changes: Any) -> ChatResult:
    return dataclasses.replace(result, message=Message.assistant(text), **changes)


# -- CORE ------------------------------------------------------------------------------


class EmptyAnswer(ReferenceChatModel):
    """Returns an assistant message with no text and no tool calls."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        return _with_text(super()._answer(messages, options), "")


EmptyAnswerProvider = broken(EmptyAnswer, catches="CORE-001", latency=0.0)


class ToolCallsFinishWithoutCalls(ReferenceChatModel):
    """Maps every finish reason to 'tool_calls', even for plain text answers."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        return dataclasses.replace(result, finish_reason=FinishReason.TOOL_CALLS)


ToolCallsFinishWithoutCallsProvider = broken(
    ToolCallsFinishWithoutCalls, catches="CORE-002", latency=0.0
)


class UnnamedModel(ReferenceChatModel):
    """Leaves the result's model name empty."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        return dataclasses.replace(super()._answer(messages, options), model="")


UnnamedModelProvider = broken(UnnamedModel, catches="CORE-003", latency=0.0)


class NoResponseId(ReferenceChatModel):
    """Never assigns a response id."""

    def _new_response_id(self) -> str:
        return ""


NoResponseIdProvider = broken(NoResponseId, catches="CORE-004", latency=0.0)


# -- ASYNC -----------------------------------------------------------------------------


class AsyncDropsUsage(ReferenceChatModel):
    """The async path forgets to report usage."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return dataclasses.replace(await super()._ainvoke(messages, options), usage=None)


AsyncDropsUsageProvider = broken(
    AsyncDropsUsage,
    catches="ASYNC-001",
    also={"ASYNC-003"},
    because="abatch is built on ainvoke, so it loses usage too",
    latency=0.0,
)


class AsyncStreamDropsLastDelta(ReferenceChatModel):
    """The async stream forwards the final chunk's finish reason but not its text."""

    def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        inner = super()._astream(messages, options)

        async def chunks() -> AsyncIterator[ChatChunk]:
            async for chunk in inner:
                yield dataclasses.replace(chunk, delta="") if chunk.finish_reason else chunk

        return chunks()


AsyncStreamDropsLastDeltaProvider = broken(
    AsyncStreamDropsLastDelta, catches="ASYNC-002", latency=0.0
)


class AbatchIgnoresOptions(ReferenceChatModel):
    """abatch forwards the items but not the options."""

    async def abatch(
        self,
        inputs: Sequence[Sequence[Any] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        return await super().abatch(inputs, None, max_concurrency=max_concurrency)


AbatchIgnoresOptionsProvider = broken(AbatchIgnoresOptions, catches="ASYNC-003", latency=0.0)


class RefusesSyncInAsyncioThreads(ReferenceChatModel):
    """Mistakes asyncio's executor threads for the event loop and refuses sync calls there."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        if threading.current_thread().name.startswith("asyncio"):
            msg = "invoke() cannot be called from async code; use ainvoke()"
            raise RuntimeError(msg)
        return super()._invoke(messages, options)


RefusesSyncInAsyncioThreadsProvider = broken(
    RefusesSyncInAsyncioThreads, catches="ASYNC-004", latency=0.0
)


class BlockingAinvoke(ReferenceChatModel):
    """Runs the blocking sync call straight inside the coroutine."""

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return self._invoke(messages, options)


BlockingAinvokeProvider = broken(BlockingAinvoke, catches="ASYNC-005", latency=0.01)


# -- STREAM ----------------------------------------------------------------------------


class StripsDeltas(ReferenceChatModel):
    """Strips whitespace from every delta, gluing words together."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [
            dataclasses.replace(c, delta=c.delta.strip()) for c in super()._chunks(result, options)
        ]


StripsDeltasProvider = broken(StripsDeltas, catches="STREAM-001", latency=0.0)


class RepeatsFinishReason(ReferenceChatModel):
    """Puts the finish reason on every chunk."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [
            dataclasses.replace(c, finish_reason=result.finish_reason)
            for c in super()._chunks(result, options)
        ]


RepeatsFinishReasonProvider = broken(RepeatsFinishReason, catches="STREAM-002", latency=0.0)


class TrailingChunkAfterFinish(ReferenceChatModel):
    """Sends an empty chunk after the finish chunk, as a raw '[DONE]' would."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [*super()._chunks(result, options), ChatChunk(response_id=result.response_id)]


TrailingChunkAfterFinishProvider = broken(
    TrailingChunkAfterFinish,
    catches="STREAM-002",
    also={"STREAM-003", "STREAM-005"},
    because="the finish reason and usage are no longer on the last chunk, and the last chunk "
    "is empty",
    latency=0.0,
)


class UsageOnEveryChunk(ReferenceChatModel):
    """Reports the final usage on every chunk."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [
            dataclasses.replace(c, usage=result.usage) for c in super()._chunks(result, options)
        ]


UsageOnEveryChunkProvider = broken(UsageOnEveryChunk, catches="STREAM-003", latency=0.0)


class StreamUsageOffByOne(ReferenceChatModel):
    """Counts one extra output token when streaming."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        usage = result.usage
        assert usage is not None
        extra = Usage(usage.input_tokens, usage.output_tokens + 1)
        return [*chunks[:-1], dataclasses.replace(chunks[-1], usage=extra)]


StreamUsageOffByOneProvider = broken(StreamUsageOffByOne, catches="STREAM-003", latency=0.0)


class NewIdPerChunk(ReferenceChatModel):
    """Gives every chunk a fresh response id."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        return [
            dataclasses.replace(c, response_id=f"ref-{uuid.uuid4().hex}")
            for c in super()._chunks(result, options)
        ]


NewIdPerChunkProvider = broken(NewIdPerChunk, catches="STREAM-004", latency=0.0)


class EmptyKeepAliveChunks(ReferenceChatModel):
    """Forwards the transport's empty keep-alive chunks between real ones."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks: list[ChatChunk] = []
        for chunk in super()._chunks(result, options):
            chunks += [ChatChunk(response_id=result.response_id), chunk]
        return chunks


EmptyKeepAliveChunksProvider = broken(EmptyKeepAliveChunks, catches="STREAM-005", latency=0.0)


class AbandonedStreamHoldsConnection(ReferenceChatModel):
    """Holds its one connection until a stream is read to the end, so a closed one leaks it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._connection = threading.Lock()

    def _take(self) -> None:
        if not self._connection.acquire(blocking=False):
            msg = "the connection is busy with another response"
            raise NetworkError(msg, op="invoke", provider=self._metadata.name)

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self._take()
        try:
            return super()._invoke(messages, options)
        finally:
            self._connection.release()

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self._take()
        try:
            return await super()._ainvoke(messages, options)
        finally:
            self._connection.release()

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        inner = super()._stream(messages, options)

        def chunks() -> Iterator[ChatChunk]:
            self._take()
            yield from inner
            self._connection.release()  # not in a finally: close() skips it

        return chunks()

    def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        inner = super()._astream(messages, options)

        async def chunks() -> AsyncIterator[ChatChunk]:
            self._take()
            async for chunk in inner:
                yield chunk
            self._connection.release()

        return chunks()


AbandonedStreamHoldsConnectionProvider = broken(
    AbandonedStreamHoldsConnection, catches="STREAM-006", latency=0.0
)


class ToolDeltaIndexPerFragment(ReferenceChatModel):
    """Gives every tool-call fragment its own index, so one call merges into several."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = []
        fragment = 0
        for chunk in super()._chunks(result, options):
            deltas = []
            for delta in chunk.tool_call_deltas:
                deltas.append(dataclasses.replace(delta, index=fragment))
                fragment += 1
            chunks.append(dataclasses.replace(chunk, tool_call_deltas=tuple(deltas)))
        return chunks


ToolDeltaIndexPerFragmentProvider = broken(
    ToolDeltaIndexPerFragment, catches="STREAM-007", latency=0.0
)


# -- BATCH -----------------------------------------------------------------------------


class _OwnBatch(ReferenceChatModel):
    """Replaces the base class's batch with ``_run_batch``, as a hand-written adapter would."""

    def batch(
        self,
        inputs: Sequence[Sequence[Any] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        return self._run_batch(list(inputs), options)

    def _run_batch(self, inputs: list[Any], options: OptionsLike) -> BatchResult:
        raise NotImplementedError

    def _one(self, item: Any, options: OptionsLike) -> ChatResult | ChatModelError:
        try:
            return self.invoke(item, options)
        except ChatModelError as exc:
            return exc


class BatchInCompletionOrder(_OwnBatch):
    """Collects batch answers with as_completed, so they come back in finishing order."""

    def _run_batch(self, inputs: list[Any], options: OptionsLike) -> BatchResult:
        def slow(position: int, item: Any) -> ChatResult | ChatModelError:
            time.sleep(0.02 * (len(inputs) - position))  # later items happen to finish first
            return self._one(item, options)

        with ThreadPoolExecutor(max_workers=max(len(inputs), 1)) as pool:
            futures = [pool.submit(slow, i, item) for i, item in enumerate(inputs)]
            return [f.result() for f in as_completed(futures)]


BatchInCompletionOrderProvider = broken(BatchInCompletionOrder, catches="BATCH-001", latency=0.0)


class BatchFailsFast(_OwnBatch):
    """Lets the first failing item's error escape the whole batch."""

    def _run_batch(self, inputs: list[Any], options: OptionsLike) -> BatchResult:
        return [self.invoke(item, options) for item in inputs]


BatchFailsFastProvider = broken(BatchFailsFast, catches="BATCH-002", latency=0.0)


class EmptyBatchCrashes(_OwnBatch):
    """Sizes its thread pool by the batch, which fails for an empty batch."""

    def _run_batch(self, inputs: list[Any], options: OptionsLike) -> BatchResult:
        with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
            return list(pool.map(lambda item: self._one(item, options), inputs))


EmptyBatchCrashesProvider = broken(EmptyBatchCrashes, catches="BATCH-003", latency=0.0)


# -- MSG -------------------------------------------------------------------------------


class _RejectsRole(ReferenceChatModel):
    """Refuses conversations containing one role as invalid input."""

    rejected: ClassVar[Role]

    def _check_messages(self, messages: Sequence[Message]) -> None:
        if any(m.role is self.rejected for m in messages):
            msg = f"{self.rejected.value} messages are not supported"
            raise InvalidInputError(msg, op="message", provider=self._metadata.name)
        super()._check_messages(messages)


class RejectsAssistantTurns(_RejectsRole):
    """Only understands user turns, so history with assistant turns is refused."""

    rejected = Role.ASSISTANT


RejectsAssistantTurnsProvider = broken(RejectsAssistantTurns, catches="MSG-001", latency=0.0)


class RejectsSystemMessages(_RejectsRole):
    """Declares system messages, then refuses them."""

    rejected = Role.SYSTEM


RejectsSystemMessagesProvider = broken(
    RejectsSystemMessages,
    catches="MSG-002",
    also={"MSG-008"},
    because="refusing system messages also keeps them from the model, which MSG-008 checks",
    latency=0.0,
)


class SplitsUtf8InStreams(ReferenceChatModel):
    """Decodes each streamed byte slice on its own, mangling characters cut in half."""

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        data = "".join(c.delta for c in chunks).encode()
        if not data:
            return chunks
        pieces = [data[i : i + 5].decode("utf-8", errors="replace") for i in range(0, len(data), 5)]
        tag = {"model": result.model, "response_id": result.response_id}
        mangled = [ChatChunk(delta=p, **tag) for p in pieces]
        last = dataclasses.replace(
            mangled[-1], finish_reason=result.finish_reason, usage=result.usage
        )
        return [*mangled[:-1], last]


SplitsUtf8InStreamsProvider = broken(SplitsUtf8InStreams, catches="MSG-003", latency=0.0)


class IndexesEmptyConversation(ReferenceChatModel):
    """Reads the last message before validating, so an empty list is an IndexError."""

    def _prepare(
        self, op: str, messages: Sequence[Any] | str, options: OptionsLike
    ) -> tuple[tuple[Message, ...], ChatOptions]:
        if not isinstance(messages, str):
            _ = messages[-1]
        return super()._prepare(op, messages, options)


IndexesEmptyConversationProvider = broken(IndexesEmptyConversation, catches="MSG-004", latency=0.0)


class EmptyContentIsValueError(ReferenceChatModel):
    """Checks empty user content itself, before the base class, with a bare ValueError."""

    def _prepare(
        self, op: str, messages: Sequence[Any] | str, options: OptionsLike
    ) -> tuple[tuple[Message, ...], ChatOptions]:
        if not isinstance(messages, str) and any(
            isinstance(m, Message) and m.role is Role.USER and not m.content for m in messages
        ):
            msg = "empty content"
            raise ValueError(msg)
        return super()._prepare(op, messages, options)


EmptyContentIsValueErrorProvider = broken(EmptyContentIsValueError, catches="MSG-005", latency=0.0)


class UnknownRoleIsKeyError(ReferenceChatModel):
    """Maps dict roles through its own table, so an unknown role is a KeyError."""

    _ROLES: ClassVar[dict[str, Role]] = {r.value: r for r in Role}

    def _prepare(
        self, op: str, messages: Sequence[Any] | str, options: OptionsLike
    ) -> tuple[tuple[Message, ...], ChatOptions]:
        if not isinstance(messages, str):
            messages = [
                Message(self._ROLES[m["role"]], m.get("content", "")) if isinstance(m, dict) else m
                for m in messages
            ]
        return super()._prepare(op, messages, options)


UnknownRoleIsKeyErrorProvider = broken(UnknownRoleIsKeyError, catches="MSG-006", latency=0.0)


class VagueInputLimit(ReferenceChatModel):
    """Refuses long input without saying what the limit is."""

    def _check_messages(self, messages: Sequence[Message]) -> None:
        try:
            super()._check_messages(messages)
        except InvalidInputError as exc:
            if "max_input_tokens" in exc.message:
                msg = "the input is too long"
                raise InvalidInputError(msg, op="message", provider=self._metadata.name) from None
            raise


VagueInputLimitProvider = broken(VagueInputLimit, catches="MSG-007", latency=0.0)


# -- OPT -------------------------------------------------------------------------------


class IgnoresMaxTokens(ReferenceChatModel):
    """Drops max_tokens before answering."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        return super()._answer(messages, dataclasses.replace(options, max_tokens=None))


IgnoresMaxTokensProvider = broken(IgnoresMaxTokens, catches="OPT-001", latency=0.0)


class KeepsStopSequence(ReferenceChatModel):
    """Cuts after the stop sequence instead of before it."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, dataclasses.replace(options, stop=()))
        text = result.message.content
        found = [(text.find(s), s) for s in options.stop if s in text]
        if not found:
            return result
        at, stop = min(found)
        return _with_text(result, text[: at + len(stop)])


KeepsStopSequenceProvider = broken(KeepsStopSequence, catches="OPT-002", latency=0.0)


class _RewritesOptions(ReferenceChatModel):
    """Rewrites an options mapping before the library validates it."""

    def _rewrite(self, options: dict[str, Any]) -> dict[str, Any]:
        return options

    def _prepare(
        self, op: str, messages: Sequence[Any] | str, options: OptionsLike
    ) -> tuple[tuple[Message, ...], ChatOptions]:
        if isinstance(options, Mapping):
            options = self._rewrite(dict(options))
        return super()._prepare(op, messages, options)


class ClampsOptions(_RewritesOptions):
    """Clamps out-of-range sampling options into range instead of refusing them."""

    def _rewrite(self, options: dict[str, Any]) -> dict[str, Any]:
        if "temperature" in options:
            options["temperature"] = max(options["temperature"], 0)
        if "top_p" in options:
            options["top_p"] = min(max(options["top_p"], 0.01), 1)
        if "max_tokens" in options:
            options["max_tokens"] = max(options["max_tokens"], 1)
        return options


ClampsOptionsProvider = broken(ClampsOptions, catches="OPT-003", latency=0.0)


class IgnoresUnknownExtra(_RewritesOptions):
    """Silently drops extra options it does not understand."""

    def _rewrite(self, options: dict[str, Any]) -> dict[str, Any]:
        options.pop("extra", None)
        return options


IgnoresUnknownExtraProvider = broken(IgnoresUnknownExtra, catches="OPT-004", latency=0.0)


class IgnoresUndeclaredJsonMode(_RewritesOptions):
    """Does not declare json_mode, yet answers JSON-mode requests with plain text."""

    def _rewrite(self, options: dict[str, Any]) -> dict[str, Any]:
        options.pop("response_format", None)
        return options


IgnoresUndeclaredJsonModeProvider = broken(
    IgnoresUndeclaredJsonMode,
    catches="OPT-004",
    capabilities=REFERENCE_METADATA.capabilities - {Capability.JSON_MODE},
    latency=0.0,
)


# -- USAGE -----------------------------------------------------------------------------


def _with_usage(result: ChatResult, usage: Usage) -> ChatResult:
    return dataclasses.replace(result, usage=usage)


class TotalOffByOne(ReferenceChatModel):
    """Adds one to the total, as if counting a separator token twice."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        assert result.usage is not None
        u = result.usage
        return _with_usage(result, Usage(u.input_tokens, u.output_tokens, u.total_tokens + 1))


TotalOffByOneProvider = broken(TotalOffByOne, catches="USAGE-001", latency=0.0)


class FixedInputTokens(ReferenceChatModel):
    """Counts messages instead of tokens on the input side."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        assert result.usage is not None
        return _with_usage(result, Usage(len(messages), result.usage.output_tokens))


FixedInputTokensProvider = broken(FixedInputTokens, catches="USAGE-002", latency=0.0)


class ZeroOutputTokens(ReferenceChatModel):
    """Reports zero output tokens whatever it answered."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        assert result.usage is not None
        return _with_usage(result, Usage(result.usage.input_tokens, 0))


ZeroOutputTokensProvider = broken(ZeroOutputTokens, catches="USAGE-003", latency=0.0)


class IgnoresModelOverride(ReferenceChatModel):
    """Accepts options.model but always answers with the chat model's own."""

    def _served_model(self, options: ChatOptions) -> str:
        return self._model


IgnoresModelOverrideProvider = broken(IgnoresModelOverride, catches="OPT-005", latency=0.0)
