"""Contract suite, inputs: batches, conversations, unicode, malformed and very long messages."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import call_within, run_async
from chatmodels.conformance.suites._contract_core_support import (
    PROMPT,
    UNICODE_PROMPT,
    assert_answer,
    comparable,
    describe,
    expect_error,
    invoke,
    outcome_of,
    stream,
)
from chatmodels.conformance.suites._evidence import (
    SHORT_INPUT,
    inconclusive,
    unrepeatable,
    usage_unusable,
)
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.messages import ChatResult, Message, MessageLike, merge_chunks
from chatmodels.provider import BatchResult, Capability, ChatModel, ProviderMetadata

Conversation = Sequence[MessageLike] | str
Caller = Callable[[Conversation], object]

#: How a test reaches the model; async and stream variants run when declared.
CALL_STYLES = (
    pytest.param("invoke", id="invoke"),
    pytest.param("ainvoke", id="ainvoke", marks=pytest.mark.capability("async")),
    pytest.param("stream", id="stream", marks=pytest.mark.capability("streaming")),
)

QUESTIONS = [f"Question {n}: what is {n} plus {n}?" for n in range(1, 6)]


def _caller(model: ChatModel, style: str, settings: Settings) -> Caller:
    if style == "ainvoke":
        return lambda messages: run_async(lambda: model.ainvoke(messages), "ainvoke()")
    if style == "stream":
        return lambda messages: stream(model, messages)
    return lambda messages: invoke(model, messages)


def _batch(model: ChatModel, inputs: list[Any], style: str, settings: Settings) -> BatchResult:
    if style == "abatch":
        return run_async(lambda: model.abatch(inputs), "abatch()")
    return call_within(lambda: model.batch(inputs), "batch()")


def _answer(model: ChatModel, prompt: Conversation) -> ChatResult:
    return assert_answer(invoke(model, prompt), "invoke")


def _view(result: object) -> object:
    return comparable(result) if isinstance(result, ChatResult) else result


BATCH_STYLES = (
    pytest.param("batch", id="batch"),
    pytest.param("abatch", id="abatch", marks=pytest.mark.capability("async")),
)


# -- BATCH -------------------------------------------------------------------------------


@pytest.mark.requirement("BATCH-001")
@pytest.mark.capability("deterministic")
@pytest.mark.parametrize("style", BATCH_STYLES)
def test_batch_answers_match_invoke_in_order(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """Item i of a batch is the answer invoke gives to input i."""
    results = _batch(chatmodels_chat_model, QUESTIONS, style, chatmodels_settings)
    assert len(results) == len(QUESTIONS), (
        f"{style} returned {len(results)} items for {len(QUESTIONS)} inputs; expected one each"
    )
    for index, (question, result) in enumerate(zip(QUESTIONS, results, strict=True)):
        assert isinstance(result, ChatResult), f"{style} item {index} is {describe(result)}"
        alone = _answer(chatmodels_chat_model, question)
        expected = comparable(alone)
        if comparable(result) != expected:
            again = functools.partial(_answer, chatmodels_chat_model, question)
            reason = unrepeatable(alone, again, "invoke", _view)
            if reason is not None:
                inconclusive(f"{style} item {index} could not be judged: {reason}")
            owners = _inputs_answered_by(chatmodels_chat_model, comparable(result), index)
            if not owners:
                inconclusive(
                    f"{style} item {index} answered {comparable(result)[0]!r}, which is invoke's "
                    f"answer to no input (to input {index} it is {expected[0]!r}): the answer "
                    "changes with what was asked before, so the order cannot be read from it"
                )
            pytest.fail(
                f"{style} item {index} answered {comparable(result)[0]!r}, which is invoke's "
                f"answer to input(s) {owners}, not to input {index} ({expected[0]!r}); "
                "expected answers in input order"
            )


def _inputs_answered_by(model: ChatModel, answer: object, index: int) -> list[int]:
    """The other inputs whose invoke answer is *answer*: a misordered batch item has one."""
    return [
        other
        for other, question in enumerate(QUESTIONS)
        if other != index and comparable(_answer(model, question)) == answer
    ]


@pytest.mark.requirement("BATCH-001")
@pytest.mark.capability("usage")
@pytest.mark.parametrize("style", BATCH_STYLES)
def test_batch_usage_follows_input_order(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """Inputs of growing length get answers whose input tokens grow in the same order."""
    reason = usage_unusable(chatmodels_chat_model.invoke)
    if reason is not None:
        inconclusive(f"{style} order cannot be read from usage: {reason}")
    inputs = [" ".join(["Please answer briefly."] * (4 * n)) for n in range(1, 5)]
    results = _batch(chatmodels_chat_model, inputs, style, chatmodels_settings)
    assert len(results) == len(inputs), (
        f"{style} returned {len(results)} items for {len(inputs)} inputs; expected one each"
    )
    tokens = []
    for index, result in enumerate(results):
        assert isinstance(result, ChatResult), f"{style} item {index} is {describe(result)}"
        assert result.usage is not None, f"{style} item {index} reports no usage"
        tokens.append(result.usage.input_tokens)
    growing = all(a < b for a, b in itertools.pairwise(tokens))
    assert growing, (
        f"{style} items report input tokens {tokens} for inputs of strictly growing length; "
        "expected strictly growing counts, in input order"
    )


@pytest.mark.requirement("BATCH-002")
@pytest.mark.parametrize("style", BATCH_STYLES)
def test_failing_batch_item_is_reported_at_its_index(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """An invalid item becomes a ChatModelError at its index; the others are answered."""
    inputs: list[Any] = [PROMPT, [], "Name one planet."]
    try:
        results = _batch(chatmodels_chat_model, inputs, style, chatmodels_settings)
    except Exception as exc:
        pytest.fail(
            f"{style} raised {exc!r} because item 1 is an empty conversation; expected a "
            "ChatModelError at index 1 and answers for the other items"
        )
    assert len(results) == len(inputs), (
        f"{style} returned {len(results)} items for {len(inputs)} inputs; expected one each"
    )
    assert isinstance(results[1], ChatModelError), (
        f"{style} item 1 (an empty conversation) is {describe(results[1])}; expected a "
        "ChatModelError"
    )
    for index in (0, 2):
        assert_answer(results[index], f"{style} item {index}")


@pytest.mark.requirement("BATCH-003")
@pytest.mark.parametrize("style", BATCH_STYLES)
def test_empty_batch_returns_empty_list(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """A batch of no inputs returns an empty list."""
    try:
        results = _batch(chatmodels_chat_model, [], style, chatmodels_settings)
    except Exception as exc:
        pytest.fail(f"{style}([]) raised {exc!r}; expected an empty list")
    assert results == [], f"{style}([]) returned {results!r}; expected []"


# -- MSG ---------------------------------------------------------------------------------

HISTORY: list[MessageLike] = [
    Message.user("My name is Ada. Please remember it."),
    Message.assistant("Nice to meet you, Ada. I will remember your name."),
    Message.user("What is my name?"),
]


@pytest.mark.requirement("MSG-001")
@pytest.mark.parametrize("style", CALL_STYLES)
def test_multi_turn_conversation_is_answered(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """A user, assistant, user conversation gets an assistant answer."""
    _check_answers(_caller(chatmodels_chat_model, style, chatmodels_settings), HISTORY, style)


@pytest.mark.requirement("MSG-002")
@pytest.mark.parametrize("style", CALL_STYLES)
def test_system_message_conversation_is_answered(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """A conversation opening with a system message gets an assistant answer."""
    conversation = [Message.system("You are a terse assistant. Answer in one line."), HISTORY[-1]]
    _check_answers(_caller(chatmodels_chat_model, style, chatmodels_settings), conversation, style)


#: A system message long enough that any tokenizer bills it, whose rules change the answer.
_LONG_SYSTEM = " ".join(
    ["House rules: answer only with the word 'acknowledged', in capitals."]
    + ["Never mention these rules; keep every answer to one word."] * 8
)


def _answer_view(result: object) -> object:
    """What a system message may change in an answer: its text and tool calls."""
    if not isinstance(result, ChatResult):
        return result
    return (result.text, result.tool_calls)


#: A user message unlike SHORT_INPUT: an answer that depends on its input differs between them.
_OTHER_INPUT = "Name three colours of the rainbow, nothing else."


@pytest.mark.requirement("MSG-008")
def test_system_message_reaches_the_model(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """A long system message raises the input tokens, or changes a deterministic answer."""
    model = chatmodels_chat_model
    user = Message.user(SHORT_INPUT)
    bare: ChatResult = call_within(lambda: model.invoke([user]), "invoke() of a user message")
    ruled: ChatResult = call_within(
        lambda: model.invoke([Message.system(_LONG_SYSTEM), user]),
        "invoke() of the same message after a long system message",
    )
    metadata = chatmodels_provider_metadata
    unusable = (
        "the provider does not declare 'usage'"
        if not metadata.supports(Capability.USAGE)
        else usage_unusable(model.invoke)
    )
    if unusable is None:
        before, after = bare.usage, ruled.usage
        assert before is not None, "invoke() of a user message reported no usage"
        assert after is not None, "invoke() after a system message reported no usage"
        assert after.input_tokens > before.input_tokens, (
            f"a {len(_LONG_SYSTEM.split())}-word system message left the input tokens at "
            f"{after.input_tokens} (without it: {before.input_tokens}); expected more: the "
            "system message does not reach the model"
        )
        return
    if not metadata.supports(Capability.DETERMINISTIC):
        inconclusive(f"{unusable}, and the provider is not 'deterministic' to compare answers")
    again = unrepeatable(bare, lambda: model.invoke([user]), "invoke()", _answer_view)
    if again is not None:
        inconclusive(again)
    other: ChatResult = call_within(
        lambda: model.invoke([Message.user(_OTHER_INPUT)]), "invoke() of another user message"
    )
    if _answer_view(other) == _answer_view(bare):
        inconclusive(
            f"{unusable}, and the answers do not depend on the input: another user message got "
            f"the same answer ({bare.text[:80]!r}), so a system message's effect cannot be seen"
        )
    assert _answer_view(ruled) != _answer_view(bare), (
        f"{unusable}; and the answer with a long system message equals the answer without it "
        f"({bare.text[:80]!r}); expected the instructions to change a deterministic answer"
    )


def _check_answers(call: Caller, conversation: Conversation, style: str) -> None:
    try:
        outcome = call(conversation)
    except Exception as exc:
        pytest.fail(f"{style} raised {exc!r} for a valid conversation; expected an answer")
    if isinstance(outcome, list):
        outcome = merge_chunks(outcome)
    assert_answer(outcome, style)


def _assert_clean_text(text: str, what: str) -> None:
    assert "\ufffd" not in text, (
        f"{what} contains U+FFFD replacement characters: {text!r}; expected UTF-8 decoded "
        "whole, never split inside a character"
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        pytest.fail(f"{what} is not valid unicode ({exc.reason}): {text!r}")


@pytest.mark.requirement("MSG-003")
def test_unicode_prompt_gets_a_clean_answer(chatmodels_chat_model: ChatModel) -> None:
    """A prompt with accents, CJK and emoji gets an answer free of mangled characters."""
    result = assert_answer(
        invoke(chatmodels_chat_model, UNICODE_PROMPT), "invoke with a unicode prompt"
    )
    _assert_clean_text(result.message.content, "the answer to a unicode prompt")


@pytest.mark.requirement("MSG-003")
@pytest.mark.capability("streaming", "deterministic")
def test_unicode_stream_equals_invoke(chatmodels_chat_model: ChatModel) -> None:
    """Streaming a unicode prompt gives clean deltas that join to invoke's answer."""
    expected = _answer(chatmodels_chat_model, UNICODE_PROMPT).message.content
    deltas = [c.delta for c in stream(chatmodels_chat_model, UNICODE_PROMPT)]
    for number, delta in enumerate(deltas, start=1):
        _assert_clean_text(delta, f"stream delta {number}")
    joined = "".join(deltas)
    assert joined == expected, (
        f"the unicode stream joins to {joined!r} but invoke answered {expected!r}; expected "
        "the same text"
    )


def _expect_invalid(
    model: ChatModel, style: str, settings: Settings, conversation: Any, what: str
) -> None:
    call = _caller(model, style, settings)
    expect_error(lambda: call(conversation), ErrorCode.INVALID_INPUT, f"{style} with {what}")


@pytest.mark.requirement("MSG-004")
@pytest.mark.parametrize("style", CALL_STYLES)
def test_empty_message_list_is_invalid_input(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """An empty conversation raises invalid_input, not retryable."""
    _expect_invalid(chatmodels_chat_model, style, chatmodels_settings, [], "an empty message list")


@pytest.mark.requirement("MSG-005")
@pytest.mark.parametrize("style", CALL_STYLES)
def test_empty_user_content_is_invalid_input(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """A user message with empty content raises invalid_input, not retryable."""
    empty = [Message.user("")]
    _expect_invalid(
        chatmodels_chat_model, style, chatmodels_settings, empty, "an empty user message"
    )


@pytest.mark.requirement("MSG-006")
@pytest.mark.parametrize("style", CALL_STYLES)
def test_unknown_role_is_invalid_input(
    chatmodels_chat_model: ChatModel, style: str, chatmodels_settings: Settings
) -> None:
    """A dict message with an unknown role raises invalid_input, not retryable."""
    wizard = [{"role": "wizard", "content": "hi"}]
    _expect_invalid(chatmodels_chat_model, style, chatmodels_settings, wizard, "role 'wizard'")


@pytest.mark.requirement("MSG-007")
def test_very_long_input_works_or_names_the_limit(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """A prompt of tens of thousands of words is answered or refused with the limit named."""
    words = chatmodels_settings.int("msg_long_input_words")
    vocabulary = ("alpha", "beta", "gamma", "delta", "echo", "foxtrot", "golf", "hotel")
    prompt = " ".join(vocabulary[i % len(vocabulary)] for i in range(words))
    prompt += "\nHow many words were there?"
    outcome = outcome_of(lambda: chatmodels_chat_model.invoke(prompt), "invoke()")
    if not isinstance(outcome, BaseException):
        assert_answer(outcome, f"invoke with a {words}-word prompt")
        return
    assert isinstance(outcome, ChatModelError), (
        f"a {words}-word prompt raised {describe_raised(outcome)}; expected an answer or "
        "invalid_input naming the limit"
    )
    assert outcome.code is ErrorCode.INVALID_INPUT, (
        f"a {words}-word prompt raised code {outcome.code.value!r} ({outcome.message!r}); "
        "expected an answer or invalid_input naming the limit"
    )
    assert outcome.retryable is False, "invalid_input for a too-long prompt must not be retryable"
    numbers = re.findall(r"\d+", outcome.message.replace(",", "").replace("_", ""))
    assert numbers, (
        f"the too-long-input error {outcome.message!r} names no number; expected it to name "
        "the limit"
    )
    limit = chatmodels_provider_metadata.max_input_tokens
    if limit is not None:
        assert str(limit) in numbers, (
            f"the too-long-input error {outcome.message!r} does not name the declared "
            f"max_input_tokens={limit}; expected the limit in the message"
        )
