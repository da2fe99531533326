"""The openai provider speaks 2026 chat completions: each new shape sent and parsed.

Unit checks of the wire module, then round trips against the fault server, whose requests log
shows what went over the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from chatmodels.conformance.faults import FaultServer
from chatmodels.errors import InvalidResponseError
from chatmodels.messages import Message, merge_chunks
from chatmodels.options import ChatOptions, JsonSchemaFormat, ToolSpec
from chatmodels.parts import ImagePart, MediaPart
from chatmodels.providers._openai_wire import (
    StreamAssembler,
    build_request_body,
    message_to_wire,
    parse_completion,
)
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider

PNG = "data:image/png;base64,iVBORw0KGgo="
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
WEATHER = ToolSpec("get_weather", parameters={"type": "object", "properties": {"city": {}}})
CLOCK = ToolSpec("get_time")


def _answer(message: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": usage,
    }


class TestRequestBody:
    def test_structured_output_parallel_reasoning_and_model(self) -> None:
        """Each new option has its chat-completions field; the per-call model wins."""
        options = ChatOptions(
            response_format=JsonSchemaFormat(CITY, "city", strict=True, description="A city"),
            tools=(WEATHER,),
            parallel_tool_calls=False,
            reasoning_effort="high",
            model="other",
        )
        body = build_request_body("m", (Message.user("hi"),), options, stream=False)
        assert body["model"] == "other"
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {
                "name": "city",
                "schema": CITY,
                "strict": True,
                "description": "A city",
            },
        }
        assert (body["parallel_tool_calls"], body["reasoning_effort"]) == (False, "high")

    def test_parallel_tool_calls_only_with_tools(self) -> None:
        """Servers refuse parallel_tool_calls without tools, so it is left out then."""
        body = build_request_body(
            "m", (Message.user("hi"),), ChatOptions(parallel_tool_calls=False), stream=False
        )
        assert "parallel_tool_calls" not in body

    def test_parts_become_content_lists(self) -> None:
        """Images, audio and files become typed parts; text-only turns stay strings."""
        message = Message.user(
            [
                "look",
                ImagePart(PNG, "low"),
                MediaPart("audio", "data:audio/wav;base64,UklGRg==", "audio/wav"),
                MediaPart("file", "data:application/pdf;base64,JVBE", "application/pdf", "a.pdf"),
            ]
        )
        assert message_to_wire(message)["content"] == [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            {
                "type": "file",
                "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"},
            },
        ]
        assert message_to_wire(Message.user(["just text"]))["content"] == "just text"

    def test_refusal_in_history_is_sent(self) -> None:
        """An assistant refusal goes back as the message's refusal field."""
        wire = message_to_wire(Message.assistant(refusal="No."))
        assert (wire["content"], wire["refusal"]) == ("", "No.")


class TestParse:
    @pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
    def test_refusal_reasoning_and_usage_details(self, field: str) -> None:
        """Refusal, either reasoning field and both usage details are read."""
        payload = _answer(
            {"role": "assistant", "content": None, "refusal": "No.", field: "hmm"},
            {
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "completion_tokens_details": {"reasoning_tokens": 3},
                "prompt_tokens_details": {"cached_tokens": 8},
            },
        )
        result = parse_completion(payload, op="invoke", fallback_model="m")
        assert (result.text, result.refusal, result.reasoning) == ("", "No.", "hmm")
        assert result.usage is not None
        assert (result.usage.reasoning_tokens, result.usage.cached_input_tokens) == (3, 8)

    def test_details_outside_their_totals_are_an_invalid_response(self) -> None:
        """A server counting reasoning outside the output breaks the contract: invalid_response."""
        usage = {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "completion_tokens_details": {"reasoning_tokens": 9},
        }
        with pytest.raises(InvalidResponseError, match="invalid usage"):
            parse_completion(_answer({"content": "x"}, usage), op="invoke", fallback_model="m")

    def test_stream_keeps_reasoning_and_refusal_deltas_apart(self) -> None:
        """reasoning_content and refusal deltas become chunks of their own fields."""
        assembler = StreamAssembler(op="stream", fallback_model="m")
        chunks = []
        for delta, finish in (
            ({"reasoning_content": "think "}, None),
            ({"content": "Hi"}, None),
            ({"refusal": "No"}, "stop"),
        ):
            event = {"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            chunks += assembler.feed_line("data: " + json.dumps(event))
            chunks += assembler.feed_line("")
        chunks += assembler.feed_line("data: [DONE]") + assembler.feed_line("")
        merged = merge_chunks(chunks)
        assert (merged.reasoning, merged.text, merged.refusal) == ("think ", "Hi", "No")


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def model(server: FaultServer) -> Iterator[OpenAIChatModel]:
    server.reset_log()
    options = {"base_url": server.url, "max_retries": 0, "capabilities": "+vision,+reasoning"}
    with OpenAIProvider(options).create_chat_model("reference-echo") as made:
        yield made


def _sent(server: FaultServer) -> dict[str, Any]:
    body = server.requests[-1].body
    assert isinstance(body, dict)
    return body


class TestAgainstFaultServer:
    @pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
    def test_image_reaches_the_server(
        self, server: FaultServer, model: OpenAIChatModel, streamed: bool
    ) -> None:
        """The image goes as an image_url part and the reference answer shows it arrived."""
        messages = [Message.user(["What colour?", ImagePart(PNG)])]
        result = merge_chunks(model.stream(messages)) if streamed else model.invoke(messages)
        assert result.text.endswith("[image: image/png]")
        assert _sent(server)["messages"][0]["content"][1]["type"] == "image_url"

    @pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
    def test_structured_output(
        self, server: FaultServer, model: OpenAIChatModel, streamed: bool
    ) -> None:
        """A json_schema request is sent as such and answered with a valid object."""
        options = ChatOptions(response_format=JsonSchemaFormat(CITY, "city", strict=True))
        call = model.stream if streamed else model.invoke
        result = merge_chunks(call("Paris", options)) if streamed else call("Paris", options)
        jsonschema.validate(json.loads(result.text), CITY)  # type: ignore[union-attr]
        assert _sent(server)["response_format"]["type"] == "json_schema"

    @pytest.mark.parametrize("streamed", [False, True], ids=["invoke", "stream"])
    def test_reasoning_refusal_parallel_calls_and_model(
        self, model: OpenAIChatModel, streamed: bool
    ) -> None:
        """Reasoning with its tokens, a refusal, two parallel calls and the override come back."""

        def ask(prompt: str, options: ChatOptions) -> Any:
            return (
                merge_chunks(model.stream(prompt, options))
                if streamed
                else model.invoke(prompt, options)
            )

        thought = ask("Think: 17 * 23", ChatOptions(reasoning_effort="low"))
        assert thought.reasoning
        assert thought.reasoning not in thought.text
        assert 0 < thought.usage.reasoning_tokens <= thought.usage.output_tokens
        assert ask("Please refuse this.", ChatOptions()).refusal
        both = ask(
            "get_weather and get_time",
            ChatOptions(tools=(WEATHER, CLOCK), parallel_tool_calls=True),
        )
        assert [c.name for c in both.tool_calls] == ["get_weather", "get_time"]
        assert len({c.id for c in both.tool_calls}) == 2
        assert ask("hi", ChatOptions(model="reference-echo-alt")).model == "reference-echo-alt"

    def test_unicode_arguments_round_trip_unescaped(self, model: OpenAIChatModel) -> None:
        """Non-ASCII tool arguments arrive as characters and go back in the history as sent."""
        call = model.invoke("Zürich 東京 get_weather", ChatOptions(tools=(WEATHER,))).tool_calls[0]
        assert "Zürich 東京" in call.arguments
        history = [
            Message.user("Zürich get_weather"),
            Message.assistant("", [call]),
            Message.tool("sonnig ☀", call.id),
        ]
        assert model.invoke(history).text == "Tool get_weather returned: sonnig ☀"


class TestConformance:
    def test_openai_passes_the_2026_requirements(
        self, run_conformance, server: FaultServer
    ) -> None:
        """Against the fault server, openai passes SCHEMA, VISION, REASON, TOOLS, OPT and META."""
        run = run_conformance(
            None,
            "--chatmodels-provider", "openai",
            "--chatmodels-option", f"base_url={server.url}",
            "--chatmodels-option", "model=reference-echo",
            "--chatmodels-option", "deterministic=true",
            "--chatmodels-option", "capabilities=+vision,+reasoning",
            "--chatmodels-setting", "override_model=reference-echo-alt",
            "--chatmodels-requirements", "SCHEMA,VISION,REASON,TOOLS,OPT-005,META",
        )  # fmt: skip
        run.assert_all_pass()
        assert {"SCHEMA-002", "VISION-001", "REASON-002", "TOOLS-007", "OPT-005"} <= {
            r for r, s in run.statuses.items() if s == "passed"
        }, run.statuses
