"""Tests for the bundled reference provider: every documented rule, path by path."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmodels.errors import (
    ChatModelError,
    ChatTimeoutError,
    ErrorCode,
    InvalidConfigError,
    InvalidInputError,
    ModelNotFoundError,
    RateLimitError,
    UnsupportedError,
    error_class_for,
)
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    ToolCall,
    merge_chunks,
)
from chatmodels.options import ChatOptions, ToolSpec
from chatmodels.provider import Capability, HealthState
from chatmodels.providers.reference import (
    ReferenceChatModel,
    ReferenceConfig,
    ReferenceProvider,
    count_tokens,
)

PREFIX = "Reference answer to: "

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 3},
            "days": {"type": "integer", "minimum": 2, "maximum": 5},
            "ratio": {"type": "number", "exclusiveMinimum": 1},
            "metric": {"type": "boolean"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "where": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
            },
            "note": {"type": ["null", "string"], "maxLength": 5},
            "kind": {"const": "forecast"},
        },
        "required": ["city", "days", "where", "kind"],
        "additionalProperties": False,
    },
)
CLOCK = ToolSpec("get_time", parameters={"type": "object", "properties": {}})


def make(**options: Any) -> ReferenceChatModel:
    """Build a model with no latency unless asked."""
    options.setdefault("latency", 0)
    return ReferenceProvider(options).create_chat_model()


def collect(model: ReferenceChatModel, messages: Any, options: Any = None) -> list[ChatChunk]:
    """Drain the async stream on a fresh loop."""

    async def run() -> list[ChatChunk]:
        return [chunk async for chunk in model.astream(messages, options)]

    return asyncio.run(run())


def elapsed(call: Callable[[], object]) -> tuple[float, BaseException | None]:
    """Time *call*, returning the error it raised, if any."""
    start = time.perf_counter()
    try:
        call()
    except BaseException as exc:
        return time.perf_counter() - start, exc
    return time.perf_counter() - start, None


class TestTokenizer:
    def test_counts_words_and_single_punctuation(self) -> None:
        """A token is a word or one punctuation character; whitespace is not a token."""
        assert count_tokens("Hello, world!") == 4
        assert count_tokens("don't  stop...") == 7
        assert count_tokens("  \n\t") == 0
        assert count_tokens("naïve 👋") == 2

    def test_input_tokens_count_content_arguments_and_one_per_message(self) -> None:
        """Input tokens sum content and tool-call argument tokens, plus one per message."""
        call = ToolCall("c1", "get_time", '{"tz": "UTC"}')
        messages = [
            Message.system("Be brief."),
            Message.user("What time is it?"),
            Message.assistant("", [call]),
            Message.tool("noon", "c1"),
        ]
        result = make().invoke(messages)
        assert result.usage is not None
        assert result.usage.input_tokens == 3 + 5 + 9 + 1 + 4

    def test_usage_output_is_tokens_of_text_and_total_is_sum(self) -> None:
        """Output tokens are the answer's tokens, and total is input plus output."""
        result = make().invoke("Hi there, you.")
        assert result.usage is not None
        assert result.usage.output_tokens == count_tokens(result.text)
        assert result.usage.input_tokens == count_tokens("Hi there, you.") + 1
        assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens


class TestAnswer:
    def test_echoes_last_user_message_with_unicode(self) -> None:
        """The answer is the fixed prefix plus the last user message, emoji intact."""
        messages = [Message.user("first"), Message.assistant("ok"), Message.user("¿Qué tal? 🎉")]
        result = make().invoke(messages)
        assert result.text == PREFIX + "¿Qué tal? 🎉"
        assert result.finish_reason is FinishReason.STOP
        assert result.model == "reference-echo"

    def test_same_input_gives_same_answer_but_a_new_response_id(self) -> None:
        """Two identical calls agree on everything except the response id."""
        model = make()
        first, second = model.invoke("same"), model.invoke("same")
        assert (first.message, first.usage, first.finish_reason) == (
            second.message,
            second.usage,
            second.finish_reason,
        )
        assert first.response_id != second.response_id
        assert first.response_id.startswith("ref-")

    def test_response_ids_are_unique_across_models_and_threads(self) -> None:
        """Response ids never repeat, even from concurrent calls on two models."""
        models = [make(), make()]
        ids: list[str] = []
        lock = threading.Lock()

        def work(model: ReferenceChatModel) -> None:
            for _ in range(50):
                rid = model.invoke("x").response_id
                with lock:
                    ids.append(rid)

        threads = [threading.Thread(target=work, args=(m,)) for m in models * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ids) == len(set(ids)) == 200

    def test_system_message_is_accepted(self) -> None:
        """A system message does not stop the model from answering the user."""
        result = make().invoke([Message.system("You are terse."), Message.user("hello")])
        assert result.text == PREFIX + "hello"

    def test_tool_results_are_summarised(self) -> None:
        """Trailing tool results are summarised by message name, call name, else call id."""
        messages = [
            Message.user("weather and time?"),
            Message.assistant(
                "", [ToolCall("c1", "get_weather", "{}"), ToolCall("c2", "get_time", "{}")]
            ),
            Message.tool("sunny", "c1", name="weather_tool"),
            Message.tool("noon", "c2"),
            Message.tool("??", "c9"),
        ]
        result = make().invoke(messages)
        assert result.text == (
            "Tool weather_tool returned: sunny\nTool get_time returned: noon\nTool c9 returned: ??"
        )

    def test_empty_user_content_is_invalid_input(self) -> None:
        """A user message with empty content is rejected as invalid input."""
        with pytest.raises(InvalidInputError, match="user message"):
            make().invoke([Message.user("")])

    def test_empty_assistant_message_is_invalid_input(self) -> None:
        """An assistant message with no content and no tool calls is rejected."""
        with pytest.raises(InvalidInputError, match="assistant message"):
            make().invoke([Message.user("a"), Message.assistant(""), Message.user("b")])

    def test_input_over_the_limit_is_invalid_and_names_the_limit(self) -> None:
        """A conversation longer than max_input_tokens is rejected with the limit named."""
        model = make(max_input_tokens=10)
        model.invoke("one two three four five six seven eight nine")
        with pytest.raises(InvalidInputError, match="max_input_tokens=10"):
            model.invoke("one two three four five six seven eight nine ten")

    def test_default_limit_is_8192_tokens(self) -> None:
        """The default model refuses a prompt of 8192 words, one token over with the message."""
        model = make()
        model.invoke("w " * 8191)
        with pytest.raises(InvalidInputError, match="8192"):
            model.invoke("w " * 8192)


class TestShaping:
    def test_max_tokens_cuts_at_a_token_boundary(self) -> None:
        """max_tokens keeps the original text up to the end of the N-th token."""
        result = make().invoke("one two", {"max_tokens": 4})
        assert result.text == "Reference answer to:"
        assert result.finish_reason is FinishReason.LENGTH
        assert result.usage is not None
        assert result.usage.output_tokens == 4

    def test_max_tokens_not_reached_keeps_text_and_stop_reason(self) -> None:
        """An answer that fits max_tokens is unchanged and finishes with stop."""
        result = make().invoke("one two", {"max_tokens": 6})
        assert result.text == PREFIX + "one two"
        assert result.finish_reason is FinishReason.STOP

    def test_stop_sequence_truncates_at_earliest_and_is_excluded(self) -> None:
        """The text ends before the earliest stop sequence, which is not included."""
        result = make().invoke("alpha beta gamma", {"stop": ["gamma", "beta"]})
        assert result.text == PREFIX + "alpha "
        assert result.finish_reason is FinishReason.STOP

    def test_json_mode_is_valid_json_even_when_cut(self) -> None:
        """JSON mode wraps the text and applies max_tokens to the inner text only."""
        model = make()
        whole = model.invoke("héllo", {"response_format": "json"})
        assert json.loads(whole.text) == {"answer": PREFIX + "héllo"}
        assert "héllo" in whole.text
        cut = model.invoke("héllo", {"response_format": "json", "max_tokens": 2})
        assert json.loads(cut.text) == {"answer": "Reference answer"}
        assert cut.finish_reason is FinishReason.LENGTH


class TestTools:
    def test_forced_tool_answers_with_one_valid_call(self) -> None:
        """A forced tool yields one call whose arguments validate against its schema."""
        result = make().invoke(
            "Paris please", {"tools": [CLOCK, WEATHER], "tool_choice": "get_weather"}
        )
        assert result.finish_reason is FinishReason.TOOL_CALLS
        assert result.text == ""
        (call,) = result.tool_calls
        assert call.name == "get_weather"
        assert call.id.startswith("call_")
        arguments = call.parsed_arguments()
        jsonschema.Draft202012Validator(dict(WEATHER.parameters)).validate(arguments)
        assert set(arguments) == set(WEATHER.parameters["properties"])
        assert arguments["unit"] == "celsius"
        assert arguments["metric"] is True
        assert result.usage is not None
        assert result.usage.output_tokens == count_tokens(call.arguments)

    def test_call_id_and_arguments_are_deterministic(self) -> None:
        """The same conversation gets the same call id and arguments; another gets another id."""
        options = {"tools": [WEATHER], "tool_choice": "required"}
        model = make()
        first, second = model.invoke("a", options), model.invoke("a", options)
        other = model.invoke("b", options)
        assert first.tool_calls == second.tool_calls
        assert first.tool_calls[0].id != other.tool_calls[0].id

    @pytest.mark.parametrize(
        ("prompt", "choice", "expected"),
        [
            ("what is the time", "required", "get_weather"),
            ("use get_time now", "required", "get_time"),
            ("use GET_TIME now", None, "get_time"),
            ("use get_time now", "auto", "get_time"),
            ("hello there", "auto", None),
            ("use get_time now", "none", None),
        ],
    )
    def test_tool_choice_rules(self, prompt: str, choice: str | None, expected: str | None) -> None:
        """Required picks the mentioned or first tool; auto needs a mention; none never calls."""
        result = make().invoke(prompt, {"tools": [WEATHER, CLOCK], "tool_choice": choice})
        names = [c.name for c in result.tool_calls]
        assert names == ([expected] if expected else [])
        if expected is None:
            assert result.text == PREFIX + prompt

    def test_auto_after_tool_results_answers_in_text(self) -> None:
        """With auto, a conversation ending in tool results gets a summary, not another call."""
        options = {"tools": [CLOCK]}
        model = make()
        call = model.invoke("call get_time", options).tool_calls[0]
        history = [Message.user("call get_time"), Message.assistant("", [call])]
        result = model.invoke([*history, Message.tool("12:00", call.id)], options)
        assert result.tool_calls == ()
        assert result.text == "Tool get_time returned: 12:00"

    def test_tool_call_is_not_cut_by_max_tokens(self) -> None:
        """max_tokens never truncates tool-call arguments, which stay valid JSON."""
        result = make().invoke(
            "x", {"tools": [WEATHER], "tool_choice": "required", "max_tokens": 1}
        )
        jsonschema.validate(result.tool_calls[0].parsed_arguments(), dict(WEATHER.parameters))


class TestStreaming:
    def test_stream_concatenates_to_the_invoke_result(self) -> None:
        """The stream folds to the same text, finish reason and usage as invoke."""
        model = make(chunk_tokens=3)
        chunks = list(model.stream("The quick,  brown fox\n jumps 🦊!"))
        merged = merge_chunks(chunks)
        result = model.invoke("The quick,  brown fox\n jumps 🦊!")
        assert merged.message == result.message
        assert merged.usage == result.usage
        assert merged.finish_reason is result.finish_reason

    def test_chunk_metadata_and_finish_only_on_last(self) -> None:
        """Every chunk has the model and one response id; only the last has finish and usage."""
        chunks = list(make(chunk_tokens=1).stream("a b c"))
        assert len(chunks) == count_tokens(PREFIX + "a b c")
        assert {c.model for c in chunks} == {"reference-echo"}
        assert len({c.response_id for c in chunks}) == 1
        assert all(c.finish_reason is None and c.usage is None for c in chunks[:-1])
        assert chunks[-1].finish_reason is FinishReason.STOP
        assert chunks[-1].usage is not None
        assert all(c.delta for c in chunks)

    def test_chunks_hold_chunk_tokens_tokens(self) -> None:
        """Each chunk but the last holds exactly chunk_tokens tokens."""
        chunks = list(make(chunk_tokens=2).stream("one, two three"))
        assert [count_tokens(c.delta) for c in chunks] == [2, 2, 2, 2]

    def test_empty_answer_streams_one_empty_final_chunk(self) -> None:
        """When the answer is empty the stream is a single empty chunk with the finish."""
        chunks = list(make().stream("x", {"stop": ["Reference"]}))
        assert len(chunks) == 1
        assert chunks[0].delta == ""
        assert chunks[0].finish_reason is FinishReason.STOP

    def test_tool_call_streams_as_fragments(self) -> None:
        """A tool call streams as argument fragments, id and name on the first only."""
        options = {"tools": [WEATHER], "tool_choice": "get_weather"}
        model = make(chunk_tokens=1)
        chunks = list(model.stream("Oslo", options))
        deltas = [d for c in chunks for d in c.tool_call_deltas]
        assert len(deltas) > 1
        assert deltas[0].id is not None
        assert deltas[0].name == "get_weather"
        assert all(d.id is None and d.name is None for d in deltas[1:])
        assert all(c.delta == "" for c in chunks)
        merged = merge_chunks(chunks)
        assert merged.tool_calls == model.invoke("Oslo", options).tool_calls
        assert merged.finish_reason is FinishReason.TOOL_CALLS

    def test_async_stream_matches_sync_stream(self) -> None:
        """astream yields the same deltas as stream."""
        model = make()
        sync = [c.delta for c in model.stream("same text here")]
        assert [c.delta for c in collect(model, "same text here")] == sync

    def test_bad_input_raises_when_the_stream_is_created(self) -> None:
        """Invalid input fails at stream()/astream(), before any chunk is requested."""
        model = make()
        with pytest.raises(InvalidInputError):
            model.stream([Message.user("")])
        with pytest.raises(InvalidInputError):
            model.astream([Message.user("")])

    @settings(max_examples=60, deadline=None)
    @given(text=st.text(min_size=1, max_size=80), size=st.integers(1, 6))
    def test_stream_equals_invoke_for_any_text(self, text: str, size: int) -> None:
        """For any prompt and chunk size, the stream concatenates to invoke's text and usage."""
        model = make(chunk_tokens=size)
        result = model.invoke(text)
        chunks = list(model.stream(text))
        assert "".join(c.delta for c in chunks) == result.text == PREFIX + text
        assert chunks[-1].usage == result.usage
        assert all(c.delta for c in chunks) or len(chunks) == 1
        assert all(count_tokens(c.delta) == size for c in chunks[:-1])


class TestTimeouts:
    LATENCY = 0.2
    TIMEOUT = 0.05

    def _check(self, full: float, cut: float, error: BaseException | None) -> None:
        assert isinstance(error, ChatTimeoutError)
        assert cut < full * 0.6

    def test_latency_is_waited(self) -> None:
        """A call takes at least its configured latency."""
        took, error = elapsed(lambda: make(latency=0.05).invoke("x"))
        assert error is None
        assert took >= 0.05 * 0.95

    def test_sync_invoke_times_out(self) -> None:
        """invoke raises ChatTimeoutError at the deadline instead of sleeping the full latency."""
        model = make(latency=self.LATENCY)
        full, _ = elapsed(lambda: model.invoke("x"))
        cut, error = elapsed(lambda: model.invoke("x", {"timeout": self.TIMEOUT}))
        self._check(full, cut, error)

    def test_async_invoke_times_out(self) -> None:
        """ainvoke raises ChatTimeoutError at the deadline."""
        model = make(latency=self.LATENCY)
        full, _ = elapsed(lambda: asyncio.run(model.ainvoke("x")))
        cut, error = elapsed(lambda: asyncio.run(model.ainvoke("x", {"timeout": self.TIMEOUT})))
        self._check(full, cut, error)

    def test_sync_stream_times_out_between_chunks(self) -> None:
        """The timeout bounds the whole stream, chunk waits included."""
        model = make(chunk_latency=self.LATENCY)
        got: list[ChatChunk] = []
        full, _ = elapsed(lambda: list(model.stream("x")))
        cut, error = elapsed(lambda: got.extend(model.stream("x", {"timeout": self.TIMEOUT})))
        assert len(got) == 1
        assert cut < full * 0.3  # the full stream waits twice; the cut one stops at the deadline
        assert isinstance(error, ChatTimeoutError)

    def test_async_stream_times_out(self) -> None:
        """astream raises ChatTimeoutError when its latency would pass the deadline."""
        model = make(latency=self.LATENCY)
        full, _ = elapsed(lambda: collect(model, "x"))
        cut, error = elapsed(lambda: collect(model, "x", {"timeout": self.TIMEOUT}))
        self._check(full, cut, error)

    def test_async_calls_do_not_block_the_loop(self) -> None:
        """Four concurrent ainvoke calls take about as long as one."""
        model = make(latency=0.1)

        async def many(n: int) -> None:
            await asyncio.gather(*(model.ainvoke("x") for _ in range(n)))

        one, _ = elapsed(lambda: asyncio.run(many(1)))
        four, _ = elapsed(lambda: asyncio.run(many(4)))
        assert four < one * 2


class TestCancellation:
    LATENCY = 0.5

    @staticmethod
    def cancel_took(work: Coroutine[Any, Any, object], ready: asyncio.Event | None) -> float:
        """Start *work*, cancel it once *ready* is set (or soon), and time the cancellation."""

        async def run() -> float:
            task = asyncio.ensure_future(work)
            if ready is None:
                await asyncio.sleep(0.01)
            else:
                await ready.wait()
            start = time.perf_counter()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.perf_counter() - start

        return asyncio.run(run())

    def test_ainvoke_is_cancellable(self) -> None:
        """Cancelling an ainvoke task ends it promptly with CancelledError."""
        model = make(latency=self.LATENCY)
        assert self.cancel_took(model.ainvoke("x"), None) < self.LATENCY * 0.5

    def test_async_stream_cancellation_returns_promptly(self) -> None:
        """Cancelling a task consuming a slow astream ends it long before the next chunk."""
        model = make(chunk_latency=self.LATENCY)
        first = asyncio.Event()

        async def consume() -> None:
            async for _ in model.astream("a b c d"):
                first.set()

        assert self.cancel_took(consume(), first) < self.LATENCY * 0.5

    def test_async_stream_aclose_releases_it(self) -> None:
        """aclose() after the first chunk ends the stream without waiting for the rest."""
        model = make(chunk_latency=self.LATENCY)

        async def run() -> float:
            stream = model.astream("a b c d")
            assert isinstance(stream, AsyncIterator)
            await stream.__anext__()
            start = time.perf_counter()
            await stream.aclose()  # type: ignore[attr-defined]
            with pytest.raises(StopAsyncIteration):
                await stream.__anext__()
            return time.perf_counter() - start

        assert asyncio.run(run()) < self.LATENCY * 0.5

    def test_sync_stream_close_releases_it(self) -> None:
        """close() on a sync stream after one chunk ends it at once."""
        stream = make(chunk_latency=self.LATENCY).stream("a b c d")
        assert isinstance(stream, Iterator)
        next(stream)
        took, error = elapsed(stream.close)  # type: ignore[attr-defined]
        assert error is None
        assert took < self.LATENCY * 0.5
        with pytest.raises(StopIteration):
            next(stream)


class TestFaults:
    def test_rate_limit_fault_carries_retry_after(self) -> None:
        """A rate_limit fault raises RateLimitError with retry_after 1.0."""
        with pytest.raises(RateLimitError) as info:
            make(fault_code="rate_limit").invoke("x")
        assert info.value.retry_after == 1.0
        assert info.value.provider == "reference"
        assert info.value.retryable

    @pytest.mark.parametrize("code", list(ErrorCode))
    def test_every_code_maps_to_its_error_class(self, code: ErrorCode) -> None:
        """Each fault code raises the class make_error picks for it."""
        with pytest.raises(error_class_for(code)) as info:
            make(fault_code=code.value).invoke("x")
        assert info.value.code is code

    def test_faults_follow_the_seed(self) -> None:
        """Two models with the same seed fail on the same calls; both outcomes occur."""

        def outcomes() -> list[bool]:
            model = make(fault_code="server_error", fault_rate=0.5, seed=7)
            results = []
            for _ in range(30):
                try:
                    model.invoke("x")
                except ChatModelError:
                    results.append(False)
                else:
                    results.append(True)
            return results

        first = outcomes()
        assert first == outcomes()
        assert True in first
        assert False in first
        rng = random.Random(7)
        assert first == [rng.random() >= 0.5 for _ in range(30)]

    def test_concurrent_draws_follow_the_seed(self) -> None:
        """Under threads the number of faults equals that of the seeded sequence."""
        model = make(fault_code="network", fault_rate=0.3, seed=3)
        failures: list[int] = []
        lock = threading.Lock()

        def work() -> None:
            failed = 0
            for _ in range(50):
                try:
                    model.invoke("x")
                except ChatModelError:
                    failed += 1
            with lock:
                failures.append(failed)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rng = random.Random(3)
        assert sum(failures) == sum(rng.random() < 0.3 for _ in range(200))

    def test_faults_hit_every_path(self) -> None:
        """ainvoke, stream and astream fail with the fault too; streams on iteration."""
        model = make(fault_code="server_error")
        with pytest.raises(ChatModelError, match="server_error"):
            asyncio.run(model.ainvoke("x"))
        stream = model.stream("x")
        with pytest.raises(ChatModelError, match="server_error"):
            next(stream)
        with pytest.raises(ChatModelError, match="server_error"):
            collect(model, "x")

    def test_invalid_input_wins_over_faults(self) -> None:
        """Bad input is reported as invalid input even when faults are on."""
        with pytest.raises(InvalidInputError):
            make(fault_code="server_error").invoke([Message.user("")])

    def test_fault_code_none_disables_faults(self) -> None:
        """fault_code 'none' means no faults."""
        assert make(fault_code="none").invoke("x").text == PREFIX + "x"


class TestOptions:
    def test_strings_are_parsed(self) -> None:
        """Options given as command-line strings are parsed to their types."""
        provider = ReferenceProvider(
            {
                "latency": "0.01",
                "chunk_latency": "0",
                "chunk_tokens": "3",
                "fault_code": "RATE_LIMIT",
                "fault_rate": "0.25",
                "seed": "-5",
                "max_input_tokens": "100",
            }
        )
        assert provider.config == ReferenceConfig(
            latency=0.01,
            chunk_latency=0.0,
            chunk_tokens=3,
            fault_code=ErrorCode.RATE_LIMIT,
            fault_rate=0.25,
            seed=-5,
            max_input_tokens=100,
        )
        assert provider.metadata.max_input_tokens == 100
        assert provider.create_chat_model().metadata.max_input_tokens == 100

    def test_defaults(self) -> None:
        """Without options the documented defaults apply."""
        assert ReferenceProvider().config == ReferenceConfig(
            latency=0.005, chunk_latency=0, chunk_tokens=2, fault_rate=0, seed=0
        )
        assert ReferenceProvider({"fault_code": "network"}).config.fault_rate == 1.0

    @pytest.mark.parametrize(
        ("name", "value", "expected"),
        [
            ("latency", "-1", "number of seconds >= 0"),
            ("latency", "soon", "number of seconds >= 0"),
            ("latency", True, "number of seconds >= 0"),
            ("latency", float("nan"), "number of seconds >= 0"),
            ("chunk_latency", [1], "number of seconds >= 0"),
            ("chunk_tokens", 0, "int >= 1"),
            ("chunk_tokens", "1.5", "int >= 1"),
            ("chunk_tokens", 2.0, "int >= 1"),
            ("fault_code", "oops", "error code"),
            ("fault_code", 3, "error code"),
            ("seed", "x", "an int"),
            ("max_input_tokens", "0", "int >= 1"),
        ],
    )
    def test_bad_values_name_the_option(self, name: str, value: object, expected: str) -> None:
        """A bad option value raises InvalidConfigError naming the option and expected form."""
        with pytest.raises(InvalidConfigError, match=f"'{name}' must be .*{expected}") as info:
            ReferenceProvider({name: value})
        assert repr(value) in str(info.value)

    @pytest.mark.parametrize("value", ["1.5", -0.1, "x"])
    def test_bad_fault_rate(self, value: object) -> None:
        """fault_rate outside [0, 1] is a configuration error."""
        with pytest.raises(InvalidConfigError, match=r"'fault_rate' must be a number in \[0, 1\]"):
            ReferenceProvider({"fault_code": "network", "fault_rate": value})

    def test_fault_rate_without_code(self) -> None:
        """A positive fault_rate without a fault_code is a configuration error."""
        with pytest.raises(InvalidConfigError, match="fault_code"):
            ReferenceProvider({"fault_rate": 0.5})
        assert ReferenceProvider({"fault_rate": "0"}).config.fault_code is None

    def test_unknown_option(self) -> None:
        """An unknown provider option is refused."""
        with pytest.raises(InvalidConfigError, match="unknown options"):
            ReferenceProvider({"temperature": 1})


class TestProvider:
    def test_metadata(self) -> None:
        """The metadata declares everything but the OpenAI and telemetry capabilities."""
        meta = ReferenceProvider.metadata
        assert meta.name == "reference"
        assert meta.version
        assert meta.models == ("reference-echo", "reference-echo-alt")
        assert meta.default_model == "reference-echo"
        assert meta.max_input_tokens == 8192
        assert meta.capabilities == frozenset(Capability) - {
            Capability.OPENAI_COMPATIBLE,
            Capability.ANTHROPIC_COMPATIBLE,
            Capability.RESPONSES_COMPATIBLE,
            Capability.TELEMETRY,
        }
        assert set(meta.optional_options) == set(ReferenceConfig.__dataclass_fields__)

    def test_unknown_model(self) -> None:
        """Asking for a model the provider does not serve raises ModelNotFoundError."""
        with pytest.raises(ModelNotFoundError, match="reference-echo"):
            ReferenceProvider().create_chat_model("gpt-9")

    def test_model_defaults_apply(self) -> None:
        """Options given at creation are the per-call defaults."""
        model = ReferenceProvider({"latency": 0}).create_chat_model(options={"max_tokens": 1})
        assert model.invoke("x").text == "Reference"

    def test_call_forces_a_default_tool(self) -> None:
        """A call's tool_choice may name a tool the model offers by default."""
        defaults = {"tools": [WEATHER, CLOCK]}
        model = ReferenceProvider({"latency": 0}).create_chat_model(options=defaults)
        result = model.invoke("What time is it in Paris?", {"tool_choice": "get_time"})
        assert [call.name for call in result.tool_calls] == ["get_time"]

    def test_call_asks_for_text_over_a_json_default(self) -> None:
        """response_format='text' on a call overrides a model whose default is json."""
        model = ReferenceProvider({"latency": 0}).create_chat_model(
            options={"response_format": "json"}
        )
        assert model.invoke("Name a colour.").text.startswith("{")
        assert not model.invoke("Name a colour.", {"response_format": "text"}).text.startswith("{")

    def test_extra_options_are_unsupported(self) -> None:
        """Unknown extra keys are refused with UnsupportedError."""
        with pytest.raises(UnsupportedError, match="extra"):
            make().invoke("x", {"extra": {"beam": 2}})

    def test_health(self) -> None:
        """Health is HEALTHY with a latency while open, and UNHEALTHY once closed."""
        model = make(latency=1.0)
        status = model.health_check()
        assert status.status is HealthState.HEALTHY
        assert 0 <= status.latency < 1.0
        model.close()
        assert model.health_check().status is HealthState.UNHEALTHY
        assert ReferenceProvider().health_check().ok

    def test_batch(self) -> None:
        """Batches answer each item in order and keep failures at their index."""
        results = make().batch(["a", [Message.user("")], "c"])
        assert isinstance(results[0], ChatResult)
        assert results[0].text == PREFIX + "a"
        assert isinstance(results[1], InvalidInputError)
        assert isinstance(results[2], ChatResult)
        assert results[2].text == PREFIX + "c"

    def test_subclass_override_reaches_every_path(self) -> None:
        """A subclass overriding one hook changes invoke and both streams alike."""

        class Shouty(ReferenceChatModel):
            def _text(self, messages: Any, options: ChatOptions) -> str:
                return super()._text(messages, options).upper()

        class ShoutyProvider(ReferenceProvider):
            chat_model_class = Shouty

        model = ShoutyProvider({"latency": 0}).create_chat_model()
        assert isinstance(model, Shouty)
        expected = (PREFIX + "hi").upper()
        assert model.invoke("hi").text == expected
        assert "".join(c.delta for c in model.stream("hi")) == expected
        assert "".join(c.delta for c in collect(model, "hi")) == expected

    def test_creation_benchmark(self, benchmark: Any) -> None:
        """Creating a provider and a model is cheap: no threads, no I/O."""
        before = threading.active_count()
        model = benchmark(lambda: ReferenceProvider({}).create_chat_model())
        assert isinstance(model, ReferenceChatModel)
        assert threading.active_count() == before
