"""Deliberately broken providers for structured output, images and reasoning: one defect each.

Each subclasses the reference through the contract suite's broken-provider scaffold and breaks
one step, so exactly the named requirement fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from chatmodels.messages import ChatChunk, ChatResult, Message
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.provider import Capability
from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceChatModel
from scaffold import broken


def _without_images(messages: Any) -> Any:
    """The conversation with every media part dropped, as a text-only encoder would."""
    if not isinstance(messages, (list, tuple)):
        return messages
    return [
        Message(m.role, m.content, m.tool_calls, m.tool_call_id, m.name)
        if isinstance(m, Message) and m.media
        else m
        for m in messages
    ]


# -- SCHEMA ------------------------------------------------------------------------------


class _InvokeIgnoresSchema(ReferenceChatModel):
    """invoke answers a json_schema request in plain JSON mode: {"answer": ...}."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        if options.json_schema is not None:
            options = dataclasses.replace(options, response_format="json")  # type: ignore[arg-type]
        return super()._invoke(messages, options)


InvokeIgnoresSchema = broken(_InvokeIgnoresSchema, catches="SCHEMA-001")


class _StreamDropsStructuredChunk(ReferenceChatModel):
    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        if options.json_schema is not None and len(chunks) > 1:
            return chunks[1:]
        return chunks


StreamDropsStructuredChunk = broken(_StreamDropsStructuredChunk, catches="SCHEMA-002")


# -- VISION ------------------------------------------------------------------------------


class _DropsImages(ReferenceChatModel):
    """Declares vision, then drops image parts on the way to the model."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        return super()._answer(_without_images(messages), options)


DropsImages = broken(_DropsImages, catches="VISION-001", only="VISION,META")


class _SilentlyDropsImages(ReferenceChatModel):
    """Does not declare vision, and drops images instead of refusing them."""

    def _prepare(self, op: str, messages: Any, options: OptionsLike) -> Any:
        return super()._prepare(op, _without_images(messages), options)


SilentlyDropsImages = broken(
    _SilentlyDropsImages,
    catches="META-002",
    only="VISION,META",
    capabilities=REFERENCE_METADATA.capabilities - {Capability.VISION},
)


# -- REASON ------------------------------------------------------------------------------


class _ReasoningInContent(ReferenceChatModel):
    """Passes the model's raw output through: reasoning inside <think> tags in the content."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        if not result.reasoning:
            return result
        text = f"<think>{result.reasoning}</think>{result.text}"
        message = dataclasses.replace(result.message, content=text, reasoning="")
        return dataclasses.replace(result, message=message)


ReasoningInContent = broken(_ReasoningInContent, catches="REASON-001")


class _ReasoningTokensUnreported(ReferenceChatModel):
    """Shows reasoning but leaves usage.reasoning_tokens unset."""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        if result.usage is None:
            return result
        return dataclasses.replace(
            result, usage=dataclasses.replace(result.usage, reasoning_tokens=None)
        )


ReasoningTokensUnreported = broken(_ReasoningTokensUnreported, catches="REASON-002")
