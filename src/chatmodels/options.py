"""Per-call generation options, validated when built so bad values fail before any I/O."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatmodels.errors import InvalidInputError

__all__ = ["ChatOptions", "OptionsLike", "ResponseFormat", "ToolSpec", "coerce_options"]


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
    response_format: ResponseFormat | None = None
    seed: int | None = None
    timeout: float | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

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
            try:
                object.__setattr__(self, "response_format", ResponseFormat(self.response_format))
            except ValueError:
                msg = "'text', 'json' or None"
                raise _invalid("response_format", self.response_format, msg) from None
        if not isinstance(self.extra, Mapping):
            raise _invalid("extra", self.extra, "a mapping")

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
