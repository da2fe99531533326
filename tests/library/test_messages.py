"""Tests of chatmodels.messages: construction rules, coercion, usage, results and chunk merging."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatmodels.errors import ErrorCode, InvalidInputError, InvalidResponseError
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    Role,
    ToolCall,
    ToolCallDelta,
    Usage,
    coerce_messages,
    merge_chunks,
)

E = TypeVar("E", bound=BaseException)


@contextmanager
def raises(cls: type[E], *fragments: str) -> Iterator[pytest.ExceptionInfo[E]]:
    """Expect *cls* with a message containing every one of *fragments*."""
    with pytest.raises(cls) as info:
        yield info
    missing = [f for f in fragments if f not in str(info.value)]
    assert not missing, f"{missing!r} not in {str(info.value)!r}"


def invalid(*fragments: str) -> AbstractContextManager[pytest.ExceptionInfo[InvalidInputError]]:
    """Expect invalid input whose message names the field, the value and what was expected."""
    return raises(InvalidInputError, *fragments)


def call(index: int = 0) -> ToolCall:
    """Build a tool call with a predictable id."""
    return ToolCall(id=f"call_{index}", name="get_weather", arguments='{"city": "Oslo"}')


class TestRole:
    @pytest.mark.parametrize("role", ["system", "user", "assistant", "tool"])
    def test_string_role_is_coerced(self, role: str) -> None:
        """A role given as its string value becomes the Role member."""
        extra = {"tool_call_id": "c1"} if role == "tool" else {}
        message = Message(role, "hi", **extra)  # type: ignore[arg-type]
        assert message.role is Role(role)
        assert str(message.role) == role

    def test_unknown_role_names_field_value_and_choices(self) -> None:
        """An unknown role is invalid input that quotes it and lists the roles."""
        roles = ("'system'", "'user'", "'assistant'", "'tool'")
        with invalid("Message.role", "'wizard'", *roles) as e:
            Message("wizard", "hi")  # type: ignore[arg-type]
        assert e.value.code is ErrorCode.INVALID_INPUT
        assert e.value.op == "message"
        assert e.value.retryable is False
        assert isinstance(e.value, ValueError)


class TestMessage:
    def test_constructors_build_each_role(self) -> None:
        """The classmethod constructors set role and content and nothing else."""
        assert Message.system("s") == Message(Role.SYSTEM, "s")
        assert Message.user("u") == Message(Role.USER, "u")
        assert Message.assistant("a") == Message(Role.ASSISTANT, "a")
        tool = Message.tool("42", tool_call_id="call_1", name="calc")
        assert (tool.role, tool.content, tool.tool_call_id, tool.name) == (
            Role.TOOL,
            "42",
            "call_1",
            "calc",
        )

    def test_is_frozen(self) -> None:
        """Messages are immutable values."""
        message = Message.user("x")
        with pytest.raises(dataclasses.FrozenInstanceError):
            message.content = "y"  # type: ignore[misc]

    @pytest.mark.parametrize("content", [None, 3, b"bytes", ["a"]])
    def test_non_string_content_is_refused(self, content: object) -> None:
        """Content must be text; the error quotes the bad value."""
        with invalid("Message.content", "a string", repr(content)):
            Message(Role.USER, content)  # type: ignore[arg-type]

    @pytest.mark.parametrize("call_id", [None, ""])
    def test_tool_message_needs_call_id(self, call_id: str | None) -> None:
        """A tool message without the id of the call it answers is invalid."""
        with invalid("Message.tool_call_id", "the id of the tool call answered", repr(call_id)):
            Message(Role.TOOL, "42", tool_call_id=call_id)

    @pytest.mark.parametrize("role", [Role.USER, Role.ASSISTANT, Role.SYSTEM])
    def test_call_id_only_on_tool_messages(self, role: Role) -> None:
        """A tool_call_id on a non-tool message is refused, naming the rule."""
        with invalid("Message.tool_call_id", "None unless role is 'tool'", "'c1'"):
            Message(role, "x", tool_call_id="c1")

    @pytest.mark.parametrize("role", [Role.USER, Role.SYSTEM, Role.TOOL])
    def test_tool_calls_only_on_assistant(self, role: Role) -> None:
        """Only the assistant may carry tool calls."""
        with invalid("Message.tool_calls", "empty unless role is 'assistant'", "get_weather"):
            call_id = "c" if role is Role.TOOL else None
            Message(role, "x", tool_calls=(call(),), tool_call_id=call_id)

    def test_tool_calls_list_becomes_tuple(self) -> None:
        """Tool calls given as a list are stored as a tuple, keeping the value hashable."""
        message = Message(Role.ASSISTANT, "", tool_calls=[call(0), call(1)])  # type: ignore[arg-type]
        assert message.tool_calls == (call(0), call(1))
        assert hash(message) == hash(Message.assistant("", [call(0), call(1)]))

    def test_tool_calls_must_be_tool_call_objects(self) -> None:
        """A raw mapping in tool_calls of the constructor is refused."""
        with invalid("Message.tool_calls", "a sequence of ToolCall"):
            Message(Role.ASSISTANT, "", tool_calls=({"id": "x", "name": "y"},))  # type: ignore[arg-type]


class TestToolCall:
    @pytest.mark.parametrize("field_name", ["id", "name", "arguments"])
    def test_fields_must_be_strings(self, field_name: str) -> None:
        """Each tool-call field must be a string, and the error names the field."""
        fields: dict[str, Any] = {"id": "c", "name": "n", "arguments": "{}", field_name: 7}
        with invalid(f"ToolCall.{field_name}", "a string", "7"):
            ToolCall(**fields)

    def test_name_must_not_be_empty(self) -> None:
        """A nameless tool call cannot be dispatched, so it is refused."""
        with invalid("ToolCall.name", "a non-empty string", "''"):
            ToolCall(id="c", name="")

    def test_arguments_default_to_empty_object(self) -> None:
        """A call with no arguments parses to an empty object."""
        assert ToolCall(id="c", name="n").parsed_arguments() == {}

    def test_parsed_arguments_decodes_json(self) -> None:
        """Arguments are decoded from their JSON text."""
        assert call().parsed_arguments() == {"city": "Oslo"}

    def test_bad_json_is_an_invalid_response(self) -> None:
        """Arguments that are not JSON are the model's fault: invalid_response, cause kept."""
        bad = ToolCall(id="call_9", name="n", arguments="{city: Oslo")
        with raises(InvalidResponseError, "'call_9'", "not JSON", "'{city: Oslo'") as e:
            bad.parsed_arguments()
        assert e.value.code is ErrorCode.INVALID_RESPONSE
        assert isinstance(e.value.__cause__, ValueError)


class TestFromDict:
    def test_openai_style_mapping(self) -> None:
        """An OpenAI-style mapping with tool calls becomes the equivalent Message."""
        message = Message.from_dict(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call_0", "name": "get_weather", "arguments": "{}"}],
            }
        )
        assert message == Message.assistant("", [ToolCall("call_0", "get_weather", "{}")])

    def test_tool_call_objects_pass_through(self) -> None:
        """ToolCall instances inside a mapping are kept as they are."""
        message = Message.from_dict({"role": "assistant", "tool_calls": [call()]})
        assert message.tool_calls == (call(),)

    def test_tool_result_mapping(self) -> None:
        """A tool mapping keeps its call id and name."""
        message = Message.from_dict(
            {"role": "tool", "content": "3", "tool_call_id": "c", "name": "add"}
        )
        assert message == Message.tool("3", "c", "add")

    def test_unknown_keys_are_listed(self) -> None:
        """Unknown keys are refused, all named, sorted."""
        with invalid("message keys", "['colour', 'mood']"):
            Message.from_dict({"role": "user", "content": "x", "mood": 1, "colour": 2})

    def test_missing_role(self) -> None:
        """A mapping without a role is refused, quoting the mapping."""
        with invalid("message", "'role'", "{'content': 'hi'}"):
            Message.from_dict({"content": "hi"})

    def test_unknown_role(self) -> None:
        """A bad role in a mapping gets the same error as in the constructor."""
        with invalid("Message.role", "'robot'"):
            Message.from_dict({"role": "robot", "content": "x"})

    def test_not_a_mapping(self) -> None:
        """Something other than a mapping is refused with the accepted forms named."""
        with invalid("message", "a Message or a mapping", "'hello'"):
            Message.from_dict("hello")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "tool_calls",
        ["call_0", {"id": "c", "name": "n"}, 5],
        ids=["string", "mapping", "int"],
    )
    def test_tool_calls_not_a_sequence(self, tool_calls: object) -> None:
        """tool_calls that is not a sequence of calls is refused, quoting it."""
        with invalid("message tool_calls", "a sequence of tool calls", repr(tool_calls)):
            Message.from_dict({"role": "assistant", "tool_calls": tool_calls})

    @pytest.mark.parametrize(
        "item",
        [
            {"id": "c"},
            {"name": "n"},
            {"id": "c", "name": "n", "function": {}},
            "call_0",
            ("c", "n"),
        ],
        ids=["no-name", "no-id", "extra-key", "string", "tuple"],
    )
    def test_malformed_tool_call_item(self, item: object) -> None:
        """Each malformed tool-call entry is invalid input quoting the entry."""
        with invalid("tool call", "a ToolCall or a mapping with id, name, arguments", repr(item)):
            Message.from_dict({"role": "assistant", "tool_calls": [item]})

    def test_tool_call_with_bad_field_type(self) -> None:
        """A tool-call mapping with a non-string field fails on that field."""
        with invalid("ToolCall.arguments", "a string"):
            Message.from_dict(
                {"role": "assistant", "tool_calls": [{"id": "c", "name": "n", "arguments": {}}]}
            )

    def test_empty_tool_calls_is_allowed_on_any_role(self) -> None:
        """An empty or null tool_calls entry means no calls, even on a user message."""
        for empty in (None, []):
            data = {"role": "user", "content": "x", "tool_calls": empty}
            assert Message.from_dict(data).tool_calls == ()


class TestCoerceMessages:
    def test_string_is_one_user_message(self) -> None:
        """A bare string is shorthand for a single user turn."""
        assert coerce_messages("hello") == (Message.user("hello"),)

    def test_mixed_messages_and_mappings(self) -> None:
        """Messages and mappings can be mixed; order is kept."""
        result = coerce_messages([Message.system("s"), {"role": "user", "content": "u"}])
        assert result == (Message.system("s"), Message.user("u"))

    def test_generator_is_accepted(self) -> None:
        """Any iterable of messages works, not only lists."""
        assert coerce_messages(Message.user(t) for t in "ab") == (
            Message.user("a"),
            Message.user("b"),
        )

    def test_empty_list_is_refused(self) -> None:
        """An empty conversation is invalid input."""
        with invalid("messages", "at least one message", "[]"):
            coerce_messages([])

    def test_mapping_instead_of_list(self) -> None:
        """A single mapping is refused rather than iterated over its keys."""
        with invalid("messages", "a sequence of Message or a string", "'role'"):
            coerce_messages({"role": "user", "content": "x"})  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [None, 42, 1.5])
    def test_non_iterable(self, value: object) -> None:
        """A non-iterable is refused, quoting it."""
        with invalid("messages", repr(value)):
            coerce_messages(value)  # type: ignore[arg-type]

    def test_bad_item_is_reported(self) -> None:
        """A bad item in the list surfaces its own error."""
        with invalid("Message.role", "'nobody'"):
            coerce_messages([Message.user("ok"), {"role": "nobody", "content": "x"}])


class TestUsage:
    def test_total_defaults_to_sum(self) -> None:
        """Without a total, it is input plus output."""
        assert Usage(3, 4).total_tokens == 7

    def test_explicit_total_is_kept(self) -> None:
        """An explicit total is kept even if inconsistent; the conformance suite judges that."""
        assert Usage(3, 4, 100).total_tokens == 100

    @pytest.mark.parametrize("field_name", ["input_tokens", "output_tokens"])
    @pytest.mark.parametrize("value", [-1, True, 1.0, "3", None])
    def test_counts_must_be_non_negative_ints(self, field_name: str, value: object) -> None:
        """Negative, bool, float, text or missing counts are refused with the field named."""
        fields: dict[str, Any] = {"input_tokens": 1, "output_tokens": 1, field_name: value}
        with invalid(f"Usage.{field_name}", "a non-negative int", repr(value)):
            Usage(**fields)

    @pytest.mark.parametrize("value", [True, 2.5, "9"])
    def test_total_must_be_int(self, value: object) -> None:
        """A total that is not an int is refused with the field named."""
        with invalid("Usage.total_tokens", "a non-negative int", repr(value)):
            Usage(1, 1, value)  # type: ignore[arg-type]

    def test_negative_total_refused(self) -> None:
        """An explicit negative total is as impossible as a negative count."""
        with invalid("Usage.total_tokens", "-5"):
            Usage(1, 1, -5)

    @given(st.integers(min_value=0, max_value=2**40), st.integers(min_value=0, max_value=2**40))
    def test_total_is_sum_for_any_counts(self, i: int, o: int) -> None:
        """For any non-negative counts the default total is their sum."""
        assert Usage(i, o).total_tokens == i + o


class TestChatResult:
    @pytest.mark.parametrize("reason", [r.value for r in FinishReason])
    def test_finish_reason_coerced(self, reason: str) -> None:
        """A finish reason given as a string becomes the enum member."""
        result = ChatResult(Message.assistant("x"), reason, "m", "r1")  # type: ignore[arg-type]
        assert result.finish_reason is FinishReason(reason)

    def test_finish_reason_set(self) -> None:
        """The five finish reasons are exactly those the interface names."""
        assert {r.value for r in FinishReason} == {
            "stop",
            "length",
            "tool_calls",
            "content_filter",
            "error",
        }

    @pytest.mark.parametrize("reason", ["done", None, 3])
    def test_bad_finish_reason(self, reason: object) -> None:
        """An unknown finish reason is refused, naming the field and the allowed values."""
        with invalid("ChatResult.finish_reason", repr(reason), "'stop'", "'tool_calls'"):
            ChatResult(Message.assistant("x"), reason, "m", "r1")  # type: ignore[arg-type]

    def test_text_and_tool_calls_shortcuts(self) -> None:
        """text and tool_calls read through to the message."""
        result = ChatResult(Message.assistant("hi", [call()]), "tool_calls", "m", "r")  # type: ignore[arg-type]
        assert result.text == "hi"
        assert result.tool_calls == (call(),)


class TestChatChunk:
    def test_defaults_are_an_empty_delta(self) -> None:
        """A bare chunk carries nothing and no finish reason."""
        chunk = ChatChunk()
        assert (chunk.delta, chunk.tool_call_deltas, chunk.finish_reason, chunk.usage) == (
            "",
            (),
            None,
            None,
        )

    def test_finish_reason_coerced(self) -> None:
        """A string finish reason on a chunk becomes the enum member."""
        assert ChatChunk(finish_reason="length").finish_reason is FinishReason.LENGTH  # type: ignore[arg-type]

    def test_bad_finish_reason(self) -> None:
        """An unknown finish reason on a chunk is refused, naming the chunk field."""
        with invalid("ChatChunk.finish_reason", "'eof'"):
            ChatChunk(finish_reason="eof")  # type: ignore[arg-type]

    def test_deltas_list_becomes_tuple(self) -> None:
        """Tool-call deltas given as a list are stored as a tuple."""
        chunk = ChatChunk(tool_call_deltas=[ToolCallDelta(0, "c", "n")])  # type: ignore[arg-type]
        assert chunk.tool_call_deltas == (ToolCallDelta(0, "c", "n"),)


class TestMergeChunks:
    def test_concatenates_text_and_takes_final_fields(self) -> None:
        """Text concatenates; finish and usage come from the last chunk; ids from the first."""
        result = merge_chunks(
            [
                ChatChunk("Hel", model="m-1", response_id="r-1"),
                ChatChunk("lo, ", usage=Usage(1, 1)),
                ChatChunk("world", finish_reason=FinishReason.STOP, usage=Usage(2, 3)),
            ]
        )
        assert result == ChatResult(
            message=Message.assistant("Hello, world"),
            finish_reason=FinishReason.STOP,
            model="m-1",
            response_id="r-1",
            usage=Usage(2, 3),
        )

    def test_assembles_tool_calls_by_index(self) -> None:
        """Interleaved fragments join per index, ordered by index, id and name from the first."""
        chunks = [
            ChatChunk(tool_call_deltas=(ToolCallDelta(1, "call_b", "lookup", '{"q"'),)),
            ChatChunk(tool_call_deltas=(ToolCallDelta(0, "call_a", "add", '{"a": 1'),)),
            ChatChunk(
                tool_call_deltas=(
                    ToolCallDelta(1, arguments=': "x"}'),
                    ToolCallDelta(0, arguments=', "b": 2}'),
                )
            ),
            ChatChunk(finish_reason=FinishReason.TOOL_CALLS),
        ]
        result = merge_chunks(chunks)
        assert result.tool_calls == (
            ToolCall("call_a", "add", '{"a": 1, "b": 2}'),
            ToolCall("call_b", "lookup", '{"q": "x"}'),
        )
        assert [c.parsed_arguments() for c in result.tool_calls] == [{"a": 1, "b": 2}, {"q": "x"}]
        assert result.finish_reason is FinishReason.TOOL_CALLS

    def test_tool_call_without_arguments_gets_empty_object(self) -> None:
        """A streamed call with no argument fragments has '{}' as arguments."""
        result = merge_chunks(
            [ChatChunk(tool_call_deltas=(ToolCallDelta(0, "c", "n"),), finish_reason="tool_calls")]  # type: ignore[arg-type]
        )
        assert result.tool_calls == (ToolCall("c", "n", "{}"),)

    def test_missing_finish_is_invalid_response(self) -> None:
        """A stream that never says why it stopped was cut short: invalid_response."""
        with raises(InvalidResponseError, "without a finish reason") as e:
            merge_chunks([ChatChunk("partial")])
        assert e.value.code is ErrorCode.INVALID_RESPONSE
        assert e.value.op == "stream"

    def test_empty_stream_is_invalid_response(self) -> None:
        """No chunks at all is also a cut-short stream."""
        with pytest.raises(InvalidResponseError):
            merge_chunks([])

    def test_later_finish_overrides_earlier(self) -> None:
        """The last finish reason seen wins."""
        result = merge_chunks(
            [ChatChunk("a", finish_reason="stop"), ChatChunk("b", finish_reason="length")]  # type: ignore[arg-type]
        )
        assert (result.text, result.finish_reason) == ("ab", FinishReason.LENGTH)

    def test_nameless_streamed_tool_call_is_invalid_response(self) -> None:
        """A tool-call fragment stream that never names the tool is a malformed response."""
        with pytest.raises(InvalidResponseError):
            merge_chunks(
                [ChatChunk(tool_call_deltas=(ToolCallDelta(0, "c"),), finish_reason="tool_calls")]  # type: ignore[arg-type]
            )


# -- properties ------------------------------------------------------------------------

_text = st.text(max_size=40)
_ids = st.text(alphabet="abcdefghij0123456789_", min_size=1, max_size=8)
_tool_calls = st.lists(
    st.builds(ToolCall, id=_ids, name=_ids, arguments=st.just("{}")), max_size=3
).map(tuple)


@st.composite
def valid_messages(draw: st.DrawFn) -> Message:
    """Draw a message that satisfies every construction rule."""
    role = draw(st.sampled_from(list(Role)))
    return Message(
        role=role,
        content=draw(_text),
        tool_calls=draw(_tool_calls) if role is Role.ASSISTANT else (),
        tool_call_id=draw(_ids) if role is Role.TOOL else None,
        name=draw(st.none() | _ids),
    )


class TestProperties:
    @given(valid_messages(), st.booleans())
    def test_from_dict_of_fields_round_trips(self, message: Message, string_role: bool) -> None:
        """Any valid message rebuilt by from_dict from its own fields is equal to itself."""
        data = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
        if string_role:
            data["role"] = message.role.value
            data["tool_calls"] = [dataclasses.asdict(c) for c in message.tool_calls]
        assert Message.from_dict(data) == message

    @given(_text, st.lists(st.integers(min_value=0, max_value=40), max_size=8))
    def test_split_and_merge_gives_text_back(self, text: str, cuts: list[int]) -> None:
        """Splitting any text into chunks at any points and merging gives the text back."""
        points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
        pieces = [text[a:b] for a, b in itertools.pairwise(points)]
        chunks = [ChatChunk(p) for p in pieces] + [ChatChunk(finish_reason=FinishReason.STOP)]
        assert merge_chunks(chunks).text == text
