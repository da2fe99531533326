"""Tests of chatmodels.base: the defaults BaseChatModel and BaseProvider derive for a provider."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from chatmodels.base import BaseChatModel, BaseProvider, result_as_chunk
from chatmodels.errors import (
    ChatModelError,
    ChatTimeoutError,
    ClosedError,
    ErrorCode,
    InvalidConfigError,
    InvalidInputError,
    RateLimitError,
    UnsupportedError,
)
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    ToolCall,
    Usage,
    merge_chunks,
)
from chatmodels.options import ChatOptions, OptionsLike, ToolSpec
from chatmodels.provider import (
    Capability,
    ChatModel,
    HealthState,
    HealthStatus,
    ProviderMetadata,
)

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
ALL = ProviderMetadata("fake", models=("m1",), capabilities=frozenset(Capability))
BARE = ProviderMetadata("bare", models=("m1",))
WEATHER = ToolSpec("get_weather")


def answer(messages: tuple[Message, ...], model: str = "m1") -> ChatResult:
    """Echo the last message, failing with rate_limit when it says 'fail'."""
    text = messages[-1].content
    if text == "fail":
        msg = "slow down"
        raise RateLimitError(msg, retry_after=1.0)
    return ChatResult(Message.assistant(text.upper()), FinishReason.STOP, model, "r", Usage(1, 1))


class SyncModel(BaseChatModel):
    """Implements only _invoke, recording what each call saw."""

    def __init__(self, metadata: ProviderMetadata = ALL, **kwargs: Any) -> None:
        super().__init__(metadata=metadata, model="m1", **kwargs)
        self.seen: list[tuple[ChatOptions, str | None, str]] = []
        self.closes = 0
        self.delay = 0.0

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self.seen.append((options, REQUEST_ID.get(None), threading.current_thread().name))
        time.sleep(self.delay)
        return answer(messages)

    def _close(self) -> None:
        self.closes += 1


class AsyncModel(BaseChatModel):
    """Implements only _ainvoke, recording the context each call saw."""

    def __init__(self, metadata: ProviderMetadata = ALL, **kwargs: Any) -> None:
        super().__init__(metadata=metadata, model="m1", **kwargs)
        self.seen: list[str | None] = []
        self.delay = 0.0
        self.cancelled = False

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self.seen.append(REQUEST_ID.get(None))
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return answer(messages)


class StreamingModel(SyncModel):
    """Streams the answer word by word from a sync generator that records its closing."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream_closed = threading.Event()

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        try:
            for word in ["one ", "two ", "three"]:
                yield ChatChunk(word)
            yield ChatChunk(finish_reason=FinishReason.STOP)
        finally:
            self.stream_closed.set()


class CountingModel(SyncModel):
    """Counts calls in flight; each call waits until *together* calls have entered."""

    def __init__(self, together: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.active = self.peak = 0
        self._lock = threading.Lock()
        self._together = threading.Barrier(together, timeout=5)

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self._together.wait()
            time.sleep(0.002)
            return answer(messages)
        finally:
            with self._lock:
                self.active -= 1


@pytest.fixture
def sync_model() -> Iterator[SyncModel]:
    """A sync-only model, closed after the test."""
    with SyncModel() as model:
        yield model  # type: ignore[misc]


@pytest.fixture
def async_model() -> Iterator[AsyncModel]:
    """An async-only model, closed after the test so its private loop stops."""
    model = AsyncModel()
    yield model
    model.close()


async def drain(stream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    """Collect an async stream."""
    return [chunk async for chunk in stream]


ENTRY_POINTS = ("invoke", "ainvoke", "stream", "astream", "batch", "abatch")


def run_entry(
    model: BaseChatModel,
    entry: str,
    messages: Any = "hi",
    options: OptionsLike = None,
    **batch_kwargs: Any,
) -> object:
    """Call one public entry point to completion, driving async ones on a fresh loop."""
    calls: dict[str, Callable[[], object]] = {
        "invoke": lambda: model.invoke(messages, options),
        "ainvoke": lambda: asyncio.run(model.ainvoke(messages, options)),
        "stream": lambda: list(model.stream(messages, options)),
        "astream": lambda: asyncio.run(drain(model.astream(messages, options))),
        "batch": lambda: model.batch([messages], options, **batch_kwargs),
        "abatch": lambda: asyncio.run(model.abatch([messages], options, **batch_kwargs)),
    }
    return calls[entry]()


def loop_threads() -> set[threading.Thread]:
    """The private event-loop threads alive now."""
    return {t for t in threading.enumerate() if t.name == "chatmodels-loop"}


class TestConstruction:
    def test_needs_invoke_or_ainvoke(self) -> None:
        """A subclass implementing neither call is refused when built, naming both hooks."""

        class Empty(BaseChatModel):
            pass

        with pytest.raises(TypeError, match=r"Empty must implement _invoke\(\) or _ainvoke\(\)"):
            Empty(metadata=ALL, model="m1")

    @pytest.mark.parametrize("value", [0, -1, True])
    def test_max_concurrency_validated(self, value: object) -> None:
        """A default max_concurrency below one or a bool is invalid input."""
        with pytest.raises(InvalidInputError, match=f"max_concurrency.*>= 1.*{value!r}"):
            SyncModel(max_concurrency=value)

    def test_repr_and_properties(self, sync_model: SyncModel) -> None:
        """The model reports its metadata, model name and state."""
        assert (sync_model.metadata, sync_model.model, sync_model.closed) == (ALL, "m1", False)
        assert repr(sync_model) == "<SyncModel fake:m1>"
        assert isinstance(sync_model, ChatModel)


class TestSyncOnly:
    def test_invoke(self, sync_model: SyncModel) -> None:
        """invoke coerces the messages and returns _invoke's answer."""
        assert sync_model.invoke("hi").text == "HI"

    def test_ainvoke_runs_in_a_worker_thread_with_context(self, sync_model: SyncModel) -> None:
        """ainvoke runs _invoke off the event loop, with the caller's contextvars."""

        async def main() -> ChatResult:
            REQUEST_ID.set("req-a")
            return await sync_model.ainvoke([{"role": "user", "content": "hi"}])

        assert asyncio.run(main()).text == "HI"
        _, request_id, thread = sync_model.seen[-1]
        assert request_id == "req-a"
        assert thread != threading.current_thread().name

    def test_stream_is_one_final_chunk(self, sync_model: SyncModel) -> None:
        """Without _stream, a stream is the whole answer as one final chunk."""
        chunks = list(sync_model.stream("hi"))
        assert chunks == [result_as_chunk(answer((Message.user("hi"),)))]
        assert merge_chunks(chunks).text == "HI"

    def test_astream(self, sync_model: SyncModel) -> None:
        """astream yields the same single chunk."""
        chunks = asyncio.run(drain(sync_model.astream("hi")))
        assert [c.delta for c in chunks] == ["HI"]
        assert chunks[-1].finish_reason is FinishReason.STOP

    def test_batch_and_abatch(self, sync_model: SyncModel) -> None:
        """batch and abatch answer every input in order."""
        assert [r.text for r in sync_model.batch(["a", "b"])] == ["A", "B"]  # type: ignore[union-attr]
        results = asyncio.run(sync_model.abatch(["c", "d"]))
        assert [r.text for r in results] == ["C", "D"]  # type: ignore[union-attr]


class TestAsyncOnly:
    def test_sync_invoke_uses_a_private_loop_stopped_on_close(self) -> None:
        """Sync invoke runs _ainvoke on a private loop thread, which close() stops."""
        before = loop_threads()
        model = AsyncModel()
        try:
            assert model.invoke("hi").text == "HI"
            started = loop_threads() - before
            assert len(started) == 1
        finally:
            model.close()
        assert not any(t.is_alive() for t in started)

    def test_invoke_from_a_running_loops_worker_thread(self, async_model: AsyncModel) -> None:
        """Sync invoke works from a thread that a running event loop handed work to."""

        async def main() -> ChatResult:
            return await asyncio.to_thread(async_model.invoke, "hi")

        assert asyncio.run(main()).text == "HI"

    def test_caller_context_visible_in_ainvoke(self, async_model: AsyncModel) -> None:
        """The sync caller's contextvars are visible inside _ainvoke on the private loop."""
        token = REQUEST_ID.set("req-1")
        try:
            async_model.invoke("hi")
        finally:
            REQUEST_ID.reset(token)
        assert async_model.seen == ["req-1"]

    def test_every_entry_point(self, async_model: AsyncModel) -> None:
        """ainvoke, stream, astream, batch and abatch all work from _ainvoke alone."""
        assert asyncio.run(async_model.ainvoke("a")).text == "A"
        assert [c.delta for c in async_model.stream("b")] == ["B"]
        assert [c.delta for c in asyncio.run(drain(async_model.astream("c")))] == ["C"]
        assert [r.text for r in async_model.batch(["d", "e"])] == ["D", "E"]  # type: ignore[union-attr]
        results = asyncio.run(async_model.abatch(["f", "g"]))
        assert [r.text for r in results] == ["F", "G"]  # type: ignore[union-attr]


def _caps_without(capability: Capability) -> ProviderMetadata:
    return ProviderMetadata("partial", capabilities=frozenset(Capability) - {capability})


REFUSALS: list[tuple[Capability, Any, OptionsLike, str]] = [
    (Capability.TOOLS, "hi", {"tools": [WEATHER]}, "tools"),
    (Capability.STOP_SEQUENCES, "hi", {"stop": "END"}, "stop"),
    (Capability.MAX_TOKENS, "hi", {"max_tokens": 5}, "max_tokens"),
    (Capability.TIMEOUT, "hi", {"timeout": 5.0}, "timeout"),
    (
        Capability.TOOL_CHOICE,
        "hi",
        {"tools": [WEATHER], "tool_choice": "required"},
        "tool_choice='required'",
    ),
    (Capability.JSON_MODE, "hi", {"response_format": "json"}, "response_format='json'"),
    (
        Capability.SYSTEM_MESSAGES,
        [Message.system("be brief"), Message.user("hi")],
        None,
        "system messages",
    ),
]


class TestCapabilities:
    @pytest.mark.parametrize(
        ("capability", "messages", "options", "what"), REFUSALS, ids=lambda v: str(v)[:20]
    )
    @pytest.mark.parametrize("entry", ["invoke", "stream", "ainvoke", "astream"])
    def test_undeclared_feature_refused(
        self, capability: Capability, messages: Any, options: OptionsLike, what: str, entry: str
    ) -> None:
        """A feature whose capability is missing is refused before any call, naming both."""
        model = SyncModel(_caps_without(capability))
        with pytest.raises(UnsupportedError) as caught:
            run_entry(model, entry, messages, options)
        error = caught.value
        assert f"does not support {what}" in str(error)
        assert f"capability {capability.value!r} is not declared" in str(error)
        assert (error.code, error.op, error.provider) == (ErrorCode.UNSUPPORTED, entry, "partial")
        assert model.seen == []

    @pytest.mark.parametrize(
        ("capability", "messages", "options", "what"), REFUSALS, ids=lambda v: str(v)[:20]
    )
    def test_declared_feature_accepted(
        self, capability: Capability, messages: Any, options: OptionsLike, what: str
    ) -> None:
        """The same request goes through when every capability is declared."""
        assert SyncModel(ALL).invoke(messages, options).finish_reason is FinishReason.STOP

    def test_tool_choice_auto_needs_no_capability(self) -> None:
        """tool_choice='auto' is the default behaviour, so only tools are required."""
        model = SyncModel(_caps_without(Capability.TOOL_CHOICE))
        model.invoke("hi", {"tools": [WEATHER], "tool_choice": "auto"})
        assert model.seen[-1][0].tool_choice == "auto"

    def test_unknown_extra_refused(self, sync_model: SyncModel) -> None:
        """Extra keys the model does not understand are refused, all named."""
        with pytest.raises(UnsupportedError, match=r"extra options \['logprobs', 'top_k'\]"):
            sync_model.invoke("hi", {"extra": {"top_k": 3, "logprobs": True}})

    def test_supported_extra_allowed(self) -> None:
        """Keys listed in supported_extra pass through to _invoke."""

        class TopK(SyncModel):
            supported_extra = frozenset({"top_k"})

        model = TopK()
        model.invoke("hi", {"extra": {"top_k": 3}})
        assert dict(model.seen[-1][0].extra) == {"top_k": 3}
        with pytest.raises(UnsupportedError, match="'min_p'"):
            model.invoke("hi", {"extra": {"top_k": 3, "min_p": 0.1}})

    def test_bad_input_tagged_with_provider(self, sync_model: SyncModel) -> None:
        """Invalid messages or options surface as invalid input carrying the provider name."""
        with pytest.raises(InvalidInputError) as caught:
            sync_model.invoke([])
        assert caught.value.provider == "fake"
        with pytest.raises(InvalidInputError, match="temperature") as caught:
            sync_model.invoke("hi", {"temperature": -1})
        assert (caught.value.op, caught.value.provider) == ("options", "fake")


class TestDefaults:
    def test_defaults_merged_under_call_options(self) -> None:
        """Model defaults fill unset call options; call options win; extras merge."""

        class Extra(SyncModel):
            supported_extra = frozenset({"a", "b"})

        model = Extra(defaults={"temperature": 0.3, "max_tokens": 50, "extra": {"a": 1}})
        model.invoke("hi")
        model.invoke("hi", {"temperature": 0.9, "extra": {"b": 2}})
        first, second = (seen[0] for seen in model.seen)
        assert (first.temperature, first.max_tokens, dict(first.extra)) == (0.3, 50, {"a": 1})
        assert (second.temperature, second.max_tokens) == (0.9, 50)
        assert dict(second.extra) == {"a": 1, "b": 2}

    def test_bad_defaults_refused_at_construction(self) -> None:
        """Invalid default options fail when the model is built, not on first call."""
        with pytest.raises(InvalidInputError, match="top_p"):
            SyncModel(defaults={"top_p": 2})


class TestClosed:
    def test_close_is_idempotent(self) -> None:
        """close() twice, then aclose(), release resources once and raise nothing."""
        model = SyncModel()
        model.close()
        model.close()
        asyncio.run(model.aclose())
        assert model.closed
        assert model.closes == 1
        assert repr(model) == "<SyncModel fake:m1 closed>"

    def test_aclose_is_idempotent_and_defaults_to_close(self) -> None:
        """aclose() twice calls _close once through the default _aclose."""
        model = SyncModel()
        asyncio.run(model.aclose())
        asyncio.run(model.aclose())
        model.close()
        assert model.closes == 1

    @pytest.mark.parametrize("entry", ENTRY_POINTS)
    def test_calls_after_close_raise_closed(self, entry: str) -> None:
        """Every entry point of a closed model raises ClosedError naming the call and model."""
        model = SyncModel()
        model.close()
        with pytest.raises(ClosedError, match=rf"{entry}\(\) called on a closed chat model 'm1'"):
            run_entry(model, entry)
        assert model.seen == []

    def test_with_block_closes(self) -> None:
        """Leaving a with block closes the model, even on error."""
        model = SyncModel()

        def use() -> None:
            with model as entered:
                assert entered is model
                raise RuntimeError

        with pytest.raises(RuntimeError):
            use()
        assert model.closed
        with pytest.raises(ClosedError):
            model.invoke("hi")

    def test_async_with_block_closes(self) -> None:
        """Leaving an async with block closes the model."""
        model = AsyncModel()

        async def main() -> str:
            async with model as entered:
                return (await entered.ainvoke("hi")).text

        assert asyncio.run(main()) == "HI"
        assert model.closed

    def test_health_after_close_is_unhealthy(self) -> None:
        """A closed model reports unhealthy rather than raising."""
        model = SyncModel()
        model.close()
        status = model.health_check()
        assert status.status is HealthState.UNHEALTHY
        assert "closed" in status.detail


class TestBatch:
    def test_order_kept_and_failure_held_at_index(self, sync_model: SyncModel) -> None:
        """Results follow input order; a failing item holds its ChatModelError in place."""
        sync_model.delay = 0.005
        results = sync_model.batch(["a", "fail", "c", "d"], max_concurrency=4)
        assert [getattr(r, "text", None) for r in results] == ["A", None, "C", "D"]
        error = results[1]
        assert isinstance(error, RateLimitError)
        assert (error.code, error.retry_after) == (ErrorCode.RATE_LIMIT, 1.0)

    def test_abatch_failure_held_at_index(self, async_model: AsyncModel) -> None:
        """abatch keeps the failed item's error at its index too."""
        results = asyncio.run(async_model.abatch(["fail", "b"]))
        assert isinstance(results[0], RateLimitError)
        assert isinstance(results[1], ChatResult)

    def test_invalid_item_held_at_index(self, sync_model: SyncModel) -> None:
        """One malformed conversation fails alone as invalid input."""
        results = sync_model.batch(["a", []])
        assert isinstance(results[0], ChatResult)
        assert isinstance(results[1], InvalidInputError)

    def test_empty_batch(self, sync_model: SyncModel) -> None:
        """An empty batch answers with an empty list and calls nothing."""
        assert sync_model.batch([]) == []
        assert asyncio.run(sync_model.abatch([])) == []
        assert sync_model.seen == []

    @pytest.mark.parametrize("value", [0, -1, True, 2.0])
    @pytest.mark.parametrize("entry", ["batch", "abatch"])
    def test_max_concurrency_validated(
        self, sync_model: SyncModel, value: object, entry: str
    ) -> None:
        """max_concurrency must be an int >= 1; the error quotes the bad value."""
        with pytest.raises(InvalidInputError) as caught:
            run_entry(sync_model, entry, max_concurrency=value)
        assert str(caught.value) == f"max_concurrency must be an int >= 1, got {value!r}"
        assert caught.value.code is ErrorCode.INVALID_INPUT

    def test_caller_context_visible_in_worker_threads(self, sync_model: SyncModel) -> None:
        """Each batch item runs in a worker thread that sees the caller's contextvars."""
        token = REQUEST_ID.set("req-batch")
        try:
            sync_model.batch(["a", "b", "c"], max_concurrency=3)
        finally:
            REQUEST_ID.reset(token)
        assert {request_id for _, request_id, _ in sync_model.seen} == {"req-batch"}
        assert all(name.startswith("chatmodels-batch") for _, _, name in sync_model.seen)

    @pytest.mark.parametrize("limit", [1, 3])
    def test_concurrency_is_bounded(self, limit: int) -> None:
        """At most max_concurrency items run at once, and that many do run together."""
        with CountingModel(limit) as model:
            results = model.batch([str(i) for i in range(4 * limit)], max_concurrency=limit)
        assert all(isinstance(r, ChatResult) for r in results)
        assert model.peak == limit

    def test_constructor_limit_is_the_default(self) -> None:
        """Without a per-call limit, the model's max_concurrency bounds the batch."""
        with CountingModel(2, max_concurrency=2) as model:
            model.batch([str(i) for i in range(8)])
        assert model.peak == 2

    def test_abatch_concurrency_is_bounded(self) -> None:
        """abatch keeps at most max_concurrency calls in flight on the loop."""
        active = peak = 0

        class Counting(AsyncModel):
            async def _ainvoke(
                self, messages: tuple[Message, ...], options: ChatOptions
            ) -> ChatResult:
                nonlocal active, peak
                active += 1
                peak = max(peak, active)
                await asyncio.sleep(0.002)
                active -= 1
                return answer(messages)

        model = Counting()
        results = asyncio.run(model.abatch([str(i) for i in range(10)], max_concurrency=3))
        assert [r.text for r in results] == [str(i) for i in range(10)]  # type: ignore[union-attr]
        assert peak == 3


class TestAinvokeTimeout:
    def test_timeout_raises_chat_timeout(self, async_model: AsyncModel) -> None:
        """A call over its timeout raises ChatTimeoutError and cancels the provider call."""
        async_model.delay = 10
        with pytest.raises(ChatTimeoutError, match=r"ainvoke did not finish within 0.02s") as e:
            asyncio.run(async_model.ainvoke("hi", {"timeout": 0.02}))
        error = e.value
        assert (error.code, error.op, error.provider, error.retryable) == (
            ErrorCode.TIMEOUT,
            "ainvoke",
            "fake",
            True,
        )
        assert isinstance(error, TimeoutError)
        assert isinstance(error.__cause__, asyncio.TimeoutError)
        assert async_model.cancelled

    def test_provider_timeout_passes_through(self) -> None:
        """A provider's own ChatTimeoutError within the deadline reaches the caller unchanged."""

        class UpstreamTimeout(AsyncModel):
            async def _ainvoke(
                self, messages: tuple[Message, ...], options: ChatOptions
            ) -> ChatResult:
                msg = "upstream read timed out"
                raise ChatTimeoutError(msg, op="ainvoke", provider="fake", retry_after=3.0)

        with pytest.raises(ChatTimeoutError, match="upstream read timed out") as caught:
            asyncio.run(UpstreamTimeout().ainvoke("hi", {"timeout": 5}))
        assert caught.value.retry_after == 3.0

    def test_fast_call_within_timeout(self, async_model: AsyncModel) -> None:
        """A call that finishes in time returns its result."""
        assert asyncio.run(async_model.ainvoke("hi", {"timeout": 5})).text == "HI"


class TestStreaming:
    def test_sync_stream_passes_chunks(self) -> None:
        """A model with _stream streams its own chunks, which merge into the answer."""
        with StreamingModel() as model:
            assert merge_chunks(model.stream("hi")).text == "one two three"

    def test_astream_pulls_sync_stream(self) -> None:
        """astream relays every chunk of a sync _stream in order."""
        with StreamingModel() as model:
            chunks = asyncio.run(drain(model.astream("hi")))
        assert [c.delta for c in chunks] == ["one ", "two ", "three", ""]
        assert model.stream_closed.is_set()

    def test_astream_early_stop_closes_sync_iterator(self) -> None:
        """A consumer that stops after one chunk and closes the stream closes the sync iterator."""
        model = StreamingModel()

        async def main() -> str:
            stream = model.astream("hi")
            first = await stream.__anext__()
            await stream.aclose()  # type: ignore[attr-defined]
            return first.delta

        assert asyncio.run(main()) == "one "
        assert model.stream_closed.is_set()

    def test_astream_break_closes_sync_iterator(self) -> None:
        """Breaking out of async for and letting the loop finalise also closes the iterator."""
        model = StreamingModel()

        async def main() -> None:
            async for _ in model.astream("hi"):
                break
            await asyncio.sleep(0)

        asyncio.run(main())
        assert model.stream_closed.is_set()

    def test_validation_before_first_chunk(self) -> None:
        """stream() refuses bad input when called, not when first iterated."""
        model = StreamingModel(metadata=BARE)
        with pytest.raises(UnsupportedError):
            model.stream("hi", {"stop": "x"})
        with pytest.raises(UnsupportedError):
            model.astream("hi", {"stop": "x"})

    def test_result_as_chunk_round_trips_tool_calls(self) -> None:
        """A result expressed as one chunk merges back into the same result."""
        result = ChatResult(
            Message.assistant("", [ToolCall("c0", "a", "{}"), ToolCall("c1", "b", '{"x": 1}')]),
            FinishReason.TOOL_CALLS,
            "m1",
            "r9",
            Usage(3, 2),
        )
        assert merge_chunks([result_as_chunk(result)]) == result


class TestHealth:
    def test_healthy(self, sync_model: SyncModel) -> None:
        """A model that answers is healthy, with a measured latency."""
        status = sync_model.health_check()
        assert status.status is HealthState.HEALTHY
        assert status.ok
        assert status.latency >= 0

    def test_unhealthy_on_provider_error(self) -> None:
        """A model whose call fails is unhealthy, with the error as detail, and nothing raises."""

        class Failing(SyncModel):
            def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
                msg = "upstream down"
                raise ChatModelError(msg)

        status = Failing().health_check()
        assert (status.status, status.detail, status.ok) == (
            HealthState.UNHEALTHY,
            "upstream down",
            False,
        )


class FakeProvider(BaseProvider):
    """A provider with one required and one optional option."""

    metadata = ProviderMetadata(
        "fakeprov",
        models=("m1",),
        required_options=("api_key",),
        optional_options=("base_url",),
        capabilities=frozenset(Capability),
    )

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> ChatModel:
        return SyncModel(self.metadata, defaults=options)


class TestBaseProvider:
    def test_options_kept(self) -> None:
        """Valid options are stored as a plain dict."""
        provider = FakeProvider({"api_key": "k", "base_url": "http://127.0.0.1"})
        assert provider.options == {"api_key": "k", "base_url": "http://127.0.0.1"}
        assert repr(provider) == "<FakeProvider 'fakeprov'>"

    def test_missing_required_named_without_values(self) -> None:
        """A missing required option is invalid config naming it, never echoing other values."""
        with pytest.raises(InvalidConfigError) as caught:
            FakeProvider({"base_url": "https://hidden.example"})
        message = str(caught.value)
        assert "needs option 'api_key'" in message
        assert "hidden.example" not in message
        assert (caught.value.code, caught.value.provider) == (ErrorCode.INVALID_CONFIG, "fakeprov")

    def test_unknown_options_named_without_values(self) -> None:
        """Unknown options are listed by name with the known ones; their values never appear."""
        with pytest.raises(InvalidConfigError) as caught:
            FakeProvider({"api_key": "sk-secret-1", "api_kee": "sk-secret-2"})
        message = str(caught.value)
        assert "unknown options ['api_kee']" in message
        assert "['api_key', 'base_url']" in message
        assert "sk-secret" not in message

    def test_create_chat_model_must_be_overridden(self) -> None:
        """The base provider cannot make models on its own."""

        class Lazy(BaseProvider):
            metadata = ProviderMetadata("lazy")

        with pytest.raises(NotImplementedError, match="Lazy must implement create_chat_model"):
            Lazy().create_chat_model()

    def test_health_check_through_a_model(self) -> None:
        """The provider's health is a fresh model's health."""
        assert FakeProvider({"api_key": "k"}).health_check().ok

    def test_health_check_unhealthy_when_creation_fails(self) -> None:
        """A provider that cannot make a model is unhealthy, not raising."""

        class Broken(FakeProvider):
            def create_chat_model(
                self, model: str | None = None, options: OptionsLike = None
            ) -> ChatModel:
                msg = "no such model"
                raise InvalidConfigError(msg)

        status = Broken({"api_key": "k"}).health_check()
        assert (status.status, status.detail) == (HealthState.UNHEALTHY, "no such model")


class TestProviderMetadata:
    @pytest.mark.parametrize("name", ["", None, 3])
    def test_name_required(self, name: object) -> None:
        """A provider needs a non-empty string name; the error quotes the bad one."""
        with pytest.raises(InvalidConfigError, match=f"non-empty string, got {name!r}"):
            ProviderMetadata(name)  # type: ignore[arg-type]

    def test_unknown_capability_lists_allowed(self) -> None:
        """An unknown capability is refused, quoting it and listing every allowed one."""
        with pytest.raises(InvalidConfigError) as caught:
            ProviderMetadata("p", capabilities=frozenset({"streaming", "telepathy"}))  # type: ignore[arg-type]
        message = str(caught.value)
        assert "'telepathy'" in message
        assert all(c.value in message for c in Capability)
        assert caught.value.op == "metadata"

    def test_capabilities_coerced(self) -> None:
        """Capability strings become enum members; supports() takes either form."""
        meta = ProviderMetadata("p", capabilities=["streaming", Capability.TOOLS])  # type: ignore[arg-type]
        assert meta.capabilities == frozenset({Capability.STREAMING, Capability.TOOLS})
        assert meta.supports("streaming")
        assert meta.supports(Capability.TOOLS)
        assert not meta.supports("json_mode")

    def test_issue_capabilities_exist(self) -> None:
        """Every capability the interface promises is a member of the enum."""
        promised = {
            "streaming",
            "async",
            "batch",
            "tools",
            "tool_choice",
            "json_mode",
            "stop_sequences",
            "max_tokens",
            "usage",
            "system_messages",
            "deterministic",
            "cancellation",
        }
        assert promised <= {c.value for c in Capability}

    def test_sequences_become_tuples(self) -> None:
        """List-valued fields are stored as tuples so metadata stays hashable."""
        meta = ProviderMetadata("p", models=["a"], required_options=["k"])  # type: ignore[arg-type]
        assert (meta.models, meta.required_options) == (("a",), ("k",))
        hash(meta)

    @pytest.mark.parametrize(
        ("models", "default", "asked", "chosen"),
        [
            (("a", "b"), "b", "c", "c"),
            (("a", "b"), "b", None, "b"),
            (("a", "b"), None, None, "a"),
            ((), "d", "", "d"),
        ],
    )
    def test_resolve_model(
        self, models: tuple[str, ...], default: str | None, asked: str | None, chosen: str
    ) -> None:
        """The asked model wins, then the default model, then the first listed."""
        meta = ProviderMetadata("p", models=models, default_model=default)
        assert meta.resolve_model(asked) == chosen

    def test_resolve_model_without_any(self) -> None:
        """With no model asked and none listed, the error names the provider."""
        with pytest.raises(InvalidConfigError, match="provider 'p' needs a model name") as caught:
            ProviderMetadata("p").resolve_model(None)
        assert caught.value.provider == "p"


class TestHealthStatus:
    @pytest.mark.parametrize("state", list(HealthState))
    def test_ok_only_when_healthy(self, state: HealthState) -> None:
        """ok is true for healthy alone; degraded is not ok."""
        assert HealthStatus(state, 0.1).ok is (state is HealthState.HEALTHY)


class TestInheritedContract:
    @pytest.mark.parametrize("entry", ENTRY_POINTS)
    def test_provider_errors_get_op_and_provider(self, sync_model: SyncModel, entry: str) -> None:
        """An error the subclass raised without op or provider carries both once it escapes."""
        if entry in ("batch", "abatch"):
            outcome = run_entry(sync_model, entry, "fail")
            assert isinstance(outcome, list)
            error = outcome[0]
        else:
            with pytest.raises(RateLimitError) as caught:
                run_entry(sync_model, entry, "fail")
            error = caught.value
        assert isinstance(error, RateLimitError)
        called = {"batch": "invoke", "abatch": "ainvoke"}.get(entry, entry)
        assert (error.op, error.provider) == (called, "fake")

    def test_an_op_the_provider_set_is_kept(self) -> None:
        """The base class fills gaps and never overwrites what the provider said."""

        class Named(SyncModel):
            def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
                msg = "busy"
                raise RateLimitError(msg, op="chat.completions", provider="upstream")

        with Named() as model, pytest.raises(RateLimitError) as caught:
            model.invoke("hi")
        assert (caught.value.op, caught.value.provider) == ("chat.completions", "upstream")

    @pytest.mark.parametrize("entry", ENTRY_POINTS)
    def test_empty_user_content_never_reaches_the_provider(
        self, sync_model: SyncModel, entry: str
    ) -> None:
        """An empty user message is invalid_input, not retryable, before _invoke runs."""
        outcome: object
        try:
            outcome = run_entry(sync_model, entry, [Message.user("")])
        except InvalidInputError as exc:
            outcome = exc
        error = outcome[0] if isinstance(outcome, list) else outcome
        assert isinstance(error, InvalidInputError), error
        assert error.retryable is False
        assert "messages[0]" in str(error)
        assert "non-empty" in str(error)
        assert error.provider == "fake"
        assert sync_model.seen == []

    def test_closing_a_stream_early_closes_the_subclass_stream(self) -> None:
        """The error-stamping layer passes close() through to the subclass's generator."""
        with StreamingModel() as model:
            stream = model.stream("hi")
            next(stream)
            stream.close()  # type: ignore[attr-defined]
            assert model.stream_closed.is_set()
