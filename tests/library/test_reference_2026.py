"""The reference provider speaks 2026 chat: structured output, images, reasoning, parallel tools.

Also the base class's refusals of what a provider does not declare.
"""

from __future__ import annotations

import dataclasses
import json
import re

import jsonschema
import pytest

from chatmodels.base import BaseChatModel
from chatmodels.errors import ErrorCode, ModelNotFoundError, UnsupportedError
from chatmodels.messages import ChatResult, FinishReason, Message, merge_chunks
from chatmodels.options import ChatOptions, JsonSchemaFormat, ToolSpec
from chatmodels.parts import ImagePart, MediaPart
from chatmodels.provider import Capability
from chatmodels.providers.reference import (
    REFERENCE_METADATA,
    ReferenceChatModel,
    ReferenceProvider,
    count_tokens,
)

PNG = "data:image/png;base64,iVBORw0KGgo="
SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "population": {"type": "integer", "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "population", "tags"],
    "additionalProperties": False,
}
WEATHER = ToolSpec("get_weather", parameters={"type": "object", "properties": {"city": {}}})
CLOCK = ToolSpec("get_time")
STRUCTURED = JsonSchemaFormat(SCHEMA)
PARALLEL = ChatOptions(tools=(WEATHER,), parallel_tool_calls=True)
ONLY_TOOLS = dataclasses.replace(REFERENCE_METADATA, capabilities=frozenset({Capability.TOOLS}))


@pytest.fixture
def model() -> ReferenceChatModel:
    return ReferenceProvider({"latency": 0}).create_chat_model()


def _streamed(model: ReferenceChatModel, messages: object, options: ChatOptions) -> ChatResult:
    return merge_chunks(list(model.stream(messages, options)))  # type: ignore[arg-type]


class TestStructuredOutput:
    def test_answer_is_valid_against_the_schema_invoked_and_streamed(
        self, model: ReferenceChatModel
    ) -> None:
        """The content parses to a value the schema accepts; the stream gives the same text."""
        options = ChatOptions(response_format=JsonSchemaFormat(SCHEMA, "city", strict=True))
        result = model.invoke("Name a big city.", options)
        jsonschema.validate(json.loads(result.text), SCHEMA)
        assert _streamed(model, "Name a big city.", options).text == result.text

    def test_stop_and_max_tokens_do_not_cut_structured_output(
        self, model: ReferenceChatModel
    ) -> None:
        """Like JSON mode, the output stays valid JSON."""
        fmt = JsonSchemaFormat(SCHEMA)
        result = model.invoke("city", ChatOptions(response_format=fmt, max_tokens=1, stop=","))
        jsonschema.validate(json.loads(result.text), SCHEMA)


class TestParallelToolCalls:
    PROMPT = "Use get_weather and get_time for Paris."

    def test_every_mentioned_tool_is_called_with_unique_ids(
        self, model: ReferenceChatModel
    ) -> None:
        """parallel_tool_calls=True gives one call per mentioned tool, in offer order."""
        options = ChatOptions(tools=(WEATHER, CLOCK), parallel_tool_calls=True)
        result = model.invoke(self.PROMPT, options)
        assert [c.name for c in result.tool_calls] == ["get_weather", "get_time"]
        assert len({c.id for c in result.tool_calls}) == 2
        assert result.finish_reason is FinishReason.TOOL_CALLS
        assert _streamed(model, self.PROMPT, options).tool_calls == result.tool_calls

    @pytest.mark.parametrize("parallel", [None, False])
    def test_without_parallel_one_call(self, model: ReferenceChatModel, parallel: bool) -> None:
        """Unset or False keeps the single-call rule."""
        options = ChatOptions(tools=(WEATHER, CLOCK), parallel_tool_calls=parallel)
        assert [c.name for c in model.invoke(self.PROMPT, options).tool_calls] == ["get_weather"]

    def test_no_argument_tool_gets_an_empty_object(self, model: ReferenceChatModel) -> None:
        """A tool without parameters is called with '{}'."""
        result = model.invoke(
            "What time is it?", ChatOptions(tools=(CLOCK,), tool_choice="get_time")
        )
        assert result.tool_calls[0].arguments == "{}"

    def test_non_ascii_arguments_are_not_escaped(self, model: ReferenceChatModel) -> None:
        """Arguments keep Zürich and 東京 as characters, not \\u escapes."""
        result = model.invoke("Zürich 東京 get_weather", ChatOptions(tools=(WEATHER,)))
        arguments = result.tool_calls[0].arguments
        assert "Zürich 東京" in arguments
        assert not re.search(r"\\u[0-9a-fA-F]{4}", arguments)


class TestReasoning:
    def test_reasoning_is_apart_and_counted_within_output(self, model: ReferenceChatModel) -> None:
        """Reasoning text never appears in the answer; its tokens are part of output tokens."""
        result = model.invoke("Say hi.", ChatOptions(reasoning_effort="low"))
        assert result.reasoning
        assert result.reasoning not in result.text
        assert result.usage is not None
        assert result.usage.reasoning_tokens == count_tokens(result.reasoning)
        assert result.usage.output_tokens == count_tokens(result.text) + count_tokens(
            result.reasoning
        )
        streamed = _streamed(model, "Say hi.", ChatOptions(reasoning_effort="low"))
        assert (streamed.text, streamed.reasoning) == (result.text, result.reasoning)

    def test_no_reasoning_unless_asked(self, model: ReferenceChatModel) -> None:
        """Without reasoning_effort the answer and usage are as before."""
        result = model.invoke("Say hi.")
        assert result.reasoning == ""
        assert result.usage is not None
        assert result.usage.reasoning_tokens is None


class TestRefusal:
    def test_trigger_gives_a_refusal_and_no_content(self, model: ReferenceChatModel) -> None:
        """The refusal is in its own field, invoked and streamed."""
        result = model.invoke("Please refuse this.")
        assert result.refusal
        assert result.text == ""
        assert _streamed(model, "Please refuse this.", ChatOptions()).refusal == result.refusal


class TestImages:
    def test_image_changes_answer_and_input_tokens(self, model: ReferenceChatModel) -> None:
        """An image reaches the model: it shows in the answer and counts as input."""
        plain = model.invoke("Describe.")
        seen = model.invoke([Message.user(["Describe.", ImagePart(PNG)])])
        assert seen.text == plain.text + " [image: image/png]"
        assert plain.usage is not None
        assert seen.usage is not None
        assert seen.usage.input_tokens > plain.usage.input_tokens

    def test_media_kinds_beyond_the_listed_ones_are_refused(
        self, model: ReferenceChatModel
    ) -> None:
        """audio and file are read; an unlisted kind is 'unsupported', not dropped."""
        model.invoke([Message.user(["Listen.", MediaPart("audio", "UklGRg==", "audio/wav")])])
        with pytest.raises(UnsupportedError, match="'video' content parts"):
            model.invoke([Message.user(["Watch.", MediaPart("video", "AAAA")])])


class TestModelOverride:
    def test_listed_model_is_served_and_echoed(self, model: ReferenceChatModel) -> None:
        """The per-call model names the result, invoked and streamed."""
        options = ChatOptions(model="reference-echo-alt")
        assert model.invoke("hi", options).model == "reference-echo-alt"
        assert _streamed(model, "hi", options).model == "reference-echo-alt"
        assert model.invoke("hi").model == "reference-echo"

    def test_unknown_model_is_model_not_found(self, model: ReferenceChatModel) -> None:
        """A model the provider does not serve is refused with its code."""
        with pytest.raises(ModelNotFoundError, match="expected one of"):
            model.invoke("hi", ChatOptions(model="gpt-9"))


class _EchoModel(BaseChatModel):
    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return ChatResult(Message.assistant(messages[-1].content), FinishReason.STOP, "m", "r")


class TestUndeclaredIsRefused:
    @pytest.mark.parametrize(
        ("capability", "messages", "options"),
        [
            (Capability.STRUCTURED_OUTPUT, "hi", ChatOptions(response_format=STRUCTURED)),
            (Capability.PARALLEL_TOOL_CALLS, "hi", PARALLEL),
            (Capability.REASONING, "hi", ChatOptions(reasoning_effort="high")),
            (Capability.VISION, [Message.user(["hi", ImagePart(PNG)])], ChatOptions()),
        ],
    )  # fmt: skip
    def test_each_new_capability_is_refused_unless_declared(
        self, capability: Capability, messages: object, options: ChatOptions
    ) -> None:
        """The base class raises 'unsupported' naming the undeclared capability."""
        metadata = dataclasses.replace(
            REFERENCE_METADATA, capabilities=REFERENCE_METADATA.capabilities - {capability}
        )
        model = ReferenceChatModel(
            metadata=metadata, config=ReferenceProvider({"latency": 0}).config
        )
        with pytest.raises(UnsupportedError, match=capability.value) as info:
            model.invoke(messages, options)  # type: ignore[arg-type]
        assert info.value.code is ErrorCode.UNSUPPORTED

    def test_false_and_none_ask_for_nothing(self) -> None:
        """parallel_tool_calls=False and reasoning_effort='none' need no capability."""
        model = _EchoModel(metadata=ONLY_TOOLS, model="m")
        options = ChatOptions(tools=(WEATHER,), parallel_tool_calls=False, reasoning_effort="none")
        assert model.invoke("hi", options).text == "hi"

    def test_model_override_refused_unless_accepted(self) -> None:
        """A provider that cannot switch models per call says so; its own name is fine."""
        model = _EchoModel(metadata=REFERENCE_METADATA, model="m")
        assert model.invoke("hi", ChatOptions(model="m")).text == "hi"
        with pytest.raises(UnsupportedError, match="per-call model override"):
            model.invoke("hi", ChatOptions(model="other"))

    def test_media_refused_unless_listed(self) -> None:
        """A model listing no media kinds refuses audio; a user turn of an image alone is fine."""
        model = _EchoModel(metadata=REFERENCE_METADATA, model="m")
        with pytest.raises(UnsupportedError, match="'audio' content parts"):
            model.invoke([Message.user(["hi", MediaPart("audio", "UklGRg==")])])
        assert model.invoke([Message.user([ImagePart(PNG)])]).text == ""
