"""The official openai SDK's Responses client and ResponsesProvider get the same answers from
the fault server's ``/v1/responses``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from chatmodels import ChatOptions, JsonSchemaFormat, ToolSpec
from chatmodels.conformance.faults import FaultServer
from chatmodels.messages import merge_chunks
from chatmodels.providers.responses import ResponsesChatModel, ResponsesProvider
from sdk_parity import summary

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER_WIRE = {
    "type": "function",
    "name": WEATHER.name,
    "description": WEATHER.description,
    "parameters": dict(WEATHER.parameters),
    "strict": False,
}

#: (messages, our options, the same request as SDK keyword arguments)
CASES: list[tuple[list[dict[str, Any]], ChatOptions, dict[str, Any]]] = [
    ([{"role": "user", "content": "Hello there"}], ChatOptions(), {}),
    (
        [{"role": "system", "content": "terse"}, {"role": "user", "content": "one two three"}],
        ChatOptions(temperature=0.2),
        {"temperature": 0.2},
    ),
    (
        [{"role": "user", "content": "count to ten slowly"}],
        ChatOptions(max_tokens=3),
        {"max_output_tokens": 3},
    ),
    (
        [{"role": "user", "content": "answer as json"}],
        ChatOptions(response_format="json"),
        {"text": {"format": {"type": "json_object"}}},
    ),
    (
        [{"role": "user", "content": "a city as json"}],
        ChatOptions(response_format=JsonSchemaFormat(CITY, name="city", strict=True)),
        {
            "text": {
                "format": {"type": "json_schema", "name": "city", "schema": CITY, "strict": True}
            }
        },
    ),
    (
        [{"role": "user", "content": "weather in Oslo via get_weather"}],
        ChatOptions(tools=(WEATHER,), tool_choice="get_weather"),
        {"tools": [WEATHER_WIRE], "tool_choice": {"type": "function", "name": "get_weather"}},
    ),
]
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
IDS = ["plain", "system", "max_tokens", "json", "schema", "tool"]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: FaultServer) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=server.url, api_key="test", max_retries=0)
    with client:
        yield client


@pytest.fixture(scope="module")
def ours(server: FaultServer) -> Iterator[ResponsesChatModel]:
    provider = ResponsesProvider({"base_url": server.url, "api_key": "test", "max_retries": 0})
    with provider.create_chat_model("reference-echo") as model:
        yield model


def sdk_summary(response: Any) -> tuple[Any, ...]:
    """The SDK's response in the same terms: its status and output items read as ours."""
    calls = tuple(
        (item.call_id, item.name, item.arguments)
        for item in response.output
        if item.type == "function_call"
    )
    finishes = {"incomplete": "length", "completed": "tool_calls" if calls else "stop"}
    finish = finishes.get(response.status, response.status)
    usage = response.usage
    counts = (usage.input_tokens, usage.output_tokens, usage.total_tokens)
    return response.output_text, finish, counts, calls, response.model


def _input(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "message", **m} for m in messages]


class TestSdkParity:
    @pytest.mark.parametrize(("messages", "options", "kwargs"), CASES, ids=IDS)
    def test_invoke_matches_sdk(self, sdk, ours, messages, options, kwargs):
        """Text, finish reason, usage and function calls agree with the SDK's, not streamed."""
        theirs = sdk.responses.create(model="reference-echo", input=_input(messages), **kwargs)
        assert summary(ours.invoke(messages, options)) == sdk_summary(theirs)

    @pytest.mark.parametrize(("messages", "options", "kwargs"), CASES, ids=IDS)
    def test_stream_matches_sdk(self, sdk, ours, messages, options, kwargs):
        """A streamed answer folds to the response the SDK reads from the terminal event."""
        with sdk.responses.create(
            model="reference-echo", input=_input(messages), stream=True, **kwargs
        ) as stream:
            final = [e.response for e in stream if e.type in TERMINAL]
        theirs = sdk_summary(final[-1])
        assert summary(merge_chunks(ours.stream(messages, options))) == theirs

    def test_sdk_accepts_every_streamed_event(self, sdk):
        """The SDK parses every event the server sends into one of its typed events."""
        with sdk.responses.create(
            model="reference-echo", input="Say hello in three words.", stream=True
        ) as stream:
            kinds = [type(event).__name__ for event in stream]
        assert kinds[0] == "ResponseCreatedEvent"
        assert kinds[-1] == "ResponseCompletedEvent"
        assert "ResponseTextDeltaEvent" in kinds
