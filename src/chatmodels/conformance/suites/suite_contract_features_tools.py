"""Contract suite, part two: tool calls (TOOLS) and JSON mode (JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import jsonschema
import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.suites._bounded import (
    call_within,
    read_stream,
)
from chatmodels.conformance.suites._contract_features_support import (
    JSON_PROMPT,
    PLAIN_PROMPT,
    STOCK,
    TOOL_PROMPT,
    TOOLS,
    WEATHER,
    parse_object,
)
from chatmodels.messages import ChatResult, FinishReason, Message, ToolCall, merge_chunks
from chatmodels.options import ChatOptions, ResponseFormat
from chatmodels.provider import Capability, ChatModel, ProviderMetadata


def _ask(model: ChatModel, messages: Sequence[Message] | str, options: ChatOptions) -> ChatResult:
    return call_within(lambda: model.invoke(messages, options), "invoke")


def _ask_streamed(model: ChatModel, prompt: str, options: ChatOptions) -> ChatResult:
    return merge_chunks(call_within(lambda: read_stream(model.stream(prompt, options)), "stream"))


def _tool_answer(
    model: ChatModel, metadata: ProviderMetadata, *, stream: bool = False
) -> ChatResult:
    """Ask for a tool call under 'auto', then forced by naming the tool when the provider can.

    Naming the tool (not 'required', which TOOLS-006 judges) is what a small model follows.
    """
    choices: list[str | None] = [None]
    if metadata.supports(Capability.TOOL_CHOICE):
        choices.append(WEATHER.name)
    ask = _ask_streamed if stream else _ask
    tried = []
    for choice in choices:
        result = ask(model, TOOL_PROMPT, ChatOptions(tools=TOOLS, tool_choice=choice))
        if result.tool_calls:
            return result
        text = result.message.content
        shown = text if len(text) <= 60 else text[:57] + "..."
        tried.append(f"with tool_choice={choice or 'auto'!r} it answered {shown!r}")
    forced = (
        "even when forced"
        if len(choices) > 1
        else "and it cannot be forced (capability 'tool_choice' is not declared)"
    )
    call = "stream" if stream else "invoke"
    pytest.skip(
        f"{INCONCLUSIVE}{call} was offered tools {[t.name for t in TOOLS]} and asked "
        f"{TOOL_PROMPT!r}, but no tool call came back {forced}: {'; '.join(tried)}"
    )


def _call_problems(calls: Sequence[ToolCall], where: str) -> list[str]:
    specs = {t.name: t for t in TOOLS}
    problems: list[str] = []
    ids = [c.id for c in calls]
    if any(not i for i in ids):
        problems.append(f"{where}: a tool call has an empty id {ids!r}; expected non-empty ids")
    if len(set(ids)) != len(ids):
        problems.append(f"{where}: tool call ids {ids!r} repeat; expected unique ids")
    for call in calls:
        spec = specs.get(call.name)
        if spec is None:
            problems.append(f"{where}: call {call.id!r} names {call.name!r}; offered {list(specs)}")
            continue
        try:
            arguments = json.loads(call.arguments)
        except ValueError:
            problems.append(f"{where}: call {call.id!r} arguments are not JSON: {call.arguments!r}")
            continue
        errors = sorted(
            jsonschema.Draft202012Validator(dict(spec.parameters)).iter_errors(arguments),
            key=str,
        )
        if errors:
            problems.append(
                f"{where}: call {call.id!r} to {call.name!r} has arguments {call.arguments!r} "
                f"that break its schema: {errors[0].message}"
            )
    return problems


@pytest.mark.requirement("TOOLS-001")
def test_tool_calls_are_well_formed(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Tool calls from invoke carry unique ids, offered names and schema-valid JSON arguments."""
    result = _tool_answer(chatmodels_chat_model, chatmodels_provider_metadata)
    problems = _call_problems(result.tool_calls, "invoke")
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("TOOLS-001")
@pytest.mark.capability("streaming")
def test_streamed_tool_calls_are_well_formed(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Tool-call deltas of a stream merge into calls with ids, offered names and valid arguments."""
    result = _tool_answer(chatmodels_chat_model, chatmodels_provider_metadata, stream=True)
    problems = _call_problems(result.tool_calls, "stream")
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("TOOLS-002")
def test_tool_calls_finish_with_tool_calls_reason(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """An answer that carries tool calls has finish reason 'tool_calls'."""
    result = _tool_answer(chatmodels_chat_model, chatmodels_provider_metadata)
    assert result.finish_reason is FinishReason.TOOL_CALLS, (
        f"invoke returned {len(result.tool_calls)} tool call(s) with finish reason "
        f"{result.finish_reason!r}; expected 'tool_calls'"
    )


@pytest.mark.requirement("TOOLS-003")
def test_named_tool_choice_is_honoured(chatmodels_chat_model: ChatModel) -> None:
    """tool_choice naming get_stock_price calls it, although the prompt asks for the weather."""
    result = _ask(
        chatmodels_chat_model, TOOL_PROMPT, ChatOptions(tools=TOOLS, tool_choice=STOCK.name)
    )
    names = [c.name for c in result.tool_calls]
    assert names, f"tool_choice={STOCK.name!r} gave no tool call; expected a call to it"
    assert set(names) == {STOCK.name}, (
        f"tool_choice={STOCK.name!r} gave tool calls {names!r}; expected only calls to "
        f"{STOCK.name!r}"
    )


@pytest.mark.requirement("TOOLS-004")
def test_tool_choice_none_gives_no_tool_call(chatmodels_chat_model: ChatModel) -> None:
    """tool_choice 'none' answers in text although the prompt asks for a tool."""
    result = _ask(chatmodels_chat_model, TOOL_PROMPT, ChatOptions(tools=TOOLS, tool_choice="none"))
    names = [c.name for c in result.tool_calls]
    assert not names, f"tool_choice='none' gave tool calls {names!r}; expected none"
    assert result.finish_reason is not FinishReason.TOOL_CALLS, (
        "tool_choice='none' gave finish reason 'tool_calls'; expected a text finish reason"
    )


@pytest.mark.requirement("TOOLS-006")
def test_tool_choice_required_forces_a_call(chatmodels_chat_model: ChatModel) -> None:
    """tool_choice 'required' calls an offered tool even for a prompt that names none."""
    result = _ask(
        chatmodels_chat_model, PLAIN_PROMPT, ChatOptions(tools=TOOLS, tool_choice="required")
    )
    names = [c.name for c in result.tool_calls]
    offered = {t.name for t in TOOLS}
    assert names, (
        f"tool_choice='required' answered {result.message.content[:80]!r} without a tool call; "
        "expected at least one call"
    )
    assert set(names) <= offered, f"tool calls {names!r} name tools never offered {offered}"


@pytest.mark.requirement("TOOLS-005")
def test_tool_result_gives_final_answer(chatmodels_chat_model: ChatModel) -> None:
    """A conversation ending in a tool result gets a text answer, not the same call again."""
    call = ToolCall(
        "call_conformance_1", WEATHER.name, '{"city": "Paris", "days": 3, "metric": true}'
    )
    conversation = [
        Message.user(TOOL_PROMPT),
        Message.assistant("", [call]),
        Message.tool('{"forecast": "sunny", "high_c": 24}', call.id, name=WEATHER.name),
    ]
    result = _ask(chatmodels_chat_model, conversation, ChatOptions(tools=TOOLS))
    again = [c.name for c in result.tool_calls if c.name == WEATHER.name]
    assert not again, (
        f"after the {WEATHER.name!r} result was fed back the model called {WEATHER.name!r} "
        "again; expected a final answer"
    )
    assert result.message.content, (
        f"after the tool result the answer has empty content (finish reason "
        f"{result.finish_reason!r}); expected a final text answer"
    )
    assert result.finish_reason is FinishReason.STOP, (
        f"the final answer after a tool result has finish reason {result.finish_reason!r}; "
        "expected 'stop'"
    )


@pytest.mark.requirement("JSON-001")
def test_json_mode_gives_a_json_object(chatmodels_chat_model: ChatModel) -> None:
    """JSON mode content parses as a JSON object."""
    result = _ask(
        chatmodels_chat_model, JSON_PROMPT, ChatOptions(response_format=ResponseFormat.JSON)
    )
    parse_object(result.message.content, "the JSON-mode content of invoke")


@pytest.mark.requirement("JSON-002")
@pytest.mark.capability("streaming")
def test_streamed_json_mode_gives_a_json_object(chatmodels_chat_model: ChatModel) -> None:
    """The deltas of a JSON-mode stream concatenate to a JSON object."""
    options = ChatOptions(response_format=ResponseFormat.JSON)
    chunks = call_within(
        lambda: read_stream(chatmodels_chat_model.stream(JSON_PROMPT, options)), "stream"
    )
    text = "".join(c.delta for c in chunks)
    parse_object(text, f"the concatenated deltas of a {len(chunks)}-chunk JSON-mode stream")
