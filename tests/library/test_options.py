"""Tests of chatmodels.options: range rules, tools, tool_choice, coercion and merging."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatmodels.errors import ErrorCode, InvalidInputError
from chatmodels.options import ChatOptions, ResponseFormat, ToolSpec, coerce_options

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather",
    {"type": "object", "properties": {"city": {"type": "string"}}},
)
CLOCK = ToolSpec("get_time")


@contextmanager
def invalid(*fragments: str) -> Iterator[pytest.ExceptionInfo[InvalidInputError]]:
    """Expect an options error whose message holds every fragment: field, value, expectation."""
    with pytest.raises(InvalidInputError) as info:
        yield info
    error = info.value
    missing = [f for f in fragments if f not in str(error)]
    assert not missing, f"{missing!r} not in {str(error)!r}"
    assert (error.code, error.op, error.retryable) == (ErrorCode.INVALID_INPUT, "options", False)
    assert isinstance(error, ValueError)


class TestDefaults:
    def test_blank_options_leave_everything_unset(self) -> None:
        """A bare ChatOptions sets nothing the provider must honour."""
        options = ChatOptions()
        assert (options.temperature, options.top_p, options.max_tokens) == (None, None, None)
        assert (options.stop, options.tools, options.tool_choice) == ((), (), None)
        assert options.response_format is None
        assert (options.seed, options.timeout, dict(options.extra)) == (None, None, {})


class TestRanges:
    @pytest.mark.parametrize("value", [0, 0.0, 0.7, 2, 5.5])
    def test_temperature_accepts_non_negative(self, value: float) -> None:
        """Any finite temperature >= 0 is accepted."""
        assert ChatOptions(temperature=value).temperature == value

    @pytest.mark.parametrize("value", [-0.1, -1, math.nan, math.inf, True, "0.5"])
    def test_temperature_rejects(self, value: object) -> None:
        """Negative, non-finite, bool or text temperatures are refused, quoted."""
        with invalid("temperature", "a number >= 0", repr(value)):
            ChatOptions(temperature=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [1e-9, 0.5, 1, 1.0])
    def test_top_p_accepts_half_open_unit_interval(self, value: float) -> None:
        """top_p in (0, 1] is accepted, 1 included."""
        assert ChatOptions(top_p=value).top_p == value

    @pytest.mark.parametrize("value", [0, 0.0, -0.5, 1.0001, 2, math.nan, -math.inf, False])
    def test_top_p_rejects(self, value: object) -> None:
        """top_p outside (0, 1], non-finite or bool is refused."""
        with invalid("top_p", "a number in (0, 1]", repr(value)):
            ChatOptions(top_p=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [1, 4096])
    def test_max_tokens_accepts_positive_int(self, value: int) -> None:
        """max_tokens of at least one is accepted."""
        assert ChatOptions(max_tokens=value).max_tokens == value

    @pytest.mark.parametrize("value", [0, -3, True, 1.0, 10.5, "10"])
    def test_max_tokens_rejects(self, value: object) -> None:
        """max_tokens below one, bool, float or text is refused."""
        with invalid("max_tokens", "an int >= 1", repr(value)):
            ChatOptions(max_tokens=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [0.001, 1, 30.0])
    def test_timeout_accepts_positive(self, value: float) -> None:
        """A positive finite timeout is accepted."""
        assert ChatOptions(timeout=value).timeout == value

    @pytest.mark.parametrize("value", [0, 0.0, -1, math.nan, math.inf, True])
    def test_timeout_rejects(self, value: object) -> None:
        """A timeout that is not a positive finite number of seconds is refused."""
        with invalid("timeout", "a number of seconds > 0", repr(value)):
            ChatOptions(timeout=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [True, 1.5, "7"])
    def test_seed_must_be_int(self, value: object) -> None:
        """A seed must be a plain int."""
        with invalid("seed", "an int", repr(value)):
            ChatOptions(seed=value)  # type: ignore[arg-type]

    def test_seed_accepts_any_int(self) -> None:
        """Zero and negative seeds are ints too."""
        assert ChatOptions(seed=-5).seed == -5


class TestStop:
    def test_string_becomes_one_sequence(self) -> None:
        """A single stop string is one stop sequence, not one per character."""
        assert ChatOptions(stop="END").stop == ("END",)  # type: ignore[arg-type]

    def test_list_becomes_tuple(self) -> None:
        """A list of stop sequences is kept in order as a tuple."""
        assert ChatOptions(stop=["\n\n", "END"]).stop == ("\n\n", "END")  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [[""], ["ok", 3], [None]])
    def test_items_must_be_non_empty_strings(self, value: object) -> None:
        """Empty or non-string stop sequences are refused, quoting the whole value."""
        with invalid("stop", "non-empty strings", repr(value)):
            ChatOptions(stop=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", [None, 5])
    def test_non_iterable_refused(self, value: object) -> None:
        """A stop value that is neither a string nor a sequence is refused."""
        with invalid("stop", "a string or a sequence", repr(value)):
            ChatOptions(stop=value)  # type: ignore[arg-type]


class TestToolSpec:
    def test_default_parameters_are_an_empty_object_schema(self) -> None:
        """A tool without parameters takes no arguments."""
        assert CLOCK.parameters == {"type": "object", "properties": {}}

    @pytest.mark.parametrize("name", ["", "   ", None, 3])
    def test_name_must_be_non_empty_string(self, name: object) -> None:
        """A tool needs a real name."""
        with invalid("ToolSpec.name", "a non-empty string", repr(name)):
            ToolSpec(name)  # type: ignore[arg-type]

    @pytest.mark.parametrize("schema", [{"type": "string"}, {}, "object", None])
    def test_parameters_must_be_object_schema(self, schema: object) -> None:
        """Parameters must be a JSON Schema of type object."""
        with invalid("ToolSpec.parameters", "a JSON Schema of type 'object'", repr(schema)):
            ToolSpec("t", parameters=schema)  # type: ignore[arg-type]


class TestTools:
    def test_mappings_become_tool_specs(self) -> None:
        """Tools given as mappings are built into ToolSpecs."""
        options = ChatOptions(
            tools=({"name": "get_time"}, WEATHER)  # type: ignore[arg-type]
        )
        assert options.tools == (CLOCK, WEATHER)

    def test_duplicate_names_refused(self) -> None:
        """Two tools with one name would be ambiguous, so they are refused, names quoted."""
        with invalid("tools", "unique names", "['get_time', 'get_time']"):
            ChatOptions(tools=(CLOCK, ToolSpec("get_time", "again")))

    @pytest.mark.parametrize("value", ["get_time", {"name": "get_time"}, 3])
    def test_tools_must_be_a_sequence(self, value: object) -> None:
        """A string, a single mapping or a number is not a list of tools."""
        with invalid("tools", "a sequence of ToolSpec or mappings", repr(value)):
            ChatOptions(tools=value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "item",
        [{"description": "no name"}, {"name": "t", "function": {}}],
        ids=["no-name", "unknown-key"],
    )
    def test_malformed_tool_mapping(self, item: dict[str, Any]) -> None:
        """A tool mapping without a name or with unknown keys is refused, quoting it."""
        with invalid("tools[]", "keys name, description and parameters", repr(item)):
            ChatOptions(tools=(item,))  # type: ignore[arg-type]

    def test_non_mapping_item(self) -> None:
        """A tool that is neither a ToolSpec nor a mapping is refused."""
        with invalid("tools[]", "a ToolSpec or a mapping", "'get_time'"):
            ChatOptions(tools=["get_time"])  # type: ignore[list-item]


class TestToolChoice:
    @pytest.mark.parametrize("mode", ["auto", "none", "required"])
    def test_modes_accepted_with_tools(self, mode: str) -> None:
        """The three modes are accepted and force no particular tool."""
        options = ChatOptions(tools=(WEATHER,), tool_choice=mode)
        assert options.tool_choice == mode
        assert options.forced_tool is None

    @pytest.mark.parametrize("mode", ["auto", "none", "required"])
    def test_modes_accepted_without_tools(self, mode: str) -> None:
        """A mode without tools is allowed, since per-call tools may come from model defaults."""
        assert ChatOptions(tool_choice=mode).tool_choice == mode

    def test_named_tool_is_forced(self) -> None:
        """Naming an offered tool forces it."""
        options = ChatOptions(tools=(WEATHER, CLOCK), tool_choice="get_time")
        assert options.forced_tool == "get_time"

    def test_unset_forces_nothing(self) -> None:
        """Without tool_choice no tool is forced."""
        assert ChatOptions(tools=(WEATHER,)).forced_tool is None

    def test_unknown_tool_lists_offered(self) -> None:
        """Naming a tool that is not offered is refused, listing the offered names."""
        with invalid("tool_choice", "'get_stock'", "one of the offered tools", "'get_weather'"):
            ChatOptions(tools=(WEATHER,), tool_choice="get_stock")

    def test_named_tool_without_tools(self) -> None:
        """Naming a tool when no tools are offered, here or in the defaults, is refused."""
        with invalid("tool_choice", "'get_weather'", "a mode, since no tools are offered"):
            ChatOptions(tool_choice="get_weather").merged_over(ChatOptions())

    def test_named_tool_may_come_from_the_defaults(self) -> None:
        """A call may force one of the tools its model offers by default."""
        defaults = ChatOptions(tools=(WEATHER, CLOCK))
        merged = ChatOptions(tool_choice="get_time").merged_over(defaults)
        assert merged.tools == (WEATHER, CLOCK)
        assert merged.forced_tool == "get_time"
        with invalid("tool_choice", "'get_stock'", "one of the offered tools"):
            ChatOptions(tool_choice="get_stock").merged_over(defaults)

    @pytest.mark.parametrize("value", ["", 3, True])
    def test_bad_type_or_empty(self, value: object) -> None:
        """An empty or non-string tool_choice is refused, listing the modes."""
        with invalid("tool_choice", "'auto', 'none', 'required' or a tool name", repr(value)):
            ChatOptions(tools=(WEATHER,), tool_choice=value)  # type: ignore[arg-type]


class TestResponseFormat:
    @pytest.mark.parametrize("value", ["json", ResponseFormat.JSON])
    def test_json_coerced(self, value: object) -> None:
        """The string 'json' becomes the enum member."""
        assert ChatOptions(response_format=value).response_format is ResponseFormat.JSON  # type: ignore[arg-type]

    @pytest.mark.parametrize("value", ["xml", "JSON", "", 1])
    def test_unknown_refused(self, value: object) -> None:
        """Anything but text, json or None is refused, quoting the value."""
        with invalid("response_format", "'text', 'json', a JsonSchemaFormat or None", repr(value)):
            ChatOptions(response_format=value)  # type: ignore[arg-type]

    def test_explicit_text_overrides_a_json_default(self) -> None:
        """Unset takes the model's json default; an explicit 'text' keeps text."""
        defaults = ChatOptions(response_format=ResponseFormat.JSON)
        assert ChatOptions().merged_over(defaults).response_format is ResponseFormat.JSON
        explicit = ChatOptions(response_format="text").merged_over(defaults)  # type: ignore[arg-type]
        assert explicit.response_format is ResponseFormat.TEXT


class TestExtra:
    def test_mapping_kept(self) -> None:
        """Provider-specific extras are carried through."""
        assert dict(ChatOptions(extra={"logprobs": True}).extra) == {"logprobs": True}

    @pytest.mark.parametrize("value", [None, ["a"], "k=v"])
    def test_must_be_mapping(self, value: object) -> None:
        """extra that is not a mapping is refused."""
        with invalid("extra", "a mapping", repr(value)):
            ChatOptions(extra=value)  # type: ignore[arg-type]


class TestCoerceOptions:
    def test_none_is_blank(self) -> None:
        """None means no options."""
        assert coerce_options(None) == ChatOptions()

    def test_instance_passes_through(self) -> None:
        """A ChatOptions is returned as is."""
        options = ChatOptions(temperature=0.2)
        assert coerce_options(options) is options

    def test_mapping_builds_options(self) -> None:
        """A mapping builds options, with stop and tools lists normalised."""
        options = coerce_options(
            {"temperature": 0, "stop": ["x"], "tools": [{"name": "get_time"}], "seed": 1}
        )
        assert options == ChatOptions(temperature=0, stop=("x",), tools=(CLOCK,), seed=1)

    def test_mapping_stop_string(self) -> None:
        """A stop string in a mapping is one stop sequence."""
        assert coerce_options({"stop": "END"}).stop == ("END",)

    def test_unknown_keys_listed(self) -> None:
        """Unknown keys are refused, not ignored: all are listed, with the known keys."""
        with invalid("options", "['temprature', 'top_k']", "'temperature'", "'max_tokens'"):
            coerce_options({"temprature": 0.1, "top_k": 5})

    @pytest.mark.parametrize("value", ["temperature=0", 0.5, [("temperature", 0)]])
    def test_wrong_type(self, value: object) -> None:
        """Options that are not ChatOptions, a mapping or None are refused."""
        with invalid("options", "a ChatOptions, a mapping or None", repr(value)):
            coerce_options(value)  # type: ignore[arg-type]

    def test_bad_value_in_mapping(self) -> None:
        """A bad value inside a mapping fails on its field."""
        with invalid("max_tokens", "0"):
            coerce_options({"max_tokens": 0})

    def test_unknown_non_string_keys(self) -> None:
        """A mapping with a non-string unknown key among string keys is still invalid input."""
        with invalid("options"):
            coerce_options({1: "x", "top_k": 5})  # type: ignore[dict-item]


class TestMergedOver:
    def test_unset_fields_take_defaults(self) -> None:
        """Fields left unset take the defaults; fields set win."""
        defaults = ChatOptions(
            temperature=0.9, max_tokens=100, stop=("END",), tools=(WEATHER,), seed=3, timeout=10
        )
        merged = ChatOptions(temperature=0.1, tool_choice="required").merged_over(defaults)
        assert merged == ChatOptions(
            temperature=0.1,
            max_tokens=100,
            stop=("END",),
            tools=(WEATHER,),
            tool_choice="required",
            seed=3,
            timeout=10,
        )

    def test_extra_is_merged_call_wins(self) -> None:
        """Extras merge key by key, the call's value winning."""
        defaults = ChatOptions(extra={"a": 1, "b": 2})
        merged = ChatOptions(extra={"b": 3, "c": 4}).merged_over(defaults)
        assert dict(merged.extra) == {"a": 1, "b": 3, "c": 4}

    def test_blank_over_defaults_is_defaults(self) -> None:
        """Blank options over defaults equal the defaults."""
        defaults = ChatOptions(top_p=0.5, response_format="json", extra={"k": 1})  # type: ignore[arg-type]
        assert ChatOptions().merged_over(defaults) == defaults

    def test_over_blank_is_unchanged(self) -> None:
        """Options over blank defaults are unchanged."""
        options = ChatOptions(temperature=1.0, stop=("x",))
        assert options.merged_over(ChatOptions()) == options


# -- properties ------------------------------------------------------------------------

_finite = {"allow_nan": False, "allow_infinity": False}
valid_option_mappings = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(min_value=0, max_value=2, **_finite),
        "top_p": st.floats(min_value=0, max_value=1, exclude_min=True, **_finite),
        "max_tokens": st.integers(min_value=1, max_value=100_000),
        "stop": st.lists(st.text(min_size=1, max_size=5), max_size=4),
        "seed": st.integers(),
        "timeout": st.floats(min_value=0, exclude_min=True, max_value=600, **_finite),
        "response_format": st.sampled_from(["text", "json"]),
        "tool_choice": st.sampled_from(["auto", "none", "required"]),
        "extra": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    },
)
invalid_temperatures = (
    st.floats(max_value=0, exclude_max=True, allow_nan=False)
    | st.sampled_from([math.nan, math.inf, -math.inf, True, False])
    | st.text(max_size=3)
)


class TestProperties:
    @given(valid_option_mappings)
    def test_valid_mappings_build(self, mapping: dict[str, Any]) -> None:
        """Every mapping of in-range values builds options holding those values."""
        options = coerce_options(mapping)
        for key, value in mapping.items():
            got = getattr(options, key)
            if key == "stop":
                assert got == tuple(value)
            elif key == "extra":
                assert dict(got) == value
            else:
                assert got == value

    @given(invalid_temperatures)
    def test_invalid_temperature_always_named(self, value: object) -> None:
        """Every out-of-range or wrongly typed temperature is refused naming temperature."""
        with invalid("temperature", repr(value)):
            coerce_options({"temperature": value})
