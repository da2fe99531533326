"""The OpenAI chat-completions wire format: request bodies, answers and SSE streams."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatmodels.errors import ChatModelError, ErrorCode, make_error
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from chatmodels.options import ChatOptions, ResponseFormat
from chatmodels.parts import ContentPart, ImagePart, MediaPart, TextPart
from chatmodels.providers._http_errors import invalid_response
from chatmodels.providers._http_payload import (
    SSEChunkParser,
    json_event,
    known_value,
    required_field,
)

__all__ = [
    "StreamAssembler",
    "build_request_body",
    "message_to_wire",
    "parse_completion",
    "parse_finish_reason",
    "parse_usage",
    "part_to_wire",
    "tool_choice_to_wire",
]

#: Where OpenAI-compatible servers put shown reasoning: vLLM and DeepSeek, then OpenRouter.
REASONING_FIELDS = ("reasoning_content", "reasoning")
_AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


def _base64_of(data: str) -> str:
    """The payload of a data URI, or *data* itself when it is bare base64."""
    return data.split(";base64,", 1)[1] if data.startswith("data:") else data


def part_to_wire(part: ContentPart) -> dict[str, Any]:
    """Express one content part as a chat-completions part; audio needs a wav or mp3 type."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": part.url}
        if part.detail is not None:
            image["detail"] = part.detail
        return {"type": "image_url", "image_url": image}
    assert isinstance(part, MediaPart)
    if part.kind == "audio":
        return {
            "type": "input_audio",
            "input_audio": {
                "data": _base64_of(part.data),
                "format": _AUDIO_FORMATS.get(part.media_type, part.media_type.rpartition("/")[2]),
            },
        }
    file: dict[str, Any] = {"file_data": part.data}
    if part.name is not None:
        file["filename"] = part.name
    return {"type": "file", "file": file}


def message_to_wire(message: Message) -> dict[str, Any]:
    """Express one message as the API expects it: text, or a list of parts with media."""
    content: Any = message.content
    if message.media:
        content = [part_to_wire(p) for p in message.parts]
    wire: dict[str, Any] = {"role": message.role.value, "content": content}
    if message.refusal:
        wire["refusal"] = message.refusal
    if message.tool_calls:
        wire["content"] = message.content or None
        wire["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        wire["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        wire["name"] = message.name
    return wire


def tool_choice_to_wire(choice: str) -> str | dict[str, Any]:
    """Keep a mode as text; a tool name becomes the object that forces that tool."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def build_request_body(
    model: str,
    messages: Sequence[Message],
    options: ChatOptions,
    *,
    stream: bool,
    stream_usage: bool = True,
) -> dict[str, Any]:
    """Build the JSON body of POST /chat/completions, leaving unset options to the server."""
    body: dict[str, Any] = {
        "model": options.model or model,
        "messages": [message_to_wire(m) for m in messages],
    }
    for name in ("temperature", "top_p", "max_tokens", "seed"):
        value = getattr(options, name)
        if value is not None:
            body[name] = value
    if options.stop:
        body["stop"] = list(options.stop)
    if options.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": dict(tool.parameters),
                },
            }
            for tool in options.tools
        ]
    if options.tool_choice is not None:
        body["tool_choice"] = tool_choice_to_wire(options.tool_choice)
    if options.tools and options.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = options.parallel_tool_calls
    if options.reasoning_effort is not None:
        body["reasoning_effort"] = options.reasoning_effort
    if options.response_format is ResponseFormat.JSON:
        body["response_format"] = {"type": "json_object"}
    schema = options.json_schema
    if schema is not None:
        spec: dict[str, Any] = {"name": schema.name, "schema": dict(schema.schema)}
        spec["strict"] = schema.strict
        if schema.description:
            spec["description"] = schema.description
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    if stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def parse_finish_reason(value: Any, *, op: str) -> FinishReason:
    """Map the API's finish reason; an unknown one means the answer cannot be trusted."""
    return known_value(value, _FINISH_REASONS, "finish_reason", op=op)


def parse_usage(value: Any, *, op: str) -> Usage | None:
    """Read the usage object, when the server sent one."""
    if value is None:
        return None
    prompt = required_field(value, "prompt_tokens", int, op=op, where="usage ")
    completion = required_field(value, "completion_tokens", int, op=op, where="usage ")
    total = value.get("total_tokens")
    details = {
        "reasoning_tokens": _detail(value, "completion_tokens_details", "reasoning_tokens"),
        "cached_input_tokens": _detail(value, "prompt_tokens_details", "cached_tokens"),
    }
    try:
        if isinstance(total, int) and not isinstance(total, bool):
            return Usage(prompt, completion, total, **details)
        return Usage(prompt, completion, **details)
    except ChatModelError as exc:
        msg = f"{op} got an invalid usage object {value!r}"
        raise invalid_response(msg, op=op, cause=exc) from exc


def _detail(usage: Mapping[str, Any], group: str, name: str) -> Any:
    """One optional usage detail; absent or null groups give None."""
    details = usage.get(group)
    return details.get(name) if isinstance(details, Mapping) else None


def _text_field(source: Mapping[str, Any], names: Sequence[str], *, op: str) -> str:
    """The first of *names* present in *source*, as text; '' when none is."""
    for name in names:
        value = source.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            msg = f"{op} got {name} {value!r}; expected a string or null"
            raise invalid_response(msg, op=op)
        return value
    return ""


def _parse_tool_calls(value: Any, *, op: str) -> tuple[ToolCall, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        msg = f"{op} got tool_calls {value!r}; expected a list"
        raise invalid_response(msg, op=op)
    calls = []
    for item in value:
        function = required_field(item, "function", Mapping, op=op, where="tool call ")
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            # Never rewrite what the server sent: an object here is a protocol violation.
            msg = (
                f"{op} got tool call arguments {arguments!r}; expected a JSON string such as "
                '\'{"city": "Paris"}\''
            )
            raise invalid_response(msg, op=op)
        try:
            calls.append(
                ToolCall(
                    id=required_field(item, "id", str, op=op, where="tool call "),
                    name=required_field(function, "name", str, op=op, where="tool call function "),
                    arguments=arguments or "{}",
                )
            )
        except ChatModelError as exc:
            msg = f"{op} got an invalid tool call {item!r}"
            raise invalid_response(msg, op=op, cause=exc) from exc
    return tuple(calls)


def parse_completion(payload: Any, *, op: str, fallback_model: str) -> ChatResult:
    """Turn a chat.completion object into a ChatResult, refusing missing or mistyped fields."""
    if not isinstance(payload, Mapping):
        msg = f"{op} got an answer that is not a JSON object: {str(payload)[:80]!r}"
        raise invalid_response(msg, op=op)
    choices = required_field(payload, "choices", list, op=op, where="")
    if not choices:
        msg = f"{op} got an answer with no choices"
        raise invalid_response(msg, op=op)
    message = required_field(choices[0], "message", Mapping, op=op, where="choice ")
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        msg = f"{op} got message content {content!r}; expected a string or null"
        raise invalid_response(msg, op=op)
    return ChatResult(
        message=Message.assistant(
            content or "",
            _parse_tool_calls(message.get("tool_calls"), op=op),
            refusal=_text_field(message, ("refusal",), op=op),
            reasoning=_text_field(message, REASONING_FIELDS, op=op),
        ),
        finish_reason=parse_finish_reason(choices[0].get("finish_reason"), op=op),
        model=str(payload.get("model") or fallback_model),
        response_id=str(payload.get("id") or ""),
        usage=parse_usage(payload.get("usage"), op=op),
    )


class StreamAssembler(SSEChunkParser):
    """Turn SSE payloads into ChatChunks; the last chunk carries finish reason and usage."""

    def __init__(self, *, op: str, fallback_model: str) -> None:
        super().__init__(op=op, fallback_model=fallback_model)
        self._response_id: str | None = None
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._done = False

    @property
    def done(self) -> bool:
        """Tell whether the terminating ``[DONE]`` arrived."""
        return self._done

    def _missing_end(self) -> str | None:
        """A stream is whole after its finish reason and ``[DONE]``."""
        if self._done:
            return None
        return "a finish reason" if self._finish is None else "the [DONE] event"

    def _payload(self, payload: str) -> list[ChatChunk]:
        if self._done:
            return []
        if payload.strip() == "[DONE]":
            if self._finish is None:
                msg = f"{self._op} got [DONE] before any finish reason"
                raise invalid_response(msg, op=self._op)
            self._done = True
            return [self._chunk(finish_reason=self._finish, usage=self._usage)]
        event = json_event(payload, op=self._op)
        if "error" in event:
            error = event["error"]
            text = error.get("message") if isinstance(error, Mapping) else error
            msg = f"{self._op} failed: the server reported mid-stream: {str(text)[:300]}"
            raise make_error(ErrorCode.SERVER_ERROR, msg, op=self._op)
        return self._event(event)

    def _event(self, event: Mapping[str, Any]) -> list[ChatChunk]:
        self._model = str(event.get("model") or self._model)
        self._response_id = self._response_id or (str(event.get("id") or "") or None)
        self._usage = parse_usage(event.get("usage"), op=self._op) or self._usage
        choices = event.get("choices") or []
        if not isinstance(choices, list):
            msg = f"{self._op} got stream choices {choices!r}; expected a list"
            raise invalid_response(msg, op=self._op)
        if not choices:
            return []
        delta = required_field(choices[0], "delta", Mapping, op=self._op, where="stream choice ")
        text = delta.get("content") or ""
        if not isinstance(text, str):
            msg = f"{self._op} got delta content {text!r}; expected a string"
            raise invalid_response(msg, op=self._op)
        deltas = self._tool_deltas(delta.get("tool_calls"))
        reasoning = _text_field(delta, REASONING_FIELDS, op=self._op)
        refusal = _text_field(delta, ("refusal",), op=self._op)
        reason = choices[0].get("finish_reason")
        if reason is not None:
            self._finish = parse_finish_reason(reason, op=self._op)
        if not (text or deltas or reasoning or refusal):
            return []
        return [
            self._chunk(delta=text, tool_call_deltas=deltas, reasoning=reasoning, refusal=refusal)
        ]

    def _tool_deltas(self, value: Any) -> tuple[ToolCallDelta, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            msg = f"{self._op} got tool_calls delta {value!r}; expected a list"
            raise invalid_response(msg, op=self._op)
        deltas = []
        for item in value:
            index = required_field(item, "index", int, op=self._op, where="tool call delta ")
            function = item.get("function") or {}
            name = function.get("name") if isinstance(function, Mapping) else None
            arguments = function.get("arguments") if isinstance(function, Mapping) else None
            deltas.append(
                ToolCallDelta(
                    index=index,
                    id=item.get("id") if isinstance(item.get("id"), str) else None,
                    name=name if isinstance(name, str) else None,
                    arguments=arguments if isinstance(arguments, str) else "",
                )
            )
        return tuple(deltas)

    def _chunk(self, **fields: Any) -> ChatChunk:
        return ChatChunk(model=self._model, response_id=self._response_id, **fields)
