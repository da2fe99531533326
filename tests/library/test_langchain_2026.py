"""The LangChain bridge passes images as content blocks and reads usage details."""

from __future__ import annotations

import pytest

pytest.importorskip("langchain_core")

from langchain_core.messages import AIMessage, HumanMessage

from chatmodels.messages import Message
from chatmodels.parts import ImagePart
from chatmodels.providers._langchain_messages import (
    result_from_message,
    to_langchain,
)

PNG = "data:image/png;base64,iVBORw0KGgo="


class TestLangChain2026:
    def test_image_parts_become_content_blocks(self) -> None:
        """A user turn with an image is a HumanMessage of text and image_url blocks."""
        (human,) = to_langchain([Message.user(["What colour?", ImagePart(PNG)])])
        assert isinstance(human, HumanMessage)
        assert human.content == [
            {"type": "text", "text": "What colour?"},
            {"type": "image_url", "image_url": {"url": PNG}},
        ]
        assert to_langchain([Message.user("plain")])[0].content == "plain"

    def test_non_ascii_tool_arguments_stay_characters(self) -> None:
        """LangChain parses tool arguments into a dict; turned back into JSON text they keep
        Zürich as it is, not as a \\u escape (TOOLS-009)."""
        message = AIMessage(
            content="",
            tool_calls=[{"id": "c1", "name": "weather", "args": {"city": "Zürich 東京"}}],
        )
        result = result_from_message(message, model="m", op="invoke")
        assert result.tool_calls[0].arguments == '{"city": "Zürich 東京"}'

    def test_usage_details_are_read(self) -> None:
        """Reasoning and cache-read token details map to the Usage details."""
        message = AIMessage(
            content="hi",
            usage_metadata={
                "input_tokens": 10,
                "output_tokens": 6,
                "total_tokens": 16,
                "output_token_details": {"reasoning": 4},
                "input_token_details": {"cache_read": 7},
            },
        )
        usage = result_from_message(message, model="m", op="invoke").usage
        assert usage is not None
        assert (usage.reasoning_tokens, usage.cached_input_tokens) == (4, 7)
