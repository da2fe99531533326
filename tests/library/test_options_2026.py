"""Tests of the 2026 chat options: structured output, parallel tool calls, reasoning, model."""

from __future__ import annotations

import pytest

from chatmodels.errors import InvalidInputError
from chatmodels.options import (
    ChatOptions,
    JsonSchemaFormat,
    ResponseFormat,
    coerce_options,
)

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


class TestJsonSchemaFormat:
    def test_schema_is_copied(self) -> None:
        """Changing the caller's dict later does not change the frozen options."""
        schema = {"type": "object", "properties": {}}
        fmt = JsonSchemaFormat(schema, name="city", strict=True)
        schema["properties"] = {"x": {}}
        assert fmt.schema == {"type": "object", "properties": {}}

    @pytest.mark.parametrize(
        ("kwargs", "fragment"),
        [
            ({"schema": {}}, "non-empty JSON Schema"),
            ({"schema": "object"}, "non-empty JSON Schema"),
            ({"schema": {"type": object}}, "made of JSON values"),
            ({"schema": SCHEMA, "name": "has space"}, "JsonSchemaFormat.name"),
            ({"schema": SCHEMA, "strict": "yes"}, "JsonSchemaFormat.strict"),
        ],
    )
    def test_bad_values_are_named(self, kwargs: dict[str, object], fragment: str) -> None:
        """Each bad field fails when built, naming what was expected."""
        with pytest.raises(InvalidInputError, match=fragment):
            JsonSchemaFormat(**kwargs)  # type: ignore[arg-type]

    def test_openai_style_mapping_is_read(self) -> None:
        """The chat-completions response_format mapping coerces to JsonSchemaFormat."""
        options = coerce_options(
            {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "city", "schema": SCHEMA, "strict": True},
                }
            }
        )
        assert options.json_schema == JsonSchemaFormat(SCHEMA, "city", strict=True)
        assert options.wants_json

    def test_unknown_keys_in_the_mapping_are_refused(self) -> None:
        """A typo in the inner mapping is an error, not ignored."""
        with pytest.raises(InvalidInputError, match="response_format"):
            ChatOptions(response_format={"schema": SCHEMA, "stric": True})  # type: ignore[arg-type]

    def test_json_mode_is_unchanged(self) -> None:
        """'json' is still JSON mode, without a schema."""
        options = ChatOptions(response_format="json")  # type: ignore[arg-type]
        assert options.response_format is ResponseFormat.JSON
        assert options.json_schema is None
        assert options.wants_json


class TestNewFields:
    @pytest.mark.parametrize(
        ("field", "value", "fragment"),
        [
            ("parallel_tool_calls", "yes", "None, True or False"),
            ("reasoning_effort", "max", "reasoning_effort"),
            ("model", "  ", "non-empty model name"),
            ("model", 3, "non-empty model name"),
        ],
    )
    def test_bad_values_are_refused(self, field: str, value: object, fragment: str) -> None:
        """Each new field is validated when the options are built."""
        with pytest.raises(InvalidInputError, match=fragment):
            ChatOptions(**{field: value})  # type: ignore[arg-type]

    def test_merged_over_defaults(self) -> None:
        """Unset new fields come from the model's defaults; a set False is kept."""
        defaults = ChatOptions(parallel_tool_calls=True, reasoning_effort="low", model="m2")
        merged = ChatOptions(parallel_tool_calls=False).merged_over(defaults)
        assert (merged.parallel_tool_calls, merged.reasoning_effort, merged.model) == (
            False,
            "low",
            "m2",
        )
