"""Per-call generation options, validated when built so bad values fail before any I/O."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatmodels.errors import InvalidInputError

__all__ = [
    "REASONING_EFFORTS",
    "ChatOptions",
    "JsonSchemaFormat",
    "OptionsLike",
    "ResponseFormat",
    "ToolSpec",
    "coerce_options",
]


class ResponseFormat(str, enum.Enum):
    """The shape the answer must take."""

    TEXT = "text"
    JSON = "json"

    def __str__(self) -> str:
        return self.value


def _invalid(field_name: str, value: object, expected: str) -> InvalidInputError:
    msg = f"{field_name} must be {expected}, got {value!r}"
    return InvalidInputError(msg, op="options")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: The values of ``reasoning_effort``, from none to most.
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")


@dataclass(frozen=True, slots=True)
class JsonSchemaFormat:
    """Structured output: the answer is a JSON value valid against ``schema``.

    With ``strict`` the provider must guarantee it (constrained decoding); without, it asks.
    The schema is copied when built, so later changes to the caller's dict do not leak in.
    """

    schema: Mapping[str, Any]
    name: str = "response"
    strict: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.schema, Mapping) or not self.schema:
            raise _invalid("JsonSchemaFormat.schema", self.schema, "a non-empty JSON Schema")
        try:
            copied = json.loads(json.dumps(self.schema, allow_nan=False))
        except (TypeError, ValueError):
            msg = "a JSON Schema made of JSON values"
            raise _invalid("JsonSchemaFormat.schema", self.schema, msg) from None
        object.__setattr__(self, "schema", copied)
        if not isinstance(self.name, str) or not _SCHEMA_NAME.match(self.name):
            msg = "1 to 64 letters, digits, '_' or '-'"
            raise _invalid("JsonSchemaFormat.name", self.name, msg)
        if not isinstance(self.strict, bool):
            raise _invalid("JsonSchemaFormat.strict", self.strict, "True or False")
        if not isinstance(self.description, str):
            raise _invalid("JsonSchemaFormat.description", self.description, "a string")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JsonSchemaFormat:
        """Read ``{"type": "json_schema", "json_schema": {...}}`` or the inner mapping."""
        inner = data.get("json_schema", data) if data.get("type") == "json_schema" else data
        if not isinstance(inner, Mapping) or set(inner) - {
            "schema",
            "name",
            "strict",
            "description",
        }:
            msg = "a mapping with schema, and optionally name, strict and description"
            raise _invalid("response_format", dict(data), msg)
        return cls(**inner)


def _response_format(value: object) -> ResponseFormat | JsonSchemaFormat:
    if isinstance(value, JsonSchemaFormat):
        return value
    if isinstance(value, Mapping):
        return JsonSchemaFormat.from_dict(value)
    try:
        return ResponseFormat(value)
    except ValueError:
        msg = "'text', 'json', a JsonSchemaFormat or None"
        raise _invalid("response_format", value, msg) from None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model may call; ``parameters`` is the JSON Schema of its arguments."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _invalid("ToolSpec.name", self.name, "a non-empty string")
        if not isinstance(self.parameters, Mapping) or self.parameters.get("type") != "object":
            raise _invalid("ToolSpec.parameters", self.parameters, "a JSON Schema of type 'object'")


_TOOL_CHOICE_MODES = ("auto", "none", "required")


def _tool_spec(value: object) -> ToolSpec:
    if isinstance(value, ToolSpec):
        return value
    if not isinstance(value, Mapping):
        raise _invalid("tools[]", value, "a ToolSpec or a mapping with name and parameters")
    unknown = sorted(set(value) - {"name", "description", "parameters"})
    if unknown or "name" not in value:
        raise _invalid("tools[]", dict(value), "keys name, description and parameters")
    return ToolSpec(**value)


@dataclass(frozen=True, slots=True)
class ChatOptions:
    """Generation settings for one call; unset fields leave the provider's defaults."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None
    #: None answers in text unless the model's defaults ask for json; TEXT insists on text.
    response_format: ResponseFormat | JsonSchemaFormat | None = None
    seed: int | None = None
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: True lets the model return several tool calls in one answer; False at most one.
    parallel_tool_calls: bool | None = None
    #: How much the model should reason before answering: one of REASONING_EFFORTS.
    reasoning_effort: str | None = None
    #: Answer with this model instead of the chat model's own, for this call only.
    model: str | None = None

    def __post_init__(self) -> None:
        self._check_sampling()
        self._check_stop_and_tools()
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int)
        ):
            raise _invalid("seed", self.seed, "an int")
        if self.timeout is not None and (not _is_number(self.timeout) or self.timeout <= 0):
            raise _invalid("timeout", self.timeout, "a number of seconds > 0")
        if self.response_format is not None:
            object.__setattr__(self, "response_format", _response_format(self.response_format))
        if not isinstance(self.extra, Mapping):
            raise _invalid("extra", self.extra, "a mapping")
        self._check_2026_fields()

    def _check_2026_fields(self) -> None:
        if self.parallel_tool_calls is not None and not isinstance(self.parallel_tool_calls, bool):
            raise _invalid("parallel_tool_calls", self.parallel_tool_calls, "None, True or False")
        if self.reasoning_effort is not None and self.reasoning_effort not in REASONING_EFFORTS:
            expected = f"None or one of {REASONING_EFFORTS!r}"
            raise _invalid("reasoning_effort", self.reasoning_effort, expected)
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise _invalid("model", self.model, "None or a non-empty model name")

    def _check_sampling(self) -> None:
        if self.temperature is not None and (
            not _is_number(self.temperature) or self.temperature < 0
        ):
            raise _invalid("temperature", self.temperature, "a number >= 0")
        if self.top_p is not None and (not _is_number(self.top_p) or not 0 < self.top_p <= 1):
            raise _invalid("top_p", self.top_p, "a number in (0, 1]")
        if self.max_tokens is not None and (
            isinstance(self.max_tokens, bool)
            or not isinstance(self.max_tokens, int)
            or self.max_tokens < 1
        ):
            raise _invalid("max_tokens", self.max_tokens, "an int >= 1")

    def _check_stop_and_tools(self) -> None:
        if isinstance(self.stop, str):
            stop: tuple[object, ...] = (self.stop,)
        elif isinstance(self.stop, Iterable):
            stop = tuple(self.stop)
        else:
            raise _invalid("stop", self.stop, "a string or a sequence of non-empty strings")
        if not all(isinstance(s, str) and s for s in stop):
            raise _invalid("stop", self.stop, "a sequence of non-empty strings")
        object.__setattr__(self, "stop", stop)
        if isinstance(self.tools, (str, Mapping)) or not isinstance(self.tools, Iterable):
            raise _invalid("tools", self.tools, "a sequence of ToolSpec or mappings")
        tools = tuple(_tool_spec(t) for t in self.tools)
        object.__setattr__(self, "tools", tools)
        names = [t.name for t in tools]
        if len(set(names)) != len(names):
            raise _invalid("tools", names, "tools with unique names")
        choice = self.tool_choice
        if choice is None:
            return
        if not isinstance(choice, str) or not choice:
            raise _invalid("tool_choice", choice, "'auto', 'none', 'required' or a tool name")
        # A named tool with no tools here may name one of a model's default tools: merged_over
        # checks it once the tools are known.
        if choice not in _TOOL_CHOICE_MODES and tools and choice not in names:
            raise _invalid("tool_choice", choice, f"one of the offered tools {names!r}")

    def _check_forced_tool_offered(self) -> None:
        if self.forced_tool is not None and not self.tools:
            raise _invalid("tool_choice", self.tool_choice, "a mode, since no tools are offered")

    @property
    def json_schema(self) -> JsonSchemaFormat | None:
        """The structured-output schema asked for, if any."""
        fmt = self.response_format
        return fmt if isinstance(fmt, JsonSchemaFormat) else None

    @property
    def wants_json(self) -> bool:
        """Tell whether the answer must be JSON: JSON mode or structured output."""
        return self.response_format is ResponseFormat.JSON or self.json_schema is not None

    @property
    def forced_tool(self) -> str | None:
        """The tool name tool_choice forces, if it names one."""
        if self.tool_choice is None or self.tool_choice in _TOOL_CHOICE_MODES:
            return None
        return self.tool_choice

    def merged_over(self, defaults: ChatOptions) -> ChatOptions:
        """Return these options with unset fields taken from *defaults*."""
        changes: dict[str, Any] = {}
        blank = _BLANK
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "extra":
                changes["extra"] = {**defaults.extra, **self.extra}
            elif value == getattr(blank, f.name):
                changes[f.name] = getattr(defaults, f.name)
        merged = dataclasses.replace(self, **changes)
        merged._check_forced_tool_offered()
        return merged


_BLANK = ChatOptions()

OptionsLike = ChatOptions | Mapping[str, Any] | None

_FIELD_NAMES = frozenset(f.name for f in dataclasses.fields(ChatOptions))


def coerce_options(options: OptionsLike) -> ChatOptions:
    """Normalise the accepted option forms; unknown keys are invalid input, not ignored."""
    if options is None:
        return _BLANK
    if isinstance(options, ChatOptions):
        return options
    if not isinstance(options, Mapping):
        raise _invalid("options", options, "a ChatOptions, a mapping or None")
    unknown = sorted(set(options) - _FIELD_NAMES, key=repr)
    if unknown:
        raise _invalid("options", unknown, f"keys among {sorted(_FIELD_NAMES)}")
    values = dict(options)
    for key in ("stop", "tools"):
        if key in values and isinstance(values[key], Sequence):
            values[key] = (values[key],) if isinstance(values[key], str) else tuple(values[key])
    return ChatOptions(**values)
