"""BaseChatModel and BaseProvider: correct defaults for everything but the call itself.

A subclass implements ``_invoke`` or ``_ainvoke`` (or both), and may add ``_stream``,
``_astream``, ``_close``, ``_aclose`` and ``_health_check``. The base class validates
input, refuses undeclared features with UnsupportedError, refuses calls after close,
derives async from sync and back, and runs batches with bounded concurrency.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from chatmodels._batching import (
    DEFAULT_MAX_CONCURRENCY,
    arun_batch,
    check_concurrency,
    run_batch,
)
from chatmodels._closing import Closing
from chatmodels.errors import (
    ChatModelError,
    ChatTimeoutError,
    ClosedError,
    InvalidConfigError,
    InvalidInputError,
    UnsupportedError,
)
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    Message,
    MessageLike,
    Role,
    ToolCallDelta,
    coerce_messages,
)
from chatmodels.options import ChatOptions, OptionsLike, ResponseFormat, coerce_options
from chatmodels.provider import (
    BatchResult,
    Capability,
    ChatModel,
    HealthState,
    HealthStatus,
    Provider,
    ProviderMetadata,
)

__all__ = [
    "BaseChatModel",
    "BaseProvider",
    "check_messages",
    "check_model_override",
    "check_parts",
    "check_supported",
    "probe_provider",
    "result_as_chunk",
]

T = TypeVar("T")

_NEEDS: tuple[tuple[str, Capability], ...] = (
    ("tools", Capability.TOOLS),
    ("stop", Capability.STOP_SEQUENCES),
    ("max_tokens", Capability.MAX_TOKENS),
    ("timeout", Capability.TIMEOUT),
)


def _asked_2026(
    messages: Sequence[Message], options: ChatOptions
) -> Iterator[tuple[str, Capability]]:
    """The structured output, images, reasoning and parallel tool calls a call asks for."""
    if options.json_schema is not None:
        yield "response_format of type 'json_schema'", Capability.STRUCTURED_OUTPUT
    if options.parallel_tool_calls:
        yield "parallel_tool_calls=True", Capability.PARALLEL_TOOL_CALLS
    if options.reasoning_effort not in (None, "none"):
        yield f"reasoning_effort={options.reasoning_effort!r}", Capability.REASONING
    if any(p.kind == "image" for m in messages for p in m.media):
        yield "image content parts", Capability.VISION


def check_parts(
    metadata: ProviderMetadata, messages: Sequence[Message], kinds: frozenset[str], *, op: str
) -> None:
    """Raise UnsupportedError for a media part whose kind the model does not list."""
    for index, message in enumerate(messages):
        for part in message.media:
            if part.kind != "image" and part.kind not in kinds:
                msg = (
                    f"provider {metadata.name!r} does not support {part.kind!r} content parts "
                    f"(messages[{index}]); it reads {sorted({'text', 'image', *kinds})!r}"
                )
                raise UnsupportedError(msg, op=op, provider=metadata.name)


def check_model_override(
    metadata: ProviderMetadata, model: str, options: ChatOptions, accepts: bool, *, op: str
) -> None:
    """Raise UnsupportedError for a per-call model the chat model cannot switch to."""
    if options.model is None or options.model == model or accepts:
        return
    msg = (
        f"provider {metadata.name!r} does not support a per-call model override "
        f"(options.model={options.model!r}); make a chat model for {options.model!r} instead"
    )
    raise UnsupportedError(msg, op=op, provider=metadata.name)


def check_supported(
    metadata: ProviderMetadata,
    messages: Sequence[Message],
    options: ChatOptions,
    *,
    op: str,
    supported_extra: frozenset[str] = frozenset(),
) -> None:
    """Raise UnsupportedError for any requested feature the metadata does not declare."""

    def refuse(what: str, capability: Capability | None = None) -> UnsupportedError:
        needs = f" (capability {capability.value!r} is not declared)" if capability else ""
        msg = f"provider {metadata.name!r} does not support {what}{needs}"
        return UnsupportedError(msg, op=op, provider=metadata.name)

    for field_name, capability in _NEEDS:
        if getattr(options, field_name) and capability not in metadata.capabilities:
            raise refuse(field_name, capability)
    if options.tool_choice not in (None, "auto") and Capability.TOOL_CHOICE not in (
        metadata.capabilities
    ):
        raise refuse(f"tool_choice={options.tool_choice!r}", Capability.TOOL_CHOICE)
    if (
        options.response_format is ResponseFormat.JSON
        and Capability.JSON_MODE not in metadata.capabilities
    ):
        raise refuse("response_format='json'", Capability.JSON_MODE)
    for what, capability in _asked_2026(messages, options):
        if capability not in metadata.capabilities:
            raise refuse(what, capability)
    if Capability.SYSTEM_MESSAGES not in metadata.capabilities and any(
        m.role is Role.SYSTEM for m in messages
    ):
        raise refuse("system messages", Capability.SYSTEM_MESSAGES)
    unknown = sorted(set(options.extra) - supported_extra)
    if unknown:
        raise refuse(f"extra options {unknown!r}")


def check_messages(messages: Sequence[Message], *, op: str, provider: str) -> None:
    """Raise InvalidInputError for turns the contract rejects, before any provider sees them."""
    for index, message in enumerate(messages):
        if message.role is Role.USER and not message.content and not message.media:
            msg = (
                f"messages[{index}] is a user message with content {message.content!r}; "
                "expected non-empty text or media parts"
            )
            raise InvalidInputError(msg, op=op, provider=provider)


def result_as_chunk(result: ChatResult) -> ChatChunk:
    """Express a whole result as the single final chunk of a stream."""
    deltas = tuple(
        ToolCallDelta(index=i, id=c.id, name=c.name, arguments=c.arguments)
        for i, c in enumerate(result.message.tool_calls)
    )
    return ChatChunk(
        delta=result.message.content,
        tool_call_deltas=deltas,
        finish_reason=result.finish_reason,
        usage=result.usage,
        model=result.model,
        response_id=result.response_id,
        reasoning=result.message.reasoning,
        refusal=result.message.refusal,
    )


async def _with_context(ctx: contextvars.Context, coro: Coroutine[Any, Any, T]) -> T:
    for var, value in ctx.items():
        var.set(value)
    return await coro


class _LoopThread:
    """A private event loop on a daemon thread, for running async-only providers from sync code."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="chatmodels-loop", daemon=True
        )
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        ctx = contextvars.copy_context()
        future = asyncio.run_coroutine_threadsafe(_with_context(ctx, coro), self._loop)
        return future.result()

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


class BaseChatModel(Closing):
    """Derive the whole ChatModel interface from ``_invoke`` and/or ``_ainvoke``."""

    #: Keys of ChatOptions.extra this model understands; others raise UnsupportedError.
    supported_extra: frozenset[str] = frozenset()
    #: Kinds of MediaPart (beyond text and images) this model reads; others are refused.
    supported_parts: frozenset[str] = frozenset()
    #: Whether ChatOptions.model may name another model for one call; else it is refused.
    accepts_model_override: bool = False

    def __init__(
        self,
        *,
        metadata: ProviderMetadata,
        model: str,
        defaults: OptionsLike = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> None:
        self._metadata = metadata
        self._model = model
        self._defaults = coerce_options(defaults)
        self._max_concurrency = check_concurrency(max_concurrency, DEFAULT_MAX_CONCURRENCY)
        self._closed = False
        self._close_lock = threading.Lock()
        self._loop_thread: _LoopThread | None = None
        cls = type(self)
        if cls._invoke is BaseChatModel._invoke and cls._ainvoke is BaseChatModel._ainvoke:
            msg = f"{cls.__name__} must implement _invoke() or _ainvoke()"
            raise TypeError(msg)

    # -- what subclasses implement -------------------------------------------------

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        """Answer synchronously; the default runs ``_ainvoke`` on a private loop."""
        return self._private_loop().run(self._ainvoke(messages, options))

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        """Answer asynchronously; the default runs ``_invoke`` in a worker thread."""
        return await asyncio.to_thread(self._invoke, messages, options)

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        """Stream synchronously; the default is the whole answer as one chunk."""
        yield result_as_chunk(self._invoke(messages, options))

    async def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        """Stream asynchronously; the default pulls ``_stream`` through a worker thread."""
        if type(self)._stream is BaseChatModel._stream:
            yield result_as_chunk(await self._ainvoke(messages, options))
            return
        iterator = self._stream(messages, options)
        done = object()
        try:
            while True:
                chunk = await asyncio.to_thread(next, iterator, done)
                if chunk is done:
                    return
                assert isinstance(chunk, ChatChunk)
                yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _close(self) -> None:
        """Release the subclass's resources; called once."""

    async def _aclose(self) -> None:
        """Release the subclass's resources from async code; defaults to ``_close``."""
        self._close()

    def _health_check(self) -> HealthStatus:
        """Probe by a tiny call; subclasses with a cheaper probe override this."""
        start = time.perf_counter()
        try:
            self.invoke("ping")
        except ChatModelError as exc:
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, str(exc))
        return HealthStatus(HealthState.HEALTHY, time.perf_counter() - start)

    # -- the public interface --------------------------------------------------------

    @property
    def metadata(self) -> ProviderMetadata:
        """The metadata of the provider that made this model."""
        return self._metadata

    @property
    def model(self) -> str:
        """The model name requests are sent for."""
        return self._model

    @property
    def closed(self) -> bool:
        """Tell whether close() has been called."""
        return self._closed

    def _closed_error(self, op: str) -> ClosedError:
        msg = f"{op}() called on a closed chat model {self._model!r}"
        return ClosedError(msg, op=op, provider=self._metadata.name)

    def _check_open(self, op: str) -> None:
        if self._closed:
            raise self._closed_error(op)

    def _prepare(
        self, op: str, messages: Sequence[MessageLike] | str, options: OptionsLike
    ) -> tuple[tuple[Message, ...], ChatOptions]:
        self._check_open(op)
        try:
            prepared = coerce_messages(messages)
            merged = coerce_options(options).merged_over(self._defaults)
        except ChatModelError as exc:
            self._stamp(exc, op)
            raise
        check_messages(prepared, op=op, provider=self._metadata.name)
        check_supported(
            self._metadata, prepared, merged, op=op, supported_extra=self.supported_extra
        )
        check_parts(self._metadata, prepared, self.supported_parts, op=op)
        check_model_override(
            self._metadata, self._model, merged, self.accepts_model_override, op=op
        )
        return prepared, merged

    def _stamp(self, exc: ChatModelError, op: str) -> None:
        """Fill in the operation and provider an error left empty, so every error names both."""
        exc.op = exc.op or op
        exc.provider = exc.provider or self._metadata.name

    def _stamp_stream(self, chunks: Iterator[ChatChunk], op: str) -> Iterator[ChatChunk]:
        try:
            yield from chunks  # forwards close() to the subclass's stream
        except ChatModelError as exc:
            self._stamp(exc, op)
            raise

    async def _astamp_stream(
        self, chunks: AsyncIterator[ChatChunk], op: str
    ) -> AsyncIterator[ChatChunk]:
        try:
            async for chunk in chunks:
                yield chunk
        except ChatModelError as exc:
            self._stamp(exc, op)
            raise
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    def invoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation."""
        prepared, merged = self._prepare("invoke", messages, options)
        try:
            return self._invoke(prepared, merged)
        except ChatModelError as exc:
            self._stamp(exc, "invoke")
            raise

    async def ainvoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation without blocking the event loop."""
        prepared, merged = self._prepare("ainvoke", messages, options)
        try:
            if merged.timeout is None:
                return await self._ainvoke(prepared, merged)
            return await asyncio.wait_for(self._ainvoke(prepared, merged), merged.timeout)
        except ChatModelError as exc:
            # the provider's own error, a ChatTimeoutError included, is not our deadline
            self._stamp(exc, "ainvoke")
            raise
        except asyncio.TimeoutError as exc:
            msg = f"ainvoke did not finish within {merged.timeout}s"
            raise ChatTimeoutError(
                msg, op="ainvoke", provider=self._metadata.name, cause=exc
            ) from exc

    def stream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> Iterator[ChatChunk]:
        """Answer as a stream of deltas; validation errors raise before the first chunk."""
        prepared, merged = self._prepare("stream", messages, options)
        return self._stamp_stream(self._stream(prepared, merged), "stream")

    def astream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> AsyncIterator[ChatChunk]:
        """Answer as an async stream of deltas."""
        prepared, merged = self._prepare("astream", messages, options)
        return self._astamp_stream(self._astream(prepared, merged), "astream")

    def batch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations; a failed item holds its ChatModelError at its index."""
        self._check_open("batch")
        limit = check_concurrency(max_concurrency, self._max_concurrency)
        return run_batch(lambda item: self.invoke(item, options), list(inputs), limit)

    async def abatch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations concurrently on the running loop."""
        self._check_open("abatch")
        limit = check_concurrency(max_concurrency, self._max_concurrency)
        return await arun_batch(lambda item: self.ainvoke(item, options), list(inputs), limit)

    def health_check(self) -> HealthStatus:
        """Probe whether the model answers; never raises for a provider failure."""
        return self._health_check()

    def _mark_closed(self) -> bool:
        with self._close_lock:
            if self._closed:
                return False
            self._closed = True
            return True

    def _stop_loop(self) -> None:
        if self._loop_thread is not None:
            self._loop_thread.stop()
            self._loop_thread = None

    def close(self) -> None:
        """Release resources; idempotent, and later calls raise ClosedError."""
        if self._mark_closed():
            try:
                self._close()
            finally:
                self._stop_loop()

    async def aclose(self) -> None:
        """Release resources from async code; idempotent."""
        if self._mark_closed():
            try:
                await self._aclose()
            finally:
                self._stop_loop()

    def _private_loop(self) -> _LoopThread:
        with self._close_lock:
            if self._loop_thread is None:
                self._loop_thread = _LoopThread()
            return self._loop_thread

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<{type(self).__name__} {self._metadata.name}:{self._model}{state}>"


def probe_provider(provider: Provider) -> HealthStatus:
    """A provider's health: make its default model and ask it; failing to make one is unhealthy."""
    start = time.perf_counter()
    try:
        with provider.create_chat_model() as model:
            return model.health_check()
    except ChatModelError as exc:
        return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, str(exc))


class BaseProvider:
    """A Provider holding validated options; subclasses set ``metadata`` and build models."""

    metadata: ProviderMetadata

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: dict[str, Any] = dict(options or {})
        known = {*self.metadata.required_options, *self.metadata.optional_options}
        missing = [name for name in self.metadata.required_options if name not in self.options]
        if missing:
            msg = f"provider {self.metadata.name!r} needs option {missing[0]!r}"
            raise InvalidConfigError(msg, op="create_provider", provider=self.metadata.name)
        unknown = sorted(set(self.options) - known)
        if unknown:
            msg = (
                f"provider {self.metadata.name!r} got unknown options {unknown!r}; "
                f"expected among {sorted(known)!r}"
            )
            raise InvalidConfigError(msg, op="create_provider", provider=self.metadata.name)

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> ChatModel:
        """Make a model; subclasses must override."""
        msg = f"{type(self).__name__} must implement create_chat_model()"
        raise NotImplementedError(msg)

    def health_check(self) -> HealthStatus:
        """Probe by making a model and asking it."""
        return probe_provider(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.metadata.name!r}>"
