"""Contract suite beyond plain text: structured output (SCHEMA), images (VISION), reasoning."""

from __future__ import annotations

import json

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE, UNSUPPORTED
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._contract_content_support import (
    CITY_FORMAT,
    REASONING_PROMPT,
    RED_PNG,
    SCHEMA_PROMPT,
    VISION_PROMPT,
    leak_problem,
    schema_problem,
)
from chatmodels.conformance.suites._contract_core_support import (
    assert_answer,
    describe,
    invoke,
    stream,
)
from chatmodels.messages import ChatResult, Message, Usage, merge_chunks
from chatmodels.options import ChatOptions
from chatmodels.parts import ImagePart
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

STRUCTURED = ChatOptions(response_format=CITY_FORMAT)
REASONING = ChatOptions(reasoning_effort="low")


def _structured_text(result: ChatResult, what: str) -> str:
    if result.refusal and not result.text:
        pytest.skip(f"{INCONCLUSIVE}{what} refused the structured request: {result.refusal!r}")
    return result.text


# -- SCHEMA ------------------------------------------------------------------------------


@pytest.mark.requirement("SCHEMA-001")
def test_structured_output_is_valid_against_the_schema(chatmodels_chat_model: ChatModel) -> None:
    """A strict json_schema response format gives content the schema accepts."""
    result = invoke(chatmodels_chat_model, SCHEMA_PROMPT, STRUCTURED)
    problem = schema_problem(_structured_text(result, "invoke()"), "invoke() content")
    assert problem is None, problem


@pytest.mark.requirement("SCHEMA-002")
@pytest.mark.capability("streaming")
def test_streamed_structured_output_concatenates_to_the_same_value(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Deltas join to a valid value; a deterministic provider's equals its invoke's."""
    chunks = stream(chatmodels_chat_model, SCHEMA_PROMPT, STRUCTURED)
    text = _structured_text(merge_chunks(chunks), "stream()")
    problem = schema_problem(text, f"the joined deltas of a {len(chunks)}-chunk stream()")
    assert problem is None, problem
    if chatmodels_provider_metadata.supports(Capability.DETERMINISTIC):
        invoked = invoke(chatmodels_chat_model, SCHEMA_PROMPT, STRUCTURED).text
        if schema_problem(invoked, "invoke() content") is not None:
            return  # an invalid invoke answer is SCHEMA-001's failure, not a stream's
        assert json.loads(text) == json.loads(invoked), (
            f"stream() gave {text[:200]!r} and invoke() {invoked[:200]!r} for the same "
            "request; expected the same value from a provider declaring 'deterministic'"
        )


# -- VISION ------------------------------------------------------------------------------


def _with_image(image: ImagePart) -> list[Message]:
    return [Message.user([VISION_PROMPT, image])]


def _reached_problem(model: ChatModel, meta: ProviderMetadata, seen: ChatResult) -> str | None:
    """Evidence the image reached the model: input tokens grow, or a deterministic answer moves."""
    blind = invoke(model, VISION_PROMPT)
    if meta.supports(Capability.USAGE) and isinstance(seen.usage, Usage):
        with_image = seen.usage.input_tokens
        without = blind.usage.input_tokens if isinstance(blind.usage, Usage) else None
        if without is not None and with_image <= without:
            return (
                f"invoke() with an image counted {with_image} input tokens, without it "
                f"{without}; the image never reached the model"
            )
    elif meta.supports(Capability.DETERMINISTIC) and seen.text == blind.text:
        return (
            f"invoke() answered {seen.text[:80]!r} with and without the image; a deterministic "
            "model that saw it would answer differently"
        )
    return None


@pytest.mark.requirement("VISION-001")
def test_image_is_accepted_and_reaches_the_model(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """An inline PNG counts as input (or moves a deterministic answer); a URL and a stream work."""
    seen = assert_answer(invoke(chatmodels_chat_model, _with_image(RED_PNG)), "invoke()")
    problem = _reached_problem(chatmodels_chat_model, chatmodels_provider_metadata, seen)
    assert problem is None, problem
    url = ImagePart(chatmodels_settings.str("vision_image_url"))
    assert_answer(invoke(chatmodels_chat_model, _with_image(url)), f"invoke() with {url.url!r}")
    if chatmodels_provider_metadata.supports(Capability.STREAMING):
        chunks = stream(chatmodels_chat_model, _with_image(RED_PNG))
        assert_answer(merge_chunks(chunks), f"a {len(chunks)}-chunk stream()")


# -- REASON ------------------------------------------------------------------------------


@pytest.mark.requirement("REASON-001")
def test_reasoning_stays_out_of_the_answer(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """With reasoning asked for, no content (invoked or streamed) holds think tags or reasoning."""
    result = invoke(chatmodels_chat_model, REASONING_PROMPT, REASONING)
    problems = [leak_problem(result.text, result.reasoning, "invoke()")]
    if chatmodels_provider_metadata.supports(Capability.STREAMING):
        chunks = stream(chatmodels_chat_model, REASONING_PROMPT, REASONING)
        merged = merge_chunks(chunks)
        what = f"a {len(chunks)}-chunk stream()"
        problems.append(leak_problem(merged.text, merged.reasoning, what))
    found = [p for p in problems if p]
    assert not found, "; ".join(found)


def _token_problem(result: ChatResult, what: str) -> str | None:
    usage = result.usage
    if not isinstance(usage, Usage):
        return f"{what} returned {describe(result)} without usage; 'usage' is declared"
    counted = usage.reasoning_tokens
    if result.reasoning and not counted:
        return (
            f"{what} showed {len(result.reasoning)} characters of reasoning but reported "
            f"reasoning_tokens={counted!r}; expected their count"
        )
    if counted is not None and counted > usage.output_tokens:
        return (
            f"{what} reported reasoning_tokens={counted} above output_tokens="
            f"{usage.output_tokens}; reasoning tokens are part of the output"
        )
    return None


@pytest.mark.requirement("REASON-002")
def test_reasoning_tokens_are_within_the_output(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Shown reasoning is counted, and its count lies within output_tokens, invoked and streamed."""
    if not chatmodels_provider_metadata.supports(Capability.USAGE):
        pytest.skip(f"{UNSUPPORTED}reasoning tokens are judged on usage, which is not declared")
    problems = [
        _token_problem(invoke(chatmodels_chat_model, REASONING_PROMPT, REASONING), "invoke()")
    ]
    if chatmodels_provider_metadata.supports(Capability.STREAMING):
        merged = merge_chunks(stream(chatmodels_chat_model, REASONING_PROMPT, REASONING))
        problems.append(_token_problem(merged, "stream()"))
    found = [p for p in problems if p]
    assert not found, "; ".join(found)
