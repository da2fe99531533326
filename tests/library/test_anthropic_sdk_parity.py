"""The official anthropic SDK and AnthropicProvider get the same answers from the fault server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from chatmodels import ChatOptions, ChatResult, ErrorCode, ToolSpec
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.errors import ChatModelError
from chatmodels.messages import merge_chunks
from chatmodels.providers.anthropic import AnthropicChatModel, AnthropicProvider

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
WEATHER_WIRE = {
    "name": WEATHER.name,
    "description": WEATHER.description,
    "input_schema": dict(WEATHER.parameters),
}
MAX = 1024
#: The finish reason each Messages stop reason becomes.
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}

#: (system, messages, our options, the same options as SDK keyword arguments)
CASES: list[tuple[str | None, list[dict[str, Any]], ChatOptions, dict[str, Any]]] = [
    (None, [{"role": "user", "content": "Hello there"}], ChatOptions(), {}),
    (
        "terse",
        [{"role": "user", "content": "one two three"}],
        ChatOptions(stop=("three",)),
        {"stop_sequences": ["three"]},
    ),
    (
        None,
        [{"role": "user", "content": "count to ten slowly"}],
        ChatOptions(max_tokens=3),
        {"max_tokens": 3},
    ),
    (
        None,
        [{"role": "user", "content": "answer as json"}],
        ChatOptions(response_format="json"),
        {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
    ),
    (
        None,
        [{"role": "user", "content": "weather in Oslo via get_weather"}],
        ChatOptions(tools=(WEATHER,), tool_choice="get_weather"),
        {"tools": [WEATHER_WIRE], "tool_choice": {"type": "tool", "name": "get_weather"}},
    ),
]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: FaultServer) -> Iterator[anthropic.Anthropic]:
    # The SDK adds /v1/messages to its base URL; the provider adds /messages to its own.
    root = server.url.removesuffix("/v1")
    with anthropic.Anthropic(base_url=root, api_key="test", max_retries=0) as client:
        yield client


@pytest.fixture(scope="module")
def ours(server: FaultServer) -> Iterator[AnthropicChatModel]:
    provider = AnthropicProvider({"base_url": server.url, "api_key": "test", "max_retries": 0})
    with provider.create_chat_model("reference-echo") as model:
        yield model


def summary(result: ChatResult) -> tuple[Any, ...]:
    usage = result.usage
    counts = None if usage is None else (usage.input_tokens, usage.output_tokens)
    calls = tuple((c.id, c.name, json.loads(c.arguments)) for c in result.tool_calls)
    return result.text, result.finish_reason.value, counts, calls, result.model


def sdk_summary(message: Any) -> tuple[Any, ...]:
    text = "".join(b.text for b in message.content if b.type == "text")
    calls = tuple((b.id, b.name, b.input) for b in message.content if b.type == "tool_use")
    counts = (message.usage.input_tokens, message.usage.output_tokens)
    return text, FINISH[message.stop_reason], counts, calls, message.model


def _prompt(system: str | None, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return ([{"role": "system", "content": system}] if system else []) + messages


def _sdk_kwargs(system: str | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {"max_tokens": MAX, **({"system": system} if system else {}), **kwargs}


class TestSdkParity:
    @pytest.mark.parametrize(("system", "messages", "options", "kwargs"), CASES)
    def test_invoke_matches_sdk(
        self,
        sdk: anthropic.Anthropic,
        ours: AnthropicChatModel,
        system: str | None,
        messages: list[dict[str, Any]],
        options: ChatOptions,
        kwargs: dict[str, Any],
    ) -> None:
        """Text, stop reason, usage and tool calls agree with the SDK's, not streamed."""
        theirs = sdk.messages.create(
            model="reference-echo", messages=messages, **_sdk_kwargs(system, kwargs)
        )
        assert summary(ours.invoke(_prompt(system, messages), options)) == sdk_summary(theirs)

    @pytest.mark.parametrize(("system", "messages", "options", "kwargs"), CASES)
    def test_stream_matches_sdk(
        self,
        sdk: anthropic.Anthropic,
        ours: AnthropicChatModel,
        system: str | None,
        messages: list[dict[str, Any]],
        options: ChatOptions,
        kwargs: dict[str, Any],
    ) -> None:
        """Streamed answers fold to what the SDK's own stream accumulator makes of them."""
        with sdk.messages.stream(
            model="reference-echo", messages=messages, **_sdk_kwargs(system, kwargs)
        ) as stream:
            theirs = sdk_summary(stream.get_final_message())
        folded = merge_chunks(ours.stream(_prompt(system, messages), options))
        assert summary(folded) == theirs

    @pytest.mark.parametrize(
        ("fault", "streamed"),
        [(Fault.status(529), False), (Fault.failed_stream(), True)],
        ids=["overloaded-529", "error-event-mid-stream"],
    )
    def test_failures_agree(
        self,
        server: FaultServer,
        sdk: anthropic.Anthropic,
        ours: AnthropicChatModel,
        fault: Fault,
        streamed: bool,
    ) -> None:
        """Where the SDK raises an overloaded error, the provider raises a retryable
        server_error."""
        prompt = [{"role": "user", "content": "hi"}]

        def sdk_call() -> None:
            kwargs: dict[str, Any] = {"model": "reference-echo", "messages": prompt}
            if not streamed:
                sdk.messages.create(max_tokens=MAX, **kwargs)
                return
            with sdk.messages.stream(max_tokens=MAX, **kwargs) as stream:
                stream.get_final_message()

        def our_call() -> None:
            if streamed:
                list(ours.stream(prompt))
            else:
                ours.invoke(prompt)

        server.set_default(fault)
        try:
            with pytest.raises(anthropic.APIStatusError) as theirs:
                sdk_call()
            with pytest.raises(ChatModelError) as ours_error:
                our_call()
        finally:
            server.set_default(None)
        assert "overloaded" in str(theirs.value).lower()
        assert (ours_error.value.code, ours_error.value.retryable) == (ErrorCode.SERVER_ERROR, True)
