"""Tests of the openai provider against the fault server, plus its pure translation helpers."""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatmodels import (
    Capability,
    ChatModelError,
    ChatOptions,
    ChatTimeoutError,
    ClosedError,
    ErrorCode,
    FinishReason,
    InvalidConfigError,
    InvalidResponseError,
    Message,
    NetworkError,
    RateLimitError,
    ToolCall,
    ToolSpec,
)
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.messages import merge_chunks
from chatmodels.providers._http_errors import (
    HTTPX_ERROR_CODES,
    HTTPX_ROOT_ERRORS,
    Redactor,
    RetryPolicy,
    map_httpx_error,
    parse_retry_after,
)
from chatmodels.providers._http_payload import SSEDecoder
from chatmodels.providers._openai_wire import StreamAssembler, parse_completion
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider

SECRET = "sk-test-DO-NOT-LEAK-1234567890"
WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def make_provider(server: FaultServer, **options: Any) -> OpenAIProvider:
    base: dict[str, Any] = {
        "base_url": server.url,
        "model": "reference-echo",
        "api_key": SECRET,
        "backoff_base": 0.01,
        "max_retries": 0,
    }
    return OpenAIProvider({**base, **options})


@pytest.fixture
def model(server: FaultServer) -> Iterator[OpenAIChatModel]:
    server.set_default(None)
    server.reset_log()
    with make_provider(server).create_chat_model() as chat:
        yield chat


def chat_posts(server: FaultServer) -> list[Any]:
    return [r for r in server.requests if r.path.endswith("/chat/completions")]


class TestOptions:
    def test_string_options_are_parsed(self, server: FaultServer) -> None:
        """Options given as command-line strings become numbers and bools."""
        provider = make_provider(
            server, timeout="2.5", max_retries="3", deterministic="true", max_connections="4"
        )
        settings = provider.settings
        assert (settings.timeout, settings.retry.max_retries) == (2.5, 3)
        assert (settings.deterministic, settings.max_connections) == (True, 4)

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("timeout", "soon"),
            ("timeout", 0),
            ("max_retries", "-1"),
            ("max_retries", 1.5),
            ("deterministic", "maybe"),
            ("max_connections", 0),
            ("base_url", "ftp://example"),
            ("total_timeout", "nan"),
        ],
    )
    def test_bad_options_name_the_option(self, server: FaultServer, name: str, value: Any) -> None:
        """A bad option value raises InvalidConfigError naming the option and the value."""
        with pytest.raises(InvalidConfigError, match=name) as info:
            make_provider(server, **{name: value})
        assert repr(value) in str(info.value)

    def test_missing_base_url_and_unknown_options(self) -> None:
        """base_url is required and unknown options are refused."""
        with pytest.raises(InvalidConfigError, match="base_url"):
            OpenAIProvider({})
        with pytest.raises(InvalidConfigError, match="colour"):
            OpenAIProvider({"base_url": "http://127.0.0.1:1/v1", "colour": "red"})

    def test_deterministic_only_when_declared(self, server: FaultServer) -> None:
        """The class metadata never declares DETERMINISTIC; an instance does when told to."""
        assert Capability.DETERMINISTIC not in OpenAIProvider.metadata.capabilities
        assert Capability.OPENAI_COMPATIBLE in OpenAIProvider.metadata.capabilities
        assert not make_provider(server).metadata.supports(Capability.DETERMINISTIC)
        assert make_provider(server, deterministic=True).metadata.supports("deterministic")

    def test_api_key_is_optional(self, server: FaultServer) -> None:
        """A local server needs no key; the model then sends no Authorization header."""
        provider = OpenAIProvider({"base_url": server.url, "model": "reference-echo"})
        with provider.create_chat_model() as chat:
            assert chat.invoke("hi").text == "Reference answer to: hi"

    def test_model_name_is_needed(self, server: FaultServer) -> None:
        """Without a model option or argument, create_chat_model says a model is needed."""
        provider = OpenAIProvider({"base_url": server.url})
        with pytest.raises(InvalidConfigError, match="model"):
            provider.create_chat_model()

    def test_secret_never_shown(self, server: FaultServer) -> None:
        """The API key appears in no repr and in no config error."""
        provider = make_provider(server)
        with provider.create_chat_model() as chat:
            shown = [repr(provider), repr(chat), repr(provider.settings), str(provider.metadata)]
        assert not any(SECRET in text for text in shown)
        with pytest.raises(InvalidConfigError) as info:
            make_provider(server, api_key=12345)
        assert "12345" not in str(info.value)


class TestCalls:
    def test_invoke(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """invoke returns the server's answer, model, id and usage."""
        result = model.invoke([Message.system("be brief"), Message.user("hello")])
        assert result.text == "Reference answer to: hello"
        assert result.finish_reason is FinishReason.STOP
        assert result.model == "reference-echo"
        assert result.response_id.startswith("ref-")
        assert result.usage is not None
        assert result.usage.total_tokens > 0
        sent = chat_posts(server)[-1].body
        assert sent["messages"][0] == {"role": "system", "content": "be brief"}

    def test_stream_folds_to_invoke(self, model: OpenAIChatModel) -> None:
        """A stream's chunks fold into the invoke answer; the last one has finish and usage."""
        chunks = list(model.stream("stream me please"))
        assert len(chunks) > 2
        assert chunks[-1].finish_reason is FinishReason.STOP
        assert chunks[-1].usage is not None
        merged = merge_chunks(chunks)
        invoked = model.invoke("stream me please")
        assert (merged.text, merged.usage) == (invoked.text, invoked.usage)

    def test_async_paths(self, model: OpenAIChatModel) -> None:
        """ainvoke and astream answer like their sync twins, on one loop or several."""

        async def run() -> tuple[str, str]:
            result = await model.ainvoke("async hello")
            chunks = [c async for c in model.astream("async hello")]
            return result.text, merge_chunks(chunks).text

        assert asyncio.run(run()) == ("Reference answer to: async hello",) * 2
        assert asyncio.run(run())[0] == "Reference answer to: async hello"

    def test_tools_and_tool_results(self, model: OpenAIChatModel) -> None:
        """A forced tool comes back as a tool call, and a tool result round-trips."""
        options = ChatOptions(tools=(WEATHER,), tool_choice="get_weather")
        result = model.invoke("weather in Paris?", options)
        assert result.finish_reason is FinishReason.TOOL_CALLS
        (call,) = result.tool_calls
        assert call.name == "get_weather"
        assert "city" in call.parsed_arguments()
        streamed = merge_chunks(model.stream("weather in Paris?", options))
        assert streamed.tool_calls == result.tool_calls
        follow_up = [
            Message.user("weather in Paris?"),
            Message.assistant("", [ToolCall(call.id, call.name, call.arguments)]),
            Message.tool("sunny", call.id, name="get_weather"),
        ]
        answer = model.invoke(follow_up, ChatOptions(tools=(WEATHER,)))
        assert answer.text == "Tool get_weather returned: sunny"

    def test_json_stop_and_max_tokens(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """JSON mode, stop sequences and max_tokens reach the server and shape the answer."""
        assert model.invoke("hi", ChatOptions(response_format="json")).text.startswith("{")
        stopped = model.invoke("one two three", ChatOptions(stop=("two",)))
        assert stopped.text == "Reference answer to: one "
        cut = model.invoke("one two three", ChatOptions(max_tokens=2, seed=1, temperature=0.5))
        assert cut.finish_reason is FinishReason.LENGTH
        body = chat_posts(server)[-1].body
        assert (body["max_tokens"], body["seed"], body["temperature"]) == (2, 1, 0.5)
        assert chat_posts(server)[0].body["response_format"] == {"type": "json_object"}

    def test_batch(self, model: OpenAIChatModel) -> None:
        """batch answers each input at its index."""
        results = model.batch(["a", "b", "c"])
        assert [r.text for r in results] == [f"Reference answer to: {x}" for x in "abc"]

    def test_health(self, server: FaultServer) -> None:
        """health_check is healthy against the server and unhealthy against a closed port."""
        with make_provider(server).create_chat_model() as chat:
            assert chat.health_check().ok
        with FaultServer() as gone:
            url = gone.url
        with OpenAIProvider({"base_url": url, "model": "m"}).create_chat_model() as chat:
            assert not chat.health_check().ok

    def test_closed_model_refuses(self, server: FaultServer) -> None:
        """After close, calls raise ClosedError; closing twice is fine."""
        chat = make_provider(server).create_chat_model()
        chat.invoke("x")
        asyncio.run(chat.ainvoke("x"))
        chat.close()
        chat.close()
        with pytest.raises(ClosedError):
            chat.invoke("x")

    def test_aclose_after_async_use(self, server: FaultServer) -> None:
        """aclose closes the async client on its loop and the sync one too."""

        async def run() -> None:
            chat = make_provider(server).create_chat_model()
            chat.invoke("sync first")
            await chat.ainvoke("then async")
            await chat.aclose()
            assert chat.closed

        asyncio.run(run())


STATUS_ROWS = [
    (400, ErrorCode.INVALID_INPUT),
    (422, ErrorCode.INVALID_INPUT),
    (401, ErrorCode.AUTHENTICATION),
    (403, ErrorCode.PERMISSION),
    (404, ErrorCode.MODEL_NOT_FOUND),
    (408, ErrorCode.TIMEOUT),
    (429, ErrorCode.RATE_LIMIT),
    (500, ErrorCode.SERVER_ERROR),
    (503, ErrorCode.SERVER_ERROR),
]

BROKEN = [
    (Fault.malformed_json(), ErrorCode.INVALID_RESPONSE, ErrorCode.INVALID_RESPONSE),
    (Fault.wrong_content_type(), ErrorCode.INVALID_RESPONSE, ErrorCode.INVALID_RESPONSE),
    (Fault.empty_200(), ErrorCode.INVALID_RESPONSE, ErrorCode.INVALID_RESPONSE),
    (Fault.reset(), ErrorCode.NETWORK, ErrorCode.NETWORK),
    (Fault.cut_stream(after_chunks=2), ErrorCode.NETWORK, ErrorCode.INVALID_RESPONSE),
]


class TestErrors:
    @pytest.mark.parametrize(("status", "code"), STATUS_ROWS)
    def test_status_mapping(
        self, model: OpenAIChatModel, server: FaultServer, status: int, code: ErrorCode
    ) -> None:
        """Each HTTP status maps to its error code, quoting the server's message."""
        for call in (lambda: model.invoke("x"), lambda: list(model.stream("x"))):
            server.script(Fault.status(status))
            with pytest.raises(ChatModelError) as info:
                call()
            assert info.value.code is code
            assert f"HTTP {status}" in str(info.value)
            assert "fault injected" in str(info.value)
            assert SECRET not in str(info.value)
            assert info.value.provider == "openai"

    @pytest.mark.parametrize("entry", ["invoke", "stream", "ainvoke", "astream"])
    def test_empty_user_message_is_refused_before_sending(
        self, model: OpenAIChatModel, server: FaultServer, entry: str
    ) -> None:
        """MSG-005 holds against any server: the empty turn is invalid_input and never sent."""
        empty = [Message.user("")]
        server.reset_log()

        async def adrain() -> object:
            return [c async for c in model.astream(empty)]

        calls = {
            "invoke": lambda: model.invoke(empty),
            "stream": lambda: list(model.stream(empty)),
            "ainvoke": lambda: asyncio.run(model.ainvoke(empty)),
            "astream": lambda: asyncio.run(adrain()),
        }
        with pytest.raises(ChatModelError) as info:
            calls[entry]()
        assert info.value.code is ErrorCode.INVALID_INPUT
        assert info.value.retryable is False
        assert (info.value.op, info.value.provider) == (entry, "openai")
        assert server.requests == []

    def test_retry_after_is_read(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """A 429 carries retry_after from the Retry-After header."""
        server.script(Fault.status(429, retry_after=7))
        with pytest.raises(RateLimitError) as info:
            model.invoke("x")
        assert info.value.retry_after == 7.0

    @pytest.mark.parametrize(("fault", "invoke_code", "stream_code"), BROKEN)
    def test_broken_answers(
        self,
        model: OpenAIChatModel,
        server: FaultServer,
        fault: Fault,
        invoke_code: ErrorCode,
        stream_code: ErrorCode,
    ) -> None:
        """Broken answers raise invalid_response or network, and the next call recovers."""
        server.script(fault, fault)
        with pytest.raises(ChatModelError) as invoked:
            model.invoke("x")
        with pytest.raises(ChatModelError) as streamed:
            list(model.stream("x"))
        assert (invoked.value.code, streamed.value.code) == (invoke_code, stream_code)
        if invoke_code is ErrorCode.NETWORK:
            assert isinstance(invoked.value.__cause__, httpx.TransportError)
        assert SECRET not in str(invoked.value) + str(streamed.value)
        assert model.invoke("again").text == "Reference answer to: again"
        assert merge_chunks(model.stream("again")).text == "Reference answer to: again"

    def test_async_cut_stream_raises(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """An async stream cut before its end raises instead of returning a partial answer."""
        server.script(Fault.cut_stream(after_chunks=1))

        async def run() -> list[Any]:
            return [c async for c in model.astream("cut me")]

        with pytest.raises(InvalidResponseError, match="cut short"):
            asyncio.run(run())

    def test_huge_and_slow_answers_succeed(
        self, model: OpenAIChatModel, server: FaultServer
    ) -> None:
        """A multi-MB body, a latency and a drip are still correct answers."""
        server.script(Fault.huge_body(size=2_000_000), Fault.latency(0.05), Fault.drip(0.01))
        assert model.invoke("big").text == "Reference answer to: big"
        assert model.invoke("slow").text == "Reference answer to: slow"
        assert merge_chunks(model.stream("drip")).text == "Reference answer to: drip"


class TestRetries:
    def test_retries_are_bounded(self, server: FaultServer) -> None:
        """A persistent 503 is tried max_retries + 1 times, then raised."""
        server.reset_log()
        server.set_default(Fault.status(503))
        try:
            with make_provider(server, max_retries=2).create_chat_model() as chat:
                with pytest.raises(ChatModelError, match="503"):
                    chat.invoke("x")
                assert len(chat_posts(server)) == 3
                with pytest.raises(ChatModelError, match="503"):
                    list(chat.stream("x"))
                assert len(chat_posts(server)) == 6
        finally:
            server.set_default(None)

    def test_non_retryable_is_not_retried(self, server: FaultServer) -> None:
        """A 400 is raised at once, whatever max_retries says."""
        server.reset_log()
        server.script(Fault.status(400))
        chat = make_provider(server, max_retries=3).create_chat_model()
        with chat, pytest.raises(ChatModelError):
            chat.invoke("x")
        assert len(chat_posts(server)) == 1

    def test_retry_after_is_honoured(self, server: FaultServer) -> None:
        """The retry after a 429 comes no sooner than its Retry-After."""
        server.reset_log()
        server.script(Fault.status(429, retry_after=0.4), Fault.reset())
        with make_provider(server, max_retries=3).create_chat_model() as chat:
            assert chat.invoke("x").text == "Reference answer to: x"
        first, second, third = chat_posts(server)
        assert (first.status, second.status, third.status) == (429, None, 200)
        assert second.time - first.time >= 0.4 - 0.01

    def test_async_retries(self, server: FaultServer) -> None:
        """The async paths retry transient failures too."""
        server.reset_log()
        with make_provider(server, max_retries=2).create_chat_model() as chat:

            async def run() -> tuple[str, str]:
                server.script(Fault.status(502), Fault.reset())
                result = await chat.ainvoke("x")
                server.script(Fault.status(500))
                chunks = [c async for c in chat.astream("y")]
                return result.text, merge_chunks(chunks).text

            assert asyncio.run(run()) == ("Reference answer to: x", "Reference answer to: y")
        assert len(chat_posts(server)) == 5

    def test_stream_not_retried_after_first_chunk(self, server: FaultServer) -> None:
        """A stream that fails after yielding raises, even with retries left."""
        server.reset_log()
        server.script(Fault.drip(0.2))
        with make_provider(server, max_retries=3).create_chat_model() as chat:
            stream = chat.stream("a few words here", ChatOptions(timeout=0.7))
            first = next(stream)
            with pytest.raises(ChatTimeoutError):
                list(stream)
        assert first.delta
        assert len(chat_posts(server)) == 1

    def test_per_call_timeout_bounds_the_retries_too(self, server: FaultServer) -> None:
        """A caller's ChatOptions.timeout ends the whole call, retries and backoff included."""
        latency = 1.5
        server.set_default(Fault.latency(latency))
        try:
            with make_provider(
                server, max_retries=5, backoff_base=0.05
            ).create_chat_model() as chat:
                started = time.monotonic()
                with pytest.raises(ChatTimeoutError):
                    chat.invoke("hello", ChatOptions(timeout=0.2))
                elapsed = time.monotonic() - started
        finally:
            server.set_default(None)
        assert elapsed < 0.5 * latency, f"took {elapsed:.2f}s; the per-call timeout was 0.2s"

    def test_backoff_policy(self) -> None:
        """Backoff grows, honours retry_after, caps at backoff_max and the time left."""
        policy = RetryPolicy(max_retries=3, backoff_base=0.1, backoff_max=1.0)
        rng = random.Random(0)
        limited = RateLimitError("slow down", retry_after=0.5)
        assert policy.delay(0, limited, None, rng) == 0.5
        assert 0.2 <= policy.delay(2, ChatModelError("x"), None, rng) <= 0.4
        assert policy.delay(0, RateLimitError("x", retry_after=30), None, rng) == 1.0
        assert policy.delay(0, limited, 0.3, rng) is None
        assert policy.delay(3, limited, None, rng) is None
        assert policy.delay(0, InvalidResponseError("x"), None, rng) is None


class TestTimeouts:
    def test_timeout_fires_before_latency(self, server: FaultServer) -> None:
        """A per-call timeout ends the call well before the server's latency."""
        latency = 1.5
        server.set_default(Fault.latency(latency))
        try:
            with make_provider(server, timeout=0.2).create_chat_model() as chat:
                start = time.monotonic()
                with pytest.raises(ChatTimeoutError):
                    chat.invoke("x")
                sync_ratio = (time.monotonic() - start) / latency
                start = time.monotonic()
                with pytest.raises(ChatTimeoutError):
                    asyncio.run(chat.ainvoke("x"))
                async_ratio = (time.monotonic() - start) / latency
        finally:
            server.set_default(None)
        assert sync_ratio < 0.6
        assert async_ratio < 0.6

    def test_total_timeout_bounds_retries(self, server: FaultServer) -> None:
        """total_timeout stops retrying even when retries are left."""
        latency = 1.5
        server.set_default(Fault.latency(latency))
        try:
            provider = make_provider(server, timeout=0.15, total_timeout=0.4, max_retries=50)
            with provider.create_chat_model() as chat:
                start = time.monotonic()
                with pytest.raises(ChatTimeoutError):
                    chat.invoke("x")
                ratio = (time.monotonic() - start) / latency
        finally:
            server.set_default(None)
        assert ratio < 0.6

    def test_cancelling_ainvoke(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """Cancelling an ainvoke ends it promptly, and the model keeps working."""
        latency = 1.5
        server.script(Fault.latency(latency))

        async def run() -> float:
            task = asyncio.ensure_future(model.ainvoke("x"))
            await asyncio.sleep(0.1)
            start = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic() - start

        assert asyncio.run(run()) / latency < 0.5
        assert model.invoke("after").text == "Reference answer to: after"

    def test_early_close_of_stream(self, model: OpenAIChatModel, server: FaultServer) -> None:
        """Closing a stream early frees its connection for the next call."""
        server.script(Fault.drip(0.05))
        stream = model.stream("a b c d e f g h")
        next(stream)
        stream.close()
        assert model.invoke("next").text == "Reference answer to: next"


class TestTranslation:
    def test_every_httpx_exception_is_mapped(self) -> None:
        """Every exception class httpx exports is listed with its error code."""
        exported = {
            obj
            for obj in vars(httpx).values()
            if inspect.isclass(obj) and issubclass(obj, BaseException)
        }
        assert exported
        missing = sorted(cls.__name__ for cls in exported - set(HTTPX_ERROR_CODES))
        assert missing == []
        assert all(issubclass(cls, HTTPX_ROOT_ERRORS) for cls in exported)

    @pytest.mark.parametrize(
        ("exc", "code"),
        [
            (httpx.ReadTimeout("slow"), ErrorCode.TIMEOUT),
            (httpx.ConnectTimeout("slow"), ErrorCode.TIMEOUT),
            (httpx.RemoteProtocolError("reset"), ErrorCode.NETWORK),
            (httpx.ConnectError("refused"), ErrorCode.NETWORK),
            (httpx.DecodingError("gzip"), ErrorCode.INVALID_RESPONSE),
        ],
    )
    def test_httpx_error_codes(self, exc: Exception, code: ErrorCode) -> None:
        """httpx errors become the matching ChatModelError subclass with the cause kept."""
        error = map_httpx_error(exc, op="invoke", redact=Redactor(None))
        assert error.code is code
        assert error.__cause__ is exc

    def test_secret_is_redacted(self) -> None:
        """A secret inside an httpx message is blanked out."""
        error = map_httpx_error(
            httpx.ConnectError(f"bad key {SECRET}"), op="invoke", redact=Redactor(SECRET)
        )
        assert SECRET not in str(error)
        assert "***" in str(error)
        assert isinstance(error, NetworkError)

    def test_retry_after_forms(self) -> None:
        """Retry-After is read in seconds or as an HTTP date; junk means absent."""
        assert parse_retry_after("3") == 3.0
        assert parse_retry_after("0.5") == 0.5
        date = email.utils.formatdate(1_000_010, usegmt=True)
        assert parse_retry_after(date, now=1_000_000) == pytest.approx(10.0)
        assert parse_retry_after("soon") is None
        assert parse_retry_after(None) is None

    def test_sse_decoder(self) -> None:
        """The decoder joins multi-line data, skips comments and other fields."""
        decoder = SSEDecoder()
        lines = [": keep-alive", "event: message", 'data: {"a":', "data: 1}", "", "data: x"]
        payloads = [decoder.feed(line) for line in lines]
        assert [p for p in payloads if p] == ['{"a":\n1}']
        assert decoder.flush() == "x"

    def test_unknown_finish_reason_is_invalid(self) -> None:
        """An unknown finish reason is an invalid response; function_call means tool_calls."""
        payload = {
            "id": "x",
            "model": "m",
            "choices": [{"message": {"content": "hi"}, "finish_reason": "function_call"}],
        }
        assert parse_completion(payload, op="invoke", fallback_model="m").finish_reason is (
            FinishReason.TOOL_CALLS
        )
        payload["choices"][0]["finish_reason"] = "gave_up"
        with pytest.raises(InvalidResponseError, match="gave_up"):
            parse_completion(payload, op="invoke", fallback_model="m")
        with pytest.raises(InvalidResponseError, match="choices"):
            parse_completion({"id": "x"}, op="invoke", fallback_model="m")

    def test_stream_without_usage_chunk_is_fine(self) -> None:
        """A stream with a finish reason and [DONE] but no usage chunk ends with usage None."""
        assembler = StreamAssembler(op="stream", fallback_model="m")
        lines = [
            'data: {"id":"r","choices":[{"delta":{"content":"hi"},"finish_reason":null}]}',
            "",
            'data: {"id":"r","choices":[{"delta":{},"finish_reason":"stop"}]}',
            "",
            "data: [DONE]",
            "",
        ]
        chunks = [c for line in lines for c in assembler.feed_line(line)]
        chunks += assembler.finish()
        assert merge_chunks(chunks).text == "hi"
        assert chunks[-1].usage is None
        assert chunks[-1].finish_reason is FinishReason.STOP

    def test_stream_without_done_is_cut(self) -> None:
        """A stream with a finish reason but no [DONE] is reported as cut short."""
        assembler = StreamAssembler(op="stream", fallback_model="m")
        assembler.feed_line('data: {"choices":[{"delta":{},"finish_reason":"stop"}]}')
        assembler.feed_line("")
        with pytest.raises(InvalidResponseError, match=r"\[DONE\]"):
            assembler.finish()
