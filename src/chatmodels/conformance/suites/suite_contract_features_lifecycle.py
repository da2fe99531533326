"""Contract suite, part two: honest metadata (META) and the model's lifecycle (LIFE)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from chatmodels.conformance.suites._bounded import (
    aread_stream,
    call_within,
    read_stream,
    run_async,
)
from chatmodels.conformance.suites._contract_content_support import (
    CITY_FORMAT,
    RED_PNG,
    SCHEMA_PROMPT,
)
from chatmodels.conformance.suites._contract_features_support import (
    JSON_PROMPT,
    PLAIN_PROMPT,
    STOCK,
    TOOL_PROMPT,
    TOOLS,
    WEATHER,
    expect_code,
    parse_object,
    result_problem,
)
from chatmodels.errors import ErrorCode
from chatmodels.messages import ChatResult, Message
from chatmodels.options import ChatOptions, ResponseFormat
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

Smoke = Callable[[ChatModel], None]


def _answer(model: ChatModel, messages: Any, options: ChatOptions | None, what: str) -> ChatResult:
    result = call_within(lambda: model.invoke(messages, options), what)
    problem = result_problem(result)
    assert problem is None, f"{what} {problem}"
    return result


def _smoke_streaming(model: ChatModel) -> None:
    chunks = call_within(lambda: read_stream(model.stream(PLAIN_PROMPT)), "stream")
    assert chunks, "stream gave no chunks; expected chunks ending in a finish reason"
    assert chunks[-1].finish_reason is not None, (
        f"the last of {len(chunks)} stream chunks has no finish reason"
    )


def _smoke_async(model: ChatModel) -> None:
    result = run_async(lambda: model.ainvoke(PLAIN_PROMPT), "ainvoke")
    assert result_problem(result) is None, f"ainvoke {result_problem(result)}"


def _smoke_batch(model: ChatModel) -> None:
    results = call_within(lambda: model.batch([PLAIN_PROMPT, JSON_PROMPT]), "batch")
    assert [type(r) for r in results] == [ChatResult, ChatResult], (
        f"batch of 2 prompts gave {results!r:.300}; expected 2 ChatResults"
    )


def _smoke_tools(model: ChatModel) -> None:
    # Forced by name, not by 'required': TOOLS-006 judges 'required' on its own.
    forced = model.metadata.supports(Capability.TOOL_CHOICE)
    options = ChatOptions(tools=TOOLS, tool_choice=WEATHER.name if forced else None)
    result = _answer(model, TOOL_PROMPT, options, "invoke with tools")
    names = {c.name for c in result.tool_calls}
    assert names <= {t.name for t in TOOLS}, f"tool calls name unoffered tools {names}"
    assert result.tool_calls or not forced, f"tool_choice={WEATHER.name!r} gave no tool call"


def _smoke_tool_choice(model: ChatModel) -> None:
    result = _answer(model, TOOL_PROMPT, ChatOptions(tools=TOOLS, tool_choice=STOCK.name), "invoke")
    names = [c.name for c in result.tool_calls]
    assert names == [STOCK.name], f"tool_choice={STOCK.name!r} gave calls {names!r}"


def _smoke_json(model: ChatModel) -> None:
    options = ChatOptions(response_format=ResponseFormat.JSON)
    parse_object(_answer(model, JSON_PROMPT, options, "invoke").message.content, "JSON mode")


def _smoke_structured(model: ChatModel) -> None:
    options = ChatOptions(response_format=CITY_FORMAT)
    parse_object(_answer(model, SCHEMA_PROMPT, options, "invoke").message.content, "the answer")


def _smoke_vision(model: ChatModel) -> None:
    _answer(model, [Message.user([PLAIN_PROMPT, RED_PNG])], None, "invoke with an image")


def _smoke_accepts(options: ChatOptions) -> Smoke:
    def smoke(model: ChatModel) -> None:
        _answer(model, PLAIN_PROMPT, options, f"invoke with {options!r}")

    return smoke


def _smoke_usage(model: ChatModel) -> None:
    usage = _answer(model, PLAIN_PROMPT, None, "invoke").usage
    assert usage is not None, "invoke returned no usage; capability 'usage' is declared"


def _smoke_system(model: ChatModel) -> None:
    _answer(model, [Message.system("Be brief."), Message.user(PLAIN_PROMPT)], None, "invoke")


def _smoke_deterministic(model: ChatModel) -> None:
    first, second = (_answer(model, PLAIN_PROMPT, None, "invoke") for _ in range(2))
    assert first.message.content == second.message.content, (
        f"two identical calls answered {first.message.content[:60]!r} and "
        f"{second.message.content[:60]!r}; capability 'deterministic' is declared"
    )


#: One smoke call per capability; cancellation, telemetry and openai_compatible have suites.
SMOKE: dict[Capability, Smoke] = {
    Capability.STREAMING: _smoke_streaming,
    Capability.ASYNC: _smoke_async,
    Capability.BATCH: _smoke_batch,
    Capability.TOOLS: _smoke_tools,
    Capability.TOOL_CHOICE: _smoke_tool_choice,
    Capability.JSON_MODE: _smoke_json,
    Capability.STOP_SEQUENCES: _smoke_accepts(ChatOptions(stop=("\n\n\n",))),
    Capability.MAX_TOKENS: _smoke_accepts(ChatOptions(max_tokens=16)),
    Capability.USAGE: _smoke_usage,
    Capability.SYSTEM_MESSAGES: _smoke_system,
    Capability.DETERMINISTIC: _smoke_deterministic,
    Capability.TIMEOUT: _smoke_accepts(ChatOptions(timeout=30.0)),
    Capability.STRUCTURED_OUTPUT: _smoke_structured,
    Capability.VISION: _smoke_vision,
    Capability.REASONING: _smoke_accepts(ChatOptions(reasoning_effort="low")),
    Capability.PARALLEL_TOOL_CALLS: _smoke_accepts(
        ChatOptions(tools=TOOLS, parallel_tool_calls=True)
    ),
}


@pytest.mark.requirement("META-001")
@pytest.mark.parametrize("capability", list(SMOKE), ids=str)
def test_declared_capability_works(
    capability: Capability,
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """A smoke call that uses the declared capability succeeds and shows it working."""
    if not chatmodels_provider_metadata.supports(capability):
        pytest.skip(
            f"provider {chatmodels_provider_metadata.name!r} does not declare {capability.value!r}"
        )
    SMOKE[capability](chatmodels_chat_model)


#: The request that asks for each optional feature.
ASKS: dict[Capability, tuple[Any, ChatOptions]] = {
    Capability.TOOLS: (TOOL_PROMPT, ChatOptions(tools=TOOLS)),
    Capability.TOOL_CHOICE: (TOOL_PROMPT, ChatOptions(tools=TOOLS, tool_choice="required")),
    Capability.JSON_MODE: (JSON_PROMPT, ChatOptions(response_format=ResponseFormat.JSON)),
    Capability.STOP_SEQUENCES: (PLAIN_PROMPT, ChatOptions(stop=("hello",))),
    Capability.MAX_TOKENS: (PLAIN_PROMPT, ChatOptions(max_tokens=3)),
    Capability.SYSTEM_MESSAGES: (
        [Message.system("Be brief."), Message.user(PLAIN_PROMPT)],
        ChatOptions(),
    ),
    Capability.TIMEOUT: (PLAIN_PROMPT, ChatOptions(timeout=30.0)),
    Capability.STRUCTURED_OUTPUT: (SCHEMA_PROMPT, ChatOptions(response_format=CITY_FORMAT)),
    Capability.VISION: ([Message.user([PLAIN_PROMPT, RED_PNG])], ChatOptions()),
    Capability.REASONING: (PLAIN_PROMPT, ChatOptions(reasoning_effort="low")),
    Capability.PARALLEL_TOOL_CALLS: (
        TOOL_PROMPT,
        ChatOptions(tools=TOOLS, parallel_tool_calls=True),
    ),
}


@pytest.mark.requirement("META-002")
@pytest.mark.parametrize("capability", list(ASKS), ids=str)
def test_undeclared_feature_is_refused_or_declared(
    capability: Capability,
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Asking for an undeclared feature raises 'unsupported'; a declared one passes trivially."""
    if chatmodels_provider_metadata.supports(capability):
        assert capability in chatmodels_provider_metadata.capabilities
        return
    messages, options = ASKS[capability]
    expect_code(
        lambda: chatmodels_chat_model.invoke(messages, options),
        ErrorCode.UNSUPPORTED,
        f"invoke asking for undeclared {capability.value!r}",
    )


def _metadata_problems(metadata: ProviderMetadata) -> list[str]:
    problems: list[str] = []
    for name in ("name", "version"):
        value = getattr(metadata, name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"metadata.{name} is {value!r}; expected a non-empty string")
    capabilities = metadata.capabilities
    if not isinstance(capabilities, frozenset) or not all(
        isinstance(c, Capability) for c in capabilities
    ):
        problems.append(
            f"metadata.capabilities is {capabilities!r}; expected a frozenset of Capability"
        )
    for name in ("models", "required_options", "optional_options", "secret_options"):
        value = getattr(metadata, name)
        if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
            problems.append(f"metadata.{name} is {value!r}; expected a tuple of non-empty strings")
    timeout = metadata.health_timeout
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not (math.isfinite(timeout) and timeout > 0)
    ):
        problems.append(f"metadata.health_timeout is {timeout!r}; expected seconds > 0")
    limit = metadata.max_input_tokens
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        problems.append(f"metadata.max_input_tokens is {limit!r}; expected None or an int >= 1")
    return problems


@pytest.mark.requirement("META-003")
def test_metadata_is_well_formed(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Metadata fields have their documented types; the model reports its provider's name."""
    problems = _metadata_problems(chatmodels_provider_metadata)
    if chatmodels_chat_model.metadata.name != chatmodels_provider_metadata.name:
        problems.append(
            f"the model's metadata names {chatmodels_chat_model.metadata.name!r}, its provider "
            f"{chatmodels_provider_metadata.name!r}; expected the same provider"
        )
    if not isinstance(chatmodels_chat_model.model, str) or not chatmodels_chat_model.model:
        problems.append(
            f"model.model is {chatmodels_chat_model.model!r}; expected the model's name"
        )
    assert not problems, "; ".join(problems)


@pytest.mark.requirement("LIFE-001")
def test_close_is_idempotent(
    chatmodels_make_chat_model: Callable[..., ChatModel],
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Closing twice, then aclose, raises nothing."""
    model = chatmodels_make_chat_model()
    call_within(model.close, "the first close()")
    call_within(model.close, "a second close()")
    if chatmodels_provider_metadata.supports(Capability.ASYNC):
        run_async(model.aclose, "aclose() after close()")


@pytest.mark.requirement("LIFE-001")
@pytest.mark.capability("async")
def test_aclose_is_idempotent(chatmodels_make_chat_model: Callable[..., ChatModel]) -> None:
    """Calling aclose twice, then close, raises nothing."""
    model = chatmodels_make_chat_model()
    run_async(model.aclose, "the first aclose()")
    run_async(model.aclose, "a second aclose()")
    call_within(model.close, "close() after aclose()")


AFTER_CLOSE: dict[str, tuple[Callable[[ChatModel], object], Capability | None]] = {
    "invoke": (lambda m: m.invoke(PLAIN_PROMPT), None),
    "ainvoke": (
        lambda m: run_async(lambda: m.ainvoke(PLAIN_PROMPT), "ainvoke()"),
        Capability.ASYNC,
    ),
    "stream": (lambda m: read_stream(m.stream(PLAIN_PROMPT)), Capability.STREAMING),
    "astream": (
        lambda m: run_async(lambda: aread_stream(m.astream(PLAIN_PROMPT)), "astream()"),
        Capability.STREAMING,
    ),
}


@pytest.mark.requirement("LIFE-002")
@pytest.mark.parametrize("entry", list(AFTER_CLOSE))
def test_call_after_close_raises_closed(
    entry: str,
    chatmodels_make_chat_model: Callable[..., ChatModel],
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """A call on a closed model raises code 'closed'."""
    call, capability = AFTER_CLOSE[entry]
    if capability is not None and not chatmodels_provider_metadata.supports(capability):
        pytest.skip(
            f"provider {chatmodels_provider_metadata.name!r} does not declare {capability.value!r}"
        )
    model = chatmodels_make_chat_model()
    call_within(model.close, "close()")
    expect_code(lambda: call(model), ErrorCode.CLOSED, f"{entry}() after close()")


@pytest.mark.requirement("LIFE-003")
def test_with_block_closes(chatmodels_make_chat_model: Callable[..., ChatModel]) -> None:
    """The model works inside 'with' and raises 'closed' after it."""
    model = chatmodels_make_chat_model()

    def use() -> None:
        with model as entered:
            _answer(entered, PLAIN_PROMPT, None, "invoke inside 'with'")

    call_within(use, "a 'with' block")
    expect_code(lambda: model.invoke(PLAIN_PROMPT), ErrorCode.CLOSED, "invoke after 'with'")


@pytest.mark.requirement("LIFE-004")
def test_async_with_block_closes(chatmodels_make_chat_model: Callable[..., ChatModel]) -> None:
    """The model works inside 'async with' and raises 'closed' after it."""
    model = chatmodels_make_chat_model()

    async def use() -> None:
        async with model as entered:
            result = await entered.ainvoke(PLAIN_PROMPT)
            assert result_problem(result) is None, (
                f"ainvoke in 'async with' {result_problem(result)}"
            )

    run_async(use, "an 'async with' block")
    expect_code(lambda: model.invoke(PLAIN_PROMPT), ErrorCode.CLOSED, "invoke after 'async with'")
