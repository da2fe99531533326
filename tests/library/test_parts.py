"""Content parts, refusals, reasoning and usage details: 2026 chat in the message types."""

from __future__ import annotations

import pytest

from chatmodels.errors import InvalidInputError
from chatmodels.messages import (
    ChatChunk,
    FinishReason,
    Message,
    Role,
    Usage,
    merge_chunks,
)
from chatmodels.parts import ImagePart, MediaPart, TextPart, coerce_part, data_uri_type

PNG = "data:image/png;base64,iVBORw0KGgo="


class TestParts:
    def test_image_by_url_and_by_data_uri(self) -> None:
        """An image is an http(s) URL or a base64 data URI; only the inline one has a type."""
        assert ImagePart("https://example.com/cat.png").media_type is None
        assert ImagePart(PNG, detail="low").media_type == "image/png"

    @pytest.mark.parametrize(
        "url",
        ["ftp://example.com/x.png", "data:text/plain;base64,aGk=", "cat.png", "data:image/png,xx"],
    )
    def test_image_that_is_not_a_url_or_image_data_uri_is_refused(self, url: str) -> None:
        """The error names the field and the accepted forms."""
        with pytest.raises(InvalidInputError, match=r"ImagePart\.url.*data URI"):
            ImagePart(url)

    def test_image_detail_is_checked(self) -> None:
        """detail is None, 'auto', 'low' or 'high'."""
        with pytest.raises(InvalidInputError, match=r"ImagePart\.detail"):
            ImagePart(PNG, detail="ultra")

    def test_media_part_is_the_extension_point(self) -> None:
        """Any lowercase kind but the built-in ones; the data must be non-empty."""
        part = MediaPart("audio", "UklGRg==", "audio/wav")
        assert part.kind == "audio"
        for kind in ("text", "image", "Audio", ""):
            with pytest.raises(InvalidInputError, match=r"MediaPart\.kind"):
                MediaPart(kind, "x")
        with pytest.raises(InvalidInputError, match=r"MediaPart\.data"):
            MediaPart("file", "")

    def test_openai_style_mappings_are_read(self) -> None:
        """text, image_url (string or object), input_audio and file parts map to part objects."""
        assert coerce_part({"type": "text", "text": "hi"}) == TextPart("hi")
        assert coerce_part({"type": "image_url", "image_url": PNG}) == ImagePart(PNG)
        image = {"type": "image_url", "image_url": {"url": PNG, "detail": "high"}}
        assert coerce_part(image) == ImagePart(PNG, "high")
        audio = {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
        assert coerce_part(audio) == MediaPart("audio", "UklGRg==", "audio/wav")
        pdf = "data:application/pdf;base64,JVBERi0="
        part = coerce_part({"type": "file", "file": {"file_data": pdf, "filename": "a.pdf"}})
        assert part == MediaPart("file", pdf, "application/pdf", "a.pdf")
        assert data_uri_type(pdf) == "application/pdf"

    def test_unknown_mapping_is_refused(self) -> None:
        """A part of an unknown type names the accepted types."""
        with pytest.raises(InvalidInputError, match="image_url"):
            coerce_part({"type": "video", "video": {}})


class TestMessageParts:
    def test_content_is_the_text_of_the_parts(self) -> None:
        """A provider reading only content still gets the words, images left out."""
        message = Message.user(["What is this?", ImagePart(PNG), TextPart("Be brief.")])
        assert message.content == "What is this?\nBe brief."
        assert message.media == (ImagePart(PNG),)

    def test_content_that_contradicts_the_parts_is_refused(self) -> None:
        """content is '' or exactly the parts' text."""
        with pytest.raises(InvalidInputError, match=r"Message\.content"):
            Message(Role.USER, "other", parts=(TextPart("hi"),))
        assert Message(Role.USER, "hi", parts=(TextPart("hi"),)).content == "hi"

    def test_media_only_in_user_turns(self) -> None:
        """Images and other media belong to user messages."""
        with pytest.raises(InvalidInputError, match="text only unless role is 'user'"):
            Message(Role.SYSTEM, parts=(ImagePart(PNG),))
        assert Message(Role.SYSTEM, parts=("be brief",)).content == "be brief"

    def test_from_dict_reads_a_list_content(self) -> None:
        """An OpenAI-style list content becomes parts."""
        message = Message.from_dict(
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe"},
                    {"type": "image_url", "image_url": {"url": PNG}},
                ],
            }
        )
        assert message.content == "Describe"
        assert message.parts == (TextPart("Describe"), ImagePart(PNG))

    def test_messages_stay_frozen_and_hashable(self) -> None:
        """Parts are tuples of frozen values, so a message can be a dict key."""
        message = Message.user(["hi", ImagePart(PNG)])
        assert {message: 1}[Message.user(["hi", ImagePart(PNG)])] == 1
        with pytest.raises(AttributeError):
            message.parts = ()  # type: ignore[misc]


class TestRefusalAndReasoning:
    def test_refusal_and_reasoning_are_apart_from_content(self) -> None:
        """An assistant turn keeps its refusal and reasoning outside its content."""
        message = Message.assistant(refusal="I can't.", reasoning="thinking")
        assert (message.content, message.refusal, message.reasoning) == ("", "I can't.", "thinking")

    @pytest.mark.parametrize("field", ["refusal", "reasoning"])
    def test_only_assistants_refuse_or_reason(self, field: str) -> None:
        """A user turn with a refusal or reasoning is invalid input naming the field."""
        with pytest.raises(InvalidInputError, match=f"Message.{field}"):
            Message(Role.USER, "hi", **{field: "x"})

    def test_stream_deltas_merge_apart(self) -> None:
        """Reasoning, text and refusal deltas concatenate into their own fields."""
        chunks = [
            ChatChunk(reasoning="Let me "),
            ChatChunk(reasoning="think."),
            ChatChunk(delta="Hello"),
            ChatChunk(refusal="No", finish_reason=FinishReason.STOP),
        ]
        result = merge_chunks(chunks)
        assert (result.text, result.reasoning, result.refusal) == ("Hello", "Let me think.", "No")


class TestUsageDetails:
    def test_details_are_optional(self) -> None:
        """Old two-number usages keep working and report no details."""
        usage = Usage(3, 4)
        assert (usage.total_tokens, usage.reasoning_tokens, usage.cached_input_tokens) == (
            7,
            None,
            None,
        )

    def test_details_are_parts_of_their_totals(self) -> None:
        """Reasoning tokens fit in the output count; cached tokens in the input count."""
        assert Usage(10, 5, reasoning_tokens=5, cached_input_tokens=10).total_tokens == 15
        with pytest.raises(InvalidInputError, match=r"reasoning_tokens.*at most output_tokens=5"):
            Usage(10, 5, reasoning_tokens=6)
        with pytest.raises(InvalidInputError, match=r"cached_input_tokens.*at most input_tokens"):
            Usage(10, 5, cached_input_tokens=11)

    @pytest.mark.parametrize("value", [-1, 1.5, True, "3"])
    def test_details_are_counts(self, value: object) -> None:
        """A detail is None or a non-negative int."""
        with pytest.raises(InvalidInputError, match="None or a non-negative int"):
            Usage(10, 5, reasoning_tokens=value)  # type: ignore[arg-type]
