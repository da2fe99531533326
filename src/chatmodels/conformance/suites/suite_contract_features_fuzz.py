"""Contract suite, part two: generated conversations and options (FUZZ).

The hypothesis profile is fixed (derandomized, no database), so every run of the suite tries
the same examples and a verdict never depends on luck or on earlier runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.suites._bounded import bounded, read_stream
from chatmodels.conformance.suites._contract_features_support import (
    PLAIN_PROMPT,
    WEATHER,
    result_problem,
    stream_problem,
)
from chatmodels.errors import ChatModelError
from chatmodels.messages import Message
from chatmodels.provider import ChatModel

_PROFILE = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Characters that break naive providers: controls, combining marks, RTL, BOM, astral emoji.
#: An explicit alphabet also spares hypothesis building its unicode tables in the caller's cwd.
_ALPHABET = (
    "abcXYZ019 .,:;!?'\"{}[]<>\\/_-"
    "\x00\x07\x1b\x7f\t\r\n\u2028\ufeff\u200b\u202e\u0301"
    "éßñøЖя中文日本語한국어עברית"
    "🚀👩🏽‍💻\U0001d518🇫🇷"
)


def _texts(*, min_size: int = 0, max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_ALPHABET, min_size=min_size, max_size=max_size)


_text = _texts(max_size=30)
_roles = st.sampled_from(["user", "user", "system", "assistant", "tool", "robot", "", "USER"])


@st.composite
def _message_dicts(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": draw(_roles)}
    content = draw(st.one_of(_text, st.none()))
    if content is not None or draw(st.booleans()):
        message["content"] = content
    call_id = draw(st.one_of(st.none(), _texts(max_size=8)))
    if call_id is not None:
        message["tool_call_id"] = call_id
    extra_key = draw(st.one_of(st.none(), _texts(min_size=1, max_size=6)))
    if extra_key is not None and extra_key not in message:
        message[extra_key] = draw(st.integers())
    return message


_user_turns = st.lists(
    st.builds(Message.user, _texts(min_size=1, max_size=30)), min_size=1, max_size=3
)
conversations = st.one_of(_text, _user_turns, st.lists(_message_dicts(), max_size=4))

_WEATHER_DICT = {
    "name": WEATHER.name,
    "description": WEATHER.description,
    "parameters": WEATHER.parameters,
}
_numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-2, 3), st.booleans(), _text
)
_option_values: dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.one_of(st.none(), st.floats(-1, 3), _numbers),
    "top_p": st.one_of(st.none(), st.floats(-1, 2), _numbers),
    "max_tokens": st.one_of(st.none(), st.integers(-2, 40), _numbers),
    "stop": st.one_of(st.lists(_texts(max_size=4), max_size=3), _texts(max_size=3)),
    "tools": st.sampled_from([[], [_WEATHER_DICT]]),
    "tool_choice": st.one_of(
        st.none(), st.sampled_from(["auto", "none", "required", WEATHER.name, "nope"]), _text
    ),
    "response_format": st.sampled_from(["text", "json", "xml", ""]),
    "seed": st.one_of(st.none(), st.integers(), _numbers),
    "timeout": st.one_of(st.none(), st.floats(0.5, 5), st.floats(-1, 0)),
    "extra": st.dictionaries(_texts(max_size=5), st.integers(), max_size=2),
}
_valid_option_values: dict[str, st.SearchStrategy[Any]] = {
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0.01, 1),
    "max_tokens": st.integers(1, 40),
    "stop": st.lists(_texts(min_size=1, max_size=4), max_size=2),
    "response_format": st.sampled_from(["text", "json"]),
    "seed": st.integers(0, 2**31),
    "timeout": st.floats(2, 10),
}
options = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional=_valid_option_values),
    st.builds(
        lambda known, unknown: {**unknown, **known},
        st.fixed_dictionaries({}, optional=_option_values),
        st.dictionaries(_texts(min_size=1, max_size=8), st.integers(), max_size=1),
    ),
)


def _bare(error: BaseException, where: str) -> str | None:
    if isinstance(error, ChatModelError):
        return None
    return f"{where} raised {describe_raised(error)}; expected a ChatModelError"


def _invoke_problem(model: ChatModel, messages: Any, opts: Any) -> str | None:
    where = f"invoke({messages!r:.200}, {opts!r:.200})"
    outcome = bounded(lambda: model.invoke(messages, opts), where)
    if not outcome.finished:
        return outcome.hang_message()
    if outcome.error is not None:
        return _bare(outcome.error, where)
    problem = result_problem(outcome.value)
    return None if problem is None else f"{where} {problem}"


@pytest.mark.requirement("FUZZ-001")
@_PROFILE
@given(messages=conversations)
def test_generated_conversations_get_a_result_or_an_error(
    chatmodels_chat_model: ChatModel, messages: Any
) -> None:
    """invoke on a generated conversation returns a valid ChatResult or raises a ChatModelError."""
    problem = _invoke_problem(chatmodels_chat_model, messages, None)
    assert problem is None, problem


@pytest.mark.requirement("FUZZ-002")
@_PROFILE
@given(opts=options)
# Edges every run tries, whatever the generator draws: values valid for the library but
# beyond what some upstream SDKs accept, which a provider must translate, not leak.
@example(opts={"temperature": 1.5})
@example(opts={"temperature": 2.0, "top_p": 1.0})
@example(opts={"max_tokens": 1, "seed": 2**40})
@example(opts={"stop": ["."], "timeout": 0.5})
def test_generated_options_get_a_result_or_an_error(
    chatmodels_chat_model: ChatModel, opts: Any
) -> None:
    """invoke with any generated options returns a valid ChatResult or raises a ChatModelError."""
    problem = _invoke_problem(chatmodels_chat_model, PLAIN_PROMPT, opts)
    assert problem is None, problem


@pytest.mark.requirement("FUZZ-003")
@_PROFILE
@given(messages=conversations, opts=options)
def test_generated_streams_end_in_one_finish_or_an_error(
    chatmodels_chat_model: ChatModel, messages: Any, opts: Any
) -> None:
    """stream on generated input yields chunks ending in one finish reason, or a ChatModelError."""
    where = f"stream({messages!r:.200}, {opts!r:.200})"
    outcome = bounded(lambda: read_stream(chatmodels_chat_model.stream(messages, opts)), where)
    assert outcome.finished, outcome.hang_message()
    if outcome.error is not None:
        problem = _bare(outcome.error, where)
        assert problem is None, problem
        return
    problem = stream_problem(outcome.value or [])
    assert problem is None, f"{where}: {problem}"
