"""Tests of the responses provider against the fault server's /v1/responses."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from chatmodels import (
    Capability,
    ChatOptions,
    ErrorCode,
    FinishReason,
    InvalidConfigError,
    InvalidResponseError,
    JsonSchemaFormat,
    Message,
    ServerError,
    ToolCall,
    ToolSpec,
    UnsupportedError,
)
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.messages import merge_chunks
from chatmodels.providers._http_capture import WireRecorder
from chatmodels.providers.responses import ResponsesProvider
from chatmodels.registry import ProviderRegistry

SECRET = "sk-test-DO-NOT-LEAK-1234567890"
PROMPT = "Say hello in three words."
ANSWER = "Reference answer to: Say hello in three words."
WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
FORCED = ChatOptions(tools=(WEATHER,), tool_choice="get_weather")


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def provider(server: FaultServer) -> ResponsesProvider:
    server.set_default(None)
    server.reset_log()
    return ResponsesProvider({"base_url": server.url, "api_key": SECRET, "max_retries": 0})


def _last_body(server: FaultServer) -> Any:
    return [r for r in server.requests if r.method == "POST"][-1].body


class TestCalls:
    def test_invoke_returns_the_reference_answer(self, provider):
        """A plain call returns the text, stop, usage and the server's response id."""
        with provider.create_chat_model("reference-echo") as model:
            result = model.invoke(PROMPT)
        assert result.text == ANSWER
        assert result.finish_reason is FinishReason.STOP
        assert result.usage is not None
        assert result.usage.total_tokens > 0
        assert result.response_id.startswith("resp_")

    def test_stream_folds_to_the_invoke_answer(self, provider):
        """A stream's chunks merge to the same text, finish reason and usage as invoke."""
        with provider.create_chat_model("reference-echo") as model:
            whole = model.invoke(PROMPT)
            chunks = list(model.stream(PROMPT))
        merged = merge_chunks(chunks)
        assert len(chunks) > 2
        assert (merged.text, merged.finish_reason, merged.usage) == (
            whole.text,
            whole.finish_reason,
            whole.usage,
        )

    def test_async_calls_match(self, provider):
        """ainvoke and astream give the answer invoke gives."""

        async def both() -> tuple[str, str]:
            async with provider.create_chat_model("reference-echo") as model:
                result = await model.ainvoke(PROMPT)
                chunks = [chunk async for chunk in model.astream(PROMPT)]
            return result.text, merge_chunks(chunks).text

        assert asyncio.run(both()) == (ANSWER, ANSWER)

    @pytest.mark.parametrize("kind", ["invoke", "stream"])
    def test_forced_tool_call(self, provider, kind):
        """A forced tool comes back as one call with JSON arguments, streamed or not."""
        with provider.create_chat_model("reference-echo") as model:
            if kind == "invoke":
                result = model.invoke("Weather in Oslo?", FORCED)
            else:
                result = merge_chunks(model.stream("Weather in Oslo?", FORCED))
        assert result.finish_reason is FinishReason.TOOL_CALLS
        (call,) = result.tool_calls
        assert call.name == "get_weather"
        assert json.loads(call.arguments) == {"city": "Weather in Oslo?"}

    def test_tool_results_go_back_as_items(self, provider, server):
        """A call and its result are sent as function_call and function_call_output items."""
        call = ToolCall("call_1", "get_weather", '{"city": "Oslo"}')
        messages = [
            Message.user("Weather in Oslo?"),
            Message.assistant("", (call,)),
            Message.tool("sunny", "call_1"),
        ]
        with provider.create_chat_model("reference-echo") as model:
            result = model.invoke(messages, ChatOptions(tools=(WEATHER,)))
        kinds = [item["type"] for item in _last_body(server)["input"]]
        assert kinds == ["message", "function_call", "function_call_output"]
        assert "sunny" in result.text

    def test_json_mode_and_limits_are_sent(self, provider, server):
        """JSON mode, temperature and max_tokens become text.format, temperature and
        max_output_tokens; a short limit comes back as finish reason length."""
        options = ChatOptions(response_format="json", temperature=0.0, max_tokens=2)
        with provider.create_chat_model("reference-echo") as model:
            result = model.invoke(PROMPT, options)
        body = _last_body(server)
        assert body["text"] == {"format": {"type": "json_object"}}
        assert (body["temperature"], body["max_output_tokens"]) == (0.0, 2)
        assert result.finish_reason is FinishReason.LENGTH

    @pytest.mark.parametrize("kind", ["invoke", "stream"])
    def test_structured_output_follows_the_schema(self, provider, server, kind):
        """A JSON Schema goes out as text.format json_schema and the answer is JSON that fits."""
        fmt = JsonSchemaFormat(CITY, name="city", strict=True)
        with provider.create_chat_model("reference-echo") as model:
            if kind == "invoke":
                result = model.invoke(PROMPT, ChatOptions(response_format=fmt))
            else:
                result = merge_chunks(model.stream(PROMPT, ChatOptions(response_format=fmt)))
        shape = _last_body(server)["text"]["format"]
        assert shape == {"type": "json_schema", "name": "city", "schema": CITY, "strict": True}
        jsonschema.validate(json.loads(result.text), CITY)

    def test_stop_is_refused(self, provider):
        """Open Responses has no stop sequences: stop is unsupported, never silently dropped."""
        with (
            provider.create_chat_model("reference-echo") as model,
            pytest.raises(UnsupportedError, match="stop"),
        ):
            model.invoke(PROMPT, ChatOptions(stop=("x",)))


class TestProtocolFaults:
    @pytest.mark.parametrize("kind", ["invoke", "stream"])
    def test_failed_response_raises_server_error(self, provider, server, kind):
        """A response that ends failed raises server_error, never a partial answer."""
        server.set_default(Fault.failed_stream())
        with (
            provider.create_chat_model("reference-echo") as model,
            pytest.raises(ServerError, match="response failed") as caught,
        ):
            list(model.stream(PROMPT)) if kind == "stream" else model.invoke(PROMPT)
        assert caught.value.code is ErrorCode.SERVER_ERROR

    def test_incomplete_response_finishes_with_length(self, provider, server):
        """A stream ended by response.incomplete reports finish reason length."""
        server.set_default(Fault.incomplete())
        with provider.create_chat_model("reference-echo") as model:
            result = merge_chunks(model.stream(PROMPT))
        assert result.finish_reason is FinishReason.LENGTH

    def test_events_out_of_order_are_refused(self, provider, server):
        """An event whose sequence_number runs backwards is an invalid response, named."""
        server.set_default(Fault.wire("shuffled_sequence"))
        with (
            provider.create_chat_model("reference-echo") as model,
            pytest.raises(InvalidResponseError, match="sequence_number 2 after 3"),
        ):
            list(model.stream(PROMPT))

    def test_cut_stream_is_refused(self, provider, server):
        """A stream that stops before its terminal event is an invalid response."""
        server.set_default(Fault.cut_stream(after_chunks=4))
        with (
            provider.create_chat_model("reference-echo") as model,
            pytest.raises(InvalidResponseError, match="terminal event"),
        ):
            list(model.stream(PROMPT))


class TestProvider:
    def test_registered_as_an_entry_point(self):
        """The provider is found by name, declaring responses_compatible, not openai_compatible."""
        metadata = ProviderRegistry().metadata("responses")
        assert Capability.RESPONSES_COMPATIBLE in metadata.capabilities
        assert Capability.OPENAI_COMPATIBLE not in metadata.capabilities
        assert Capability.STOP_SEQUENCES not in metadata.capabilities

    def test_secret_never_shown(self, provider):
        """The API key is in neither the provider's nor its settings' repr."""
        assert SECRET not in repr(provider)
        assert SECRET not in repr(provider.settings)

    def test_wire_capture_keeps_the_raw_events_and_hides_the_key(self, provider):
        """record_wire keeps each exchange's raw SSE events; the Authorization header is masked."""
        recorder = WireRecorder()
        provider.record_wire(recorder)
        with provider.create_chat_model("reference-echo") as model:
            list(model.stream(PROMPT))
        (exchange,) = recorder.since(0)
        assert exchange.path.endswith("/responses")
        kinds = [json.loads(e.data)["type"] for e in exchange.events()]
        assert kinds[0] == "response.created"
        assert kinds[-1] == "response.completed"
        assert SECRET not in json.dumps(exchange.to_json())

    def test_bad_base_url_is_named(self):
        """A base_url that is not a URL is refused, naming the option and the expected form."""
        with pytest.raises(InvalidConfigError, match="base_url"):
            ResponsesProvider({"base_url": "localhost:8000"})
