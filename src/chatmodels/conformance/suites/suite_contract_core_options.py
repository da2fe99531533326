"""Contract suite, options and usage: caps, stop sequences, bad and unsupported options, tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE, UNSUPPORTED
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._contract_core_support import (
    LONG_PROMPT,
    PROMPT,
    assert_answer,
    describe,
    expect_error,
    invoke,
    outcome_of,
    stream,
)
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.messages import ChatResult, FinishReason, Message, Usage, merge_chunks
from chatmodels.options import ToolSpec
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

CAP = 3
UNKNOWN_EXTRA = {"extra": {"chatmodels_conformance_unknown_option": 1}}
_TOOL = ToolSpec(name="lookup", parameters={"type": "object", "properties": {}})


def _usage(model: ChatModel, prompt: str, options: Any = None) -> Usage:
    result = invoke(model, prompt, options)
    usage = result.usage
    assert usage is not None, (
        f"invoke returned {describe(result)} without usage; the provider declares 'usage'"
    )
    return usage


# -- OPT ---------------------------------------------------------------------------------


@pytest.mark.requirement("OPT-001")
def test_max_tokens_cut_reports_length(chatmodels_chat_model: ChatModel) -> None:
    """A long answer capped by max_tokens ends with finish reason 'length'."""
    result = invoke(chatmodels_chat_model, LONG_PROMPT, {"max_tokens": CAP})
    usage = result.usage
    if (
        result.finish_reason is FinishReason.STOP
        and usage is not None
        and usage.output_tokens < CAP
    ):
        pytest.skip(INCONCLUSIVE + f"the answer ended by itself within {CAP} tokens")
    assert result.finish_reason is FinishReason.LENGTH, (
        f"a request for a long answer with max_tokens={CAP} finished with "
        f"{result.finish_reason!r} ({describe(result)}); expected 'length'"
    )


@pytest.mark.requirement("OPT-001")
@pytest.mark.capability("usage")
def test_max_tokens_bounds_output_tokens(chatmodels_chat_model: ChatModel) -> None:
    """Reported output tokens never exceed max_tokens."""
    usage = _usage(chatmodels_chat_model, LONG_PROMPT, {"max_tokens": CAP})
    assert usage.output_tokens <= CAP, (
        f"with max_tokens={CAP} the answer used {usage.output_tokens} output tokens; "
        f"expected at most {CAP}"
    )


@pytest.mark.requirement("OPT-002")
@pytest.mark.capability("deterministic")
def test_stop_sequence_truncates_before_it(chatmodels_chat_model: ChatModel) -> None:
    """Stopping at a word from the middle of an answer gives the prefix before that word."""
    full = invoke(chatmodels_chat_model, PROMPT).message.content
    words = [w for w in re.findall(r"\w{3,}", full) if full.find(w) > 0]
    if len(words) < 3:
        pytest.skip(INCONCLUSIVE + f"the answer {full!r} has too few words to pick a stop from")
    stop = words[len(words) // 2]
    result = invoke(chatmodels_chat_model, PROMPT, {"stop": [stop]})
    text = result.message.content
    assert stop not in text, (
        f"with stop={[stop]!r} the answer {text!r} still contains the stop sequence; expected "
        "the text before it only"
    )
    assert full.startswith(text), (
        f"with stop={[stop]!r} the answer is {text!r}, not a prefix of the unstopped answer "
        f"{full!r}; expected the text up to the stop sequence"
    )
    assert result.finish_reason is FinishReason.STOP, (
        f"an answer cut by a stop sequence finished with {result.finish_reason!r}; expected 'stop'"
    )


@pytest.mark.requirement("OPT-003")
@pytest.mark.parametrize(
    "options",
    [{"temperature": -1}, {"max_tokens": 0}, {"top_p": 2}],
    ids=["temperature=-1", "max_tokens=0", "top_p=2"],
)
def test_out_of_range_option_is_invalid_input(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    options: dict[str, Any],
) -> None:
    """An out-of-range sampling or length option raises invalid_input, never clamped."""
    also: tuple[ErrorCode, ...] = ()
    if "max_tokens" in options and not chatmodels_provider_metadata.supports(Capability.MAX_TOKENS):
        also = (ErrorCode.UNSUPPORTED,)
    what = f"invoke with options {options!r}"
    expect_error(
        lambda: chatmodels_chat_model.invoke(PROMPT, options),
        ErrorCode.INVALID_INPUT,
        what,
        also=also,
    )


@pytest.mark.requirement("OPT-004")
def test_unknown_extra_option_is_unsupported(chatmodels_chat_model: ChatModel) -> None:
    """An extra option no provider knows raises unsupported instead of being ignored."""
    what = f"invoke with options {UNKNOWN_EXTRA!r}"
    expect_error(
        lambda: chatmodels_chat_model.invoke(PROMPT, UNKNOWN_EXTRA), ErrorCode.UNSUPPORTED, what
    )


#: For each optional capability, a request that needs it.
_NEEDS: dict[str, tuple[Any, Any]] = {
    "tools": (PROMPT, {"tools": [_TOOL]}),
    "tool_choice": (PROMPT, {"tools": [_TOOL], "tool_choice": "required"}),
    "json_mode": (PROMPT, {"response_format": "json"}),
    "stop_sequences": (PROMPT, {"stop": ["zzz"]}),
    "max_tokens": (PROMPT, {"max_tokens": 50}),
    "timeout": (PROMPT, {"timeout": 60.0}),
    "system_messages": ([Message.system("Be brief."), Message.user(PROMPT)], None),
}


@pytest.mark.requirement("OPT-004")
@pytest.mark.parametrize("capability", list(_NEEDS))
def test_undeclared_feature_is_unsupported(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    capability: str,
) -> None:
    """A request needing a capability the provider does not declare raises unsupported."""
    if chatmodels_provider_metadata.supports(capability):
        pytest.skip(f"the provider declares {capability!r}; only undeclared ones are refused")
    messages, options = _NEEDS[capability]
    what = f"invoke needing undeclared capability {capability!r} (options {options!r})"
    expect_error(
        lambda: chatmodels_chat_model.invoke(messages, options), ErrorCode.UNSUPPORTED, what
    )


def _other_model(model: ChatModel, metadata: ProviderMetadata, settings: Settings) -> str:
    """A model to switch to for one call: the setting, else another listed model."""
    chosen = settings.str("override_model") or next(
        (m for m in metadata.models if m != model.model), ""
    )
    if not chosen:
        pytest.skip(
            f"{UNSUPPORTED}provider {metadata.name!r} lists no model besides {model.model!r}; "
            "name one with --chatmodels-setting override_model=NAME"
        )
    return chosen


def _echo_problem(result: ChatResult, asked: str, what: str) -> str | None:
    if result.model == asked or result.model.startswith(f"{asked}-"):
        return None
    return f"{what} with options.model={asked!r} answered as model {result.model!r}"


@pytest.mark.requirement("OPT-005")
def test_per_call_model_is_echoed_or_refused(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """options.model answers as that model, invoked and streamed, or raises unsupported."""
    asked = _other_model(chatmodels_chat_model, chatmodels_provider_metadata, chatmodels_settings)
    outcome = outcome_of(lambda: chatmodels_chat_model.invoke(PROMPT, {"model": asked}), "invoke()")
    if isinstance(outcome, ChatModelError) and outcome.code is ErrorCode.UNSUPPORTED:
        return
    result = assert_answer(outcome, f"invoke() with options.model={asked!r}")
    problems = [_echo_problem(result, asked, "invoke()")]
    if chatmodels_provider_metadata.supports(Capability.STREAMING):
        merged = merge_chunks(stream(chatmodels_chat_model, PROMPT, {"model": asked}))
        problems.append(_echo_problem(merged, asked, "stream()"))
    found = [p for p in problems if p]
    assert not found, "; ".join(found) + "; expected the per-call model, or 'unsupported'"


# -- USAGE -------------------------------------------------------------------------------


@pytest.mark.requirement("USAGE-001")
def test_usage_is_consistent(chatmodels_chat_model: ChatModel) -> None:
    """Usage fields are non-negative ints and total equals input plus output."""
    usage = _usage(chatmodels_chat_model, PROMPT)
    counts = {n: getattr(usage, n) for n in ("input_tokens", "output_tokens", "total_tokens")}
    for name, value in counts.items():
        is_int = isinstance(value, int) and not isinstance(value, bool)
        assert is_int, f"usage.{name} is {value!r}; expected a non-negative int"
        assert value >= 0, f"usage.{name} is {value!r}; expected a non-negative int"
    expected = usage.input_tokens + usage.output_tokens
    assert usage.total_tokens == expected, (
        f"usage reports total_tokens={usage.total_tokens} but input {usage.input_tokens} + "
        f"output {usage.output_tokens} = {expected}; expected total = input + output"
    )


@pytest.mark.requirement("USAGE-002")
def test_input_tokens_grow_with_the_input(chatmodels_chat_model: ChatModel) -> None:
    """A prompt ten times longer reports more input tokens."""
    short = "Describe the sea in one sentence."
    longer = " ".join([short] * 10)
    small, large = _usage(chatmodels_chat_model, short), _usage(chatmodels_chat_model, longer)
    assert large.input_tokens > small.input_tokens, (
        f"a 10x longer prompt reported {large.input_tokens} input tokens, the short one "
        f"{small.input_tokens}; expected more for the longer prompt"
    )


@pytest.mark.requirement("USAGE-003")
def test_answer_reports_output_tokens(chatmodels_chat_model: ChatModel) -> None:
    """A non-empty answer reports more than zero output tokens."""
    result = assert_answer(invoke(chatmodels_chat_model, PROMPT), "invoke")
    usage = result.usage
    assert usage is not None, "invoke returned no usage; the provider declares 'usage'"
    assert usage.output_tokens > 0, (
        f"the answer {describe(result)} reports output_tokens={usage.output_tokens}; "
        "expected more than zero for a non-empty answer"
    )
