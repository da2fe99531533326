"""The official openai SDK and OpenAIProvider get the same answers from the fault server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from chatmodels import ChatOptions, ChatResult, JsonSchemaFormat, ToolSpec
from chatmodels.conformance.faults import FaultServer
from chatmodels.messages import merge_chunks
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider
from sdk_parity import summary as shared_summary

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
WEATHER_WIRE = {
    "type": "function",
    "function": {
        "name": WEATHER.name,
        "description": WEATHER.description,
        "parameters": dict(WEATHER.parameters),
    },
}

CLOCK = ToolSpec("get_time", "Tell the time.")
CLOCK_WIRE = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Tell the time.",
        "parameters": dict(CLOCK.parameters),
    },
}
CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "landmarks": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "landmarks"],
    "additionalProperties": False,
}
PNG = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mP4z8CA"
    "FTEMLQkAKP8/wc53yE8AAAAASUVORK5CYII="
)
#: 2026 chat shapes: structured output, images, audio, parallel calls, reasoning, refusal, model.
CASES_2026: list[tuple[list[dict[str, Any]], ChatOptions, dict[str, Any]]] = [
    (
        [{"role": "user", "content": "Describe Paris"}],
        ChatOptions(response_format=JsonSchemaFormat(CITY, "city", strict=True)),
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "city", "schema": CITY, "strict": True},
            }
        },
    ),
    (
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What colour?"},
                    {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
                ],
            }
        ],
        ChatOptions(),
        {},
    ),
    (
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Transcribe."},
                    {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                ],
            }
        ],
        ChatOptions(),
        {},
    ),
    (
        [{"role": "user", "content": "Paris: use get_weather and get_time"}],
        ChatOptions(tools=(WEATHER, CLOCK), parallel_tool_calls=True),
        {"tools": [WEATHER_WIRE, CLOCK_WIRE], "parallel_tool_calls": True},
    ),
    (
        [{"role": "user", "content": "Zürich 東京 via get_weather"}],
        ChatOptions(tools=(WEATHER,)),
        {"tools": [WEATHER_WIRE]},
    ),
    (
        [{"role": "user", "content": "Think: 17 * 23"}],
        ChatOptions(reasoning_effort="low"),
        {"reasoning_effort": "low"},
    ),
    ([{"role": "user", "content": "Please refuse this."}], ChatOptions(), {}),
    (
        [{"role": "user", "content": "Hello there"}],
        ChatOptions(model="reference-echo-alt"),
        {"model": "reference-echo-alt"},
    ),
]

#: (messages, our options, the same options as SDK keyword arguments)
CASES: list[tuple[list[dict[str, Any]], ChatOptions, dict[str, Any]]] = [
    ([{"role": "user", "content": "Hello there"}], ChatOptions(), {}),
    (
        [{"role": "system", "content": "terse"}, {"role": "user", "content": "one two three"}],
        ChatOptions(stop=("three",), temperature=0.2),
        {"stop": ["three"], "temperature": 0.2},
    ),
    (
        [{"role": "user", "content": "count to ten slowly"}],
        ChatOptions(max_tokens=3, seed=4),
        {"max_tokens": 3, "seed": 4},
    ),
    (
        [{"role": "user", "content": "answer as json"}],
        ChatOptions(response_format="json"),
        {"response_format": {"type": "json_object"}},
    ),
    (
        [{"role": "user", "content": "weather in Oslo via get_weather"}],
        ChatOptions(tools=(WEATHER,), tool_choice="get_weather"),
        {
            "tools": [WEATHER_WIRE],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    ),
    *CASES_2026,
]


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
def ours(server: FaultServer) -> Iterator[OpenAIChatModel]:
    provider = OpenAIProvider(
        {
            "base_url": server.url,
            "api_key": "test",
            "max_retries": 0,
            "capabilities": "+vision,+reasoning",
        }
    )
    with provider.create_chat_model("reference-echo") as model:
        yield model


def summary(result: ChatResult) -> tuple[Any, ...]:
    """The shared summary, plus the refusal, reasoning and reasoning tokens chat shows."""
    thought = None if result.usage is None else result.usage.reasoning_tokens
    return (*shared_summary(result), result.refusal, result.reasoning, thought)


def sdk_summary(completion: Any) -> tuple[Any, ...]:
    choice = completion.choices[0]
    usage = completion.usage
    counts = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    calls = tuple(
        (c.id, c.function.name, c.function.arguments) for c in choice.message.tool_calls or ()
    )
    details = usage.completion_tokens_details
    return (
        choice.message.content or "",
        choice.finish_reason,
        counts,
        calls,
        completion.model,
        choice.message.refusal or "",
        getattr(choice.message, "reasoning_content", None) or "",
        None if details is None else details.reasoning_tokens,
    )


def sdk_stream_summary(chunks: list[Any]) -> tuple[Any, ...]:
    text, refusal, reasoning, finish, counts, model, thought = "", "", "", None, None, "", None
    calls: dict[int, list[str]] = {}
    for chunk in chunks:
        model = chunk.model or model
        if chunk.usage is not None:
            usage = chunk.usage
            counts = (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            details = usage.completion_tokens_details
            thought = None if details is None else details.reasoning_tokens
        for choice in chunk.choices:
            text += choice.delta.content or ""
            refusal += choice.delta.refusal or ""
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or ():
                parts = calls.setdefault(delta.index, ["", "", ""])
                parts[0] = parts[0] or (delta.id or "")
                parts[1] = parts[1] or (delta.function.name or "")
                parts[2] += delta.function.arguments or ""
    merged_calls = tuple(tuple(p) for _, p in sorted(calls.items()))
    return text, finish, counts, merged_calls, model, refusal, reasoning, thought


class TestSdkParity:
    @pytest.mark.parametrize(("messages", "options", "kwargs"), CASES)
    def test_invoke_matches_sdk(
        self,
        sdk: openai.OpenAI,
        ours: OpenAIChatModel,
        messages: list[dict[str, Any]],
        options: ChatOptions,
        kwargs: dict[str, Any],
    ) -> None:
        """Text, finish reason, usage and tool calls agree with the SDK's, not streamed."""
        theirs = sdk.chat.completions.create(
            **{"model": "reference-echo", **kwargs}, messages=messages
        )
        assert summary(ours.invoke(messages, options)) == sdk_summary(theirs)

    @pytest.mark.parametrize(("messages", "options", "kwargs"), CASES)
    def test_stream_matches_sdk(
        self,
        sdk: openai.OpenAI,
        ours: OpenAIChatModel,
        messages: list[dict[str, Any]],
        options: ChatOptions,
        kwargs: dict[str, Any],
    ) -> None:
        """Streamed answers fold to the same text, finish reason, usage and tool calls."""
        with sdk.chat.completions.create(
            **{"model": "reference-echo", **kwargs},
            messages=messages,
            stream=True,
            stream_options={"include_usage": True},
        ) as stream:
            theirs = sdk_stream_summary(list(stream))
        assert summary(merge_chunks(ours.stream(messages, options))) == theirs
