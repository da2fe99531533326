"""Messages, results, stream chunks and usage: the values that cross a provider's boundary."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatmodels.errors import InvalidInputError, InvalidResponseError
from chatmodels.parts import ContentPart, ImagePart, MediaPart, TextPart, coerce_part

__all__ = [
    "ChatChunk",
    "ChatResult",
    "FinishReason",
    "Message",
    "MessageLike",
    "Role",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
    "coerce_messages",
    "merge_chunks",
]


class Role(str, enum.Enum):
    """Who speaks a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"

    def __str__(self) -> str:
        return self.value


class FinishReason(str, enum.Enum):
    """Why the model stopped producing output."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


def _invalid(field_name: str, value: object, expected: str) -> InvalidInputError:
    msg = f"{field_name} must be {expected}, got {value!r}"
    return InvalidInputError(msg, op="message")


def _coerce_enum(enum_type: type[enum.Enum], value: object, field_name: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        allowed = ", ".join(repr(m.value) for m in enum_type)
        raise _invalid(field_name, value, f"one of {allowed}") from None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to call a tool; ``arguments`` is a JSON object as text."""

    id: str
    name: str
    arguments: str = "{}"

    def __post_init__(self) -> None:
        for name in ("id", "name", "arguments"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise _invalid(f"ToolCall.{name}", value, "a string")
        if not self.name:
            raise _invalid("ToolCall.name", self.name, "a non-empty string")

    def parsed_arguments(self) -> Any:
        """Decode ``arguments``; a model that emitted bad JSON gets an invalid_response error."""
        try:
            return json.loads(self.arguments)
        except ValueError as exc:
            msg = f"tool call {self.id!r} has arguments that are not JSON: {self.arguments!r}"
            raise InvalidResponseError(msg, op="tool_call", cause=exc) from exc


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation; tool messages answer the call named by ``tool_call_id``.

    ``content`` is always the text: given ``parts``, it is their text parts joined by
    newlines, so a provider that reads only ``content`` still gets the words. ``refusal`` and
    ``reasoning`` belong to assistant turns and are never part of ``content``.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    parts: tuple[ContentPart, ...] = ()
    refusal: str = ""
    reasoning: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", _coerce_enum(Role, self.role, "Message.role"))
        if not isinstance(self.content, str):
            raise _invalid("Message.content", self.content, "a string")
        self._check_parts()
        for name in ("refusal", "reasoning"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise _invalid(f"Message.{name}", value, "a string")
            if value and self.role is not Role.ASSISTANT:
                raise _invalid(f"Message.{name}", value, "empty unless role is 'assistant'")
        calls = tuple(self.tool_calls)
        if not all(isinstance(c, ToolCall) for c in calls):
            raise _invalid("Message.tool_calls", self.tool_calls, "a sequence of ToolCall")
        object.__setattr__(self, "tool_calls", calls)
        if calls and self.role is not Role.ASSISTANT:
            raise _invalid("Message.tool_calls", calls, "empty unless role is 'assistant'")
        if self.role is Role.TOOL:
            if not isinstance(self.tool_call_id, str) or not self.tool_call_id:
                raise _invalid(
                    "Message.tool_call_id", self.tool_call_id, "the id of the tool call answered"
                )
        elif self.tool_call_id is not None:
            raise _invalid("Message.tool_call_id", self.tool_call_id, "None unless role is 'tool'")

    def _check_parts(self) -> None:
        if isinstance(self.parts, (str, Mapping)) or not isinstance(self.parts, Iterable):
            raise _invalid("Message.parts", self.parts, "a sequence of content parts")
        parts = tuple(coerce_part(p) for p in self.parts)
        object.__setattr__(self, "parts", parts)
        if not parts:
            return
        text = "\n".join(p.text for p in parts if isinstance(p, TextPart))
        if self.content and self.content != text:
            raise _invalid("Message.content", self.content, f"'' or the parts' text {text!r}")
        object.__setattr__(self, "content", text)
        if self.media and self.role is not Role.USER:
            kinds = sorted({p.kind for p in self.media})
            raise _invalid("Message.parts", kinds, "text only unless role is 'user'")

    @property
    def media(self) -> tuple[ImagePart | MediaPart, ...]:
        """The parts that are not text: images, audio, files."""
        return tuple(p for p in self.parts if not isinstance(p, TextPart))

    @classmethod
    def system(cls, content: str) -> Message:
        """Build a system instruction."""
        return cls(Role.SYSTEM, content)

    @classmethod
    def user(cls, content: str | Sequence[str | ContentPart]) -> Message:
        """Build a user turn from text, or from parts (strings are text parts)."""
        if isinstance(content, str):
            return cls(Role.USER, content)
        return cls(Role.USER, parts=tuple(coerce_part(p) for p in content))

    @classmethod
    def assistant(
        cls,
        content: str = "",
        tool_calls: Sequence[ToolCall] = (),
        *,
        refusal: str = "",
        reasoning: str = "",
    ) -> Message:
        """Build an assistant turn, optionally carrying tool calls, a refusal or reasoning."""
        return cls(Role.ASSISTANT, content, tuple(tool_calls), refusal=refusal, reasoning=reasoning)

    @classmethod
    def tool(cls, content: str, tool_call_id: str, name: str | None = None) -> Message:
        """Build the result of the tool call *tool_call_id*."""
        return cls(Role.TOOL, content, tool_call_id=tool_call_id, name=name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Message:
        """Build a message from an OpenAI-style mapping, rejecting unknown roles and keys."""
        if not isinstance(data, Mapping):
            raise _invalid("message", data, "a Message or a mapping with 'role' and 'content'")
        unknown = set(data) - _MESSAGE_KEYS
        if unknown:
            raise _invalid("message keys", sorted(unknown), f"only {sorted(_MESSAGE_KEYS)}")
        if "role" not in data:
            raise _invalid("message", dict(data), "a mapping with a 'role' key")
        raw_calls = data.get("tool_calls") or ()
        if isinstance(raw_calls, (str, Mapping)) or not isinstance(raw_calls, Iterable):
            raise _invalid("message tool_calls", raw_calls, "a sequence of tool calls")
        calls = tuple(_tool_call(c) for c in raw_calls)
        content = data.get("content")
        raw_parts = data.get("parts") or ()
        if isinstance(content, Iterable) and not isinstance(content, (str, Mapping)):
            raw_parts, content = content, ""
        if isinstance(raw_parts, (str, Mapping)) or not isinstance(raw_parts, Iterable):
            raise _invalid("message parts", raw_parts, "a sequence of content parts")
        return cls(
            role=data["role"],
            content="" if content is None else content,  # type: ignore[arg-type]
            tool_calls=calls,
            tool_call_id=data.get("tool_call_id"),
            name=data.get("name"),
            parts=tuple(coerce_part(p) for p in raw_parts),
            refusal=data.get("refusal") or "",
            reasoning=data.get("reasoning") or "",
        )


_MESSAGE_KEYS = frozenset(
    {"role", "content", "tool_calls", "tool_call_id", "name", "parts", "refusal", "reasoning"}
)


def _tool_call(value: object) -> ToolCall:
    if isinstance(value, ToolCall):
        return value
    if (
        not isinstance(value, Mapping)
        or set(value) - {"id", "name", "arguments"}
        or not ({"id", "name"} <= set(value))
    ):
        raise _invalid("tool call", value, "a ToolCall or a mapping with id, name, arguments")
    return ToolCall(**value)


MessageLike = Message | Mapping[str, Any]


def coerce_messages(messages: Iterable[MessageLike] | str) -> tuple[Message, ...]:
    """Normalise the accepted message forms; an empty conversation is invalid input."""
    if isinstance(messages, str):
        return (Message.user(messages),)
    if isinstance(messages, Mapping) or not isinstance(messages, Iterable):
        raise _invalid("messages", messages, "a sequence of Message or a string")
    result = tuple(m if isinstance(m, Message) else Message.from_dict(m) for m in messages)
    if not result:
        raise _invalid("messages", [], "at least one message")
    return result


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts for one call; ``total_tokens`` defaults to input plus output.

    The optional details are parts of the totals, never added to them: reasoning tokens are
    counted within ``output_tokens``, cached input tokens within ``input_tokens``.
    """

    input_tokens: int
    output_tokens: int
    total_tokens: int = None  # type: ignore[assignment]  # filled in by __post_init__
    reasoning_tokens: int | None = None
    cached_input_tokens: int | None = None

    def __post_init__(self) -> None:
        counts = _is_count(self.input_tokens) and _is_count(self.output_tokens)
        if self.total_tokens is None and counts:
            object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)
        for name in ("input_tokens", "output_tokens", "total_tokens"):
            value = getattr(self, name)
            if not _is_count(value):
                raise _invalid(f"Usage.{name}", value, "a non-negative int")
        for name, total in (
            ("reasoning_tokens", "output_tokens"),
            ("cached_input_tokens", "input_tokens"),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            if not _is_count(value):
                raise _invalid(f"Usage.{name}", value, "None or a non-negative int")
            if value > getattr(self, total):
                expected = f"at most {total}={getattr(self, total)} (a part of it)"
                raise _invalid(f"Usage.{name}", value, expected)


@dataclass(frozen=True, slots=True)
class ChatResult:
    """The complete answer to one call."""

    message: Message
    finish_reason: FinishReason
    model: str
    response_id: str
    usage: Usage | None = None

    def __post_init__(self) -> None:
        reason = _coerce_enum(FinishReason, self.finish_reason, "ChatResult.finish_reason")
        object.__setattr__(self, "finish_reason", reason)

    @property
    def text(self) -> str:
        """The assistant's text."""
        return self.message.content

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The tool calls the assistant asked for."""
        return self.message.tool_calls

    @property
    def refusal(self) -> str:
        """The assistant's refusal, apart from its content; empty when it did not refuse."""
        return self.message.refusal

    @property
    def reasoning(self) -> str:
        """The reasoning the model showed, apart from its answer; often empty."""
        return self.message.reasoning


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of a streamed tool call; fragments with the same ``index`` concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """One streamed delta; the final chunk carries the finish reason and the usage.

    ``reasoning`` and ``refusal`` are deltas of their own, concatenated apart from the text.
    """

    delta: str = ""
    tool_call_deltas: tuple[ToolCallDelta, ...] = ()
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    model: str | None = None
    response_id: str | None = None
    reasoning: str = ""
    refusal: str = ""

    def __post_init__(self) -> None:
        if self.finish_reason is not None:
            reason = _coerce_enum(FinishReason, self.finish_reason, "ChatChunk.finish_reason")
            object.__setattr__(self, "finish_reason", reason)
        object.__setattr__(self, "tool_call_deltas", tuple(self.tool_call_deltas))


@dataclass(slots=True)
class _ToolCallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


def merge_chunks(chunks: Iterable[ChatChunk]) -> ChatResult:
    """Fold a stream into the result an invoke would return; a stream with no finish is invalid."""
    text: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: dict[int, _ToolCallParts] = {}
    finish: FinishReason | None = None
    usage: Usage | None = None
    model = ""
    response_id = ""
    for chunk in chunks:
        text.append(chunk.delta)
        reasoning.append(chunk.reasoning)
        refusal.append(chunk.refusal)
        for delta in chunk.tool_call_deltas:
            parts = calls.setdefault(delta.index, _ToolCallParts())
            parts.id = parts.id or (delta.id or "")
            parts.name = parts.name or (delta.name or "")
            parts.arguments.append(delta.arguments)
        finish = chunk.finish_reason or finish
        usage = chunk.usage or usage
        model = model or (chunk.model or "")
        response_id = response_id or (chunk.response_id or "")
    if finish is None:
        msg = "the stream ended without a finish reason"
        raise InvalidResponseError(msg, op="stream")
    nameless = [index for index, p in sorted(calls.items()) if not p.name]
    if nameless:
        msg = f"the stream's tool call at index {nameless[0]} never named its tool"
        raise InvalidResponseError(msg, op="stream")
    tool_calls = tuple(
        ToolCall(id=p.id, name=p.name, arguments="".join(p.arguments) or "{}")
        for _, p in sorted(calls.items())
    )
    return ChatResult(
        message=Message.assistant(
            "".join(text), tool_calls, refusal="".join(refusal), reasoning="".join(reasoning)
        ),
        finish_reason=finish,
        model=model,
        response_id=response_id,
        usage=usage,
    )
