"""The bundled ``reference`` provider: an in-process, deterministic model the kit runs by default.

It needs no network and no key, and it keeps every rule of the contract, so it is also the base
that deliberately broken providers subclass, one overridden method per failure mode.

Rules (tests and conformance suites rely on each):

- **Tokens** are the matches of ``\\w+|[^\\w\\s]``: a word, or one punctuation character
  (:func:`count_tokens`). Input tokens are, over all messages, the tokens of the content and of
  tool-call arguments, plus one per message. Output tokens are those of the answer text plus the
  arguments of its tool calls. Usage is always reported; total = input + output.
- **Input checks.** An assistant message with neither content nor tool calls is
  InvalidInputError (BaseChatModel refuses an empty user message for every provider). A
  conversation over ``max_input_tokens`` (default 8192) is InvalidInputError whose message
  names the limit.
- **Answer.** Deterministic in the messages and options; only ``response_id`` changes, and it
  is unique per call (``"ref-"`` + a uuid4). The text is ``"Reference answer to: "`` + the last
  user message's content (the last message's, if no user spoke), so unicode round-trips and the
  answer can be checked. When the conversation ends with tool results the text is one line per
  trailing result, ``"Tool <name> returned: <content>"``, where the name is the tool message's
  ``name``, else the name of the call it answers, else its call id. System messages are
  accepted and do not change the answer.
- **Stop sequences** cut the text at the earliest occurrence of any of them, which is dropped;
  the finish reason is ``stop``. Then **max_tokens=N** keeps the text up to the end of its N-th
  token; when tokens were cut the finish reason is ``length``.
- **JSON mode** answers ``{"answer": <text>}`` (``ensure_ascii=False``); stop sequences and
  max_tokens apply to the inner text only, so the output is always valid JSON.
- **Tools.** With tools offered, the model answers with exactly one tool call when
  ``tool_choice`` names a tool (that tool), is ``"required"`` (the first tool the last user
  message mentions, else the first offered), or is unset/``"auto"``, the conversation ends with
  a user message, and that message mentions an offered tool's name (case-insensitive
  substring). ``"none"`` always gives text. A forced choice forces a call even after tool
  results; ``auto`` after tool results summarises them. The call's id is ``"call_"`` + 16 hex
  digits of a SHA-256 of the conversation, tool name and index; its arguments are a JSON
  object valid against the tool's ``parameters``: every property is filled (const, else the
  first enum value, else by type: string -> up to 40 characters of the prompt, integer -> 1,
  number -> 1.0, boolean -> true, array -> ``minItems`` items, object -> filled recursively,
  null -> null; numeric bounds and string lengths are respected). Content is empty and the
  finish reason is ``tool_calls``. max_tokens and stop sequences never cut tool calls.
- **Parallel tool calls.** With ``parallel_tool_calls=True`` (and tool_choice unset, ``auto``
  or ``required``) every offered tool the prompt mentions is called, in offer order, each with
  the id of its index; otherwise the one-call rule above holds. A tool without properties is
  called with ``{}``. Arguments keep non-ASCII text as characters (``ensure_ascii=False``).
- **Structured output** (``response_format`` a JsonSchemaFormat) answers, as JSON text, a value
  filled from the schema the way tool arguments are; stop sequences and max_tokens never cut it.
- **Reasoning.** With ``reasoning_effort`` above ``"none"`` the message carries one sentence of
  ``reasoning`` naming the effort and the prompt's token count, never in the content;
  ``usage.reasoning_tokens`` counts it and is part of ``output_tokens`` (``"none"`` reports 0,
  unset reports None). Cached input tokens are not simulated (None).
- **Refusal.** A last user message containing ``"please refuse"`` (any case) is answered with
  an empty content and a ``refusal``; the finish reason is ``stop``.
- **Content parts.** Each image or other media part counts ``MEDIA_TOKENS`` (8) input tokens,
  and the answer echo ends with `` [<kind>: <media type, or 'by URL'>]`` per part of the last
  user message. Audio and file parts are read; other MediaPart kinds are UnsupportedError.
- **Per-call model.** ``options.model`` naming a listed model (``reference-echo-alt``) answers
  as that model; an unlisted one is ModelNotFoundError.
- **Streaming** yields the invoke result split every ``chunk_tokens`` tokens (default 2) at
  token starts, so whitespace is kept and the deltas concatenate to the invoke text exactly;
  reasoning deltas come first and refusal deltas last, split the same way. Tool calls follow
  as ToolCallDelta fragments of the arguments, cut the same way; the first fragment of a call
  carries its id and name. Every chunk carries the model and the response
  id; the last chunk carries the finish reason and usage. No chunk is empty unless the whole
  answer is, in which case one empty final chunk is sent.
- **Latency.** Every call waits ``latency`` seconds (default 0.005, a fast local model) before
  its result or first chunk, and ``chunk_latency`` (default 0) between chunks. Sync paths use
  ``time.sleep``; async paths ``asyncio.sleep``, so they never block the loop and can be
  cancelled at any await. Closing a stream early (``close()``/``aclose()``) frees it at once.
- **Timeout.** ``options.timeout`` is a deadline for the whole call, stream included, starting
  at the call (for streams, at the first ``next``). A wait that would pass it instead sleeps
  until the deadline and raises ChatTimeoutError.
- **Faults.** With ``fault_code`` set, each call draws once from ``random.Random(seed)``
  (per chat model, under a lock, so the sequence is deterministic) when it starts, and fails with
  probability ``fault_rate`` (default 1 when a code is set) with ``make_error(fault_code, ...)``,
  after its latency. rate_limit faults carry ``retry_after=1.0``. Invalid input is reported
  before any fault is drawn.
- **Options** (provider-level) may be strings from a command line (``"0.005"``); a bad type or
  range is InvalidConfigError naming the option and the expected form. No ``extra`` call
  options are understood; any raise UnsupportedError.
- **Health** is a cheap in-process answer, HEALTHY with its measured latency, without the
  simulated latency; UNHEALTHY once closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata as _importlib_metadata
from typing import Any, ClassVar

from chatmodels.base import BaseChatModel, BaseProvider
from chatmodels.errors import (
    ChatModelError,
    ChatTimeoutError,
    ErrorCode,
    InvalidInputError,
    ModelNotFoundError,
    make_error,
)
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    Message,
    Role,
    ToolCall,
    ToolCallDelta,
    Usage,
)
from chatmodels.options import ChatOptions, OptionsLike, ToolSpec
from chatmodels.provider import Capability, HealthState, HealthStatus, ProviderMetadata
from chatmodels.providers._reference_answer import (
    answer_text,
    count_tokens,
    example_arguments,
    example_value,
    input_tokens,
    pick_tool,
    pick_tools,
    prompt_of,
    reasoning_text,
    refusal_text,
    shape_text,
    split_tokens,
    tool_call_id,
)
from chatmodels.providers._reference_config import (
    DEFAULT_CONFIG,
    OPTION_NAMES,
    ReferenceConfig,
    parse_config,
)

__all__ = [
    "REFERENCE_METADATA",
    "ReferenceChatModel",
    "ReferenceConfig",
    "ReferenceProvider",
    "count_tokens",
]


def _package_version() -> str:
    try:
        return _importlib_metadata.version("chatmodels")
    except _importlib_metadata.PackageNotFoundError:
        return "0.1.0"


REFERENCE_METADATA = ProviderMetadata(
    name="reference",
    version=_package_version(),
    description="In-process deterministic echo model; no network, no key.",
    models=("reference-echo", "reference-echo-alt"),
    default_model="reference-echo",
    optional_options=OPTION_NAMES,
    secret_options=(),
    # In-process: it speaks no HTTP protocol, so the FAULT and WIRE areas do not apply.
    capabilities=frozenset(Capability)
    - {
        Capability.OPENAI_COMPATIBLE,
        Capability.ANTHROPIC_COMPATIBLE,
        Capability.RESPONSES_COMPATIBLE,
        Capability.TELEMETRY,
    },
    max_input_tokens=DEFAULT_CONFIG.max_input_tokens,
    health_timeout=1.0,
)


@dataclass(slots=True)
class _Budget:
    """The time left to one call, so every wait can stop at the caller's deadline."""

    op: str
    timeout: float | None
    deadline: float | None

    @classmethod
    def start(cls, op: str, timeout: float | None) -> _Budget:
        deadline = None if timeout is None else time.monotonic() + timeout
        return cls(op, timeout, deadline)

    def plan(self, seconds: float) -> tuple[float, bool]:
        """Return how long to sleep, and whether the deadline ends the call after it."""
        if self.deadline is None:
            return seconds, False
        left = self.deadline - time.monotonic()
        if seconds > left:
            return max(left, 0.0), True
        return seconds, False


class ReferenceChatModel(BaseChatModel):
    """The reference model; each step is a small method so a subclass can break exactly one."""

    supported_parts = frozenset({"audio", "file"})
    accepts_model_override = True

    def __init__(
        self,
        *,
        metadata: ProviderMetadata = REFERENCE_METADATA,
        model: str = "reference-echo",
        defaults: OptionsLike = None,
        config: ReferenceConfig = DEFAULT_CONFIG,
    ) -> None:
        super().__init__(metadata=metadata, model=model, defaults=defaults)
        self._config = config
        self._lock = threading.Lock()
        self._rng = random.Random(config.seed) if config.fault_code is not None else None

    @property
    def config(self) -> ReferenceConfig:
        """The provider options this model simulates."""
        return self._config

    # -- the pure answer ---------------------------------------------------------------

    def _check_messages(self, messages: Sequence[Message]) -> None:
        """Reject turns a real model would reject, before any latency or fault."""
        for index, m in enumerate(messages):
            if m.role is Role.ASSISTANT and not m.content and not m.tool_calls:
                msg = f"messages[{index}] is an assistant message with content {m.content!r} "
                msg += "and no tool calls; expected text or tool calls"
                raise InvalidInputError(msg, op="message", provider=self._metadata.name)
        used = input_tokens(messages)
        limit = self._config.max_input_tokens
        if used > limit:
            msg = f"the conversation has {used} input tokens; expected at most "
            msg += f"max_input_tokens={limit}"
            raise InvalidInputError(msg, op="message", provider=self._metadata.name)

    def _text(self, messages: Sequence[Message], options: ChatOptions) -> str:
        """The answer before stop sequences, max_tokens and JSON mode shape it."""
        return answer_text(messages)

    def _tool_call(self, messages: Sequence[Message], options: ChatOptions) -> ToolCall | None:
        """The one tool call to answer with, or None for a text answer."""
        tool = pick_tool(messages, options)
        return None if tool is None else self._call_to(tool, messages, 0)

    def _call_to(self, tool: ToolSpec, messages: Sequence[Message], index: int) -> ToolCall:
        """A call to *tool*, its arguments filled from the prompt."""
        arguments = example_arguments(tool.parameters, prompt_of(messages))
        return ToolCall(
            id=tool_call_id(messages, tool.name, index),
            name=tool.name,
            arguments=json.dumps(arguments, ensure_ascii=False),
        )

    def _tool_calls(
        self, messages: Sequence[Message], options: ChatOptions
    ) -> tuple[ToolCall, ...]:
        """Every tool call of the answer: several only with parallel_tool_calls=True."""
        tools = pick_tools(messages, options)
        if len(tools) > 1:
            return tuple(self._call_to(t, messages, i) for i, t in enumerate(tools))
        call = self._tool_call(messages, options)
        return () if call is None else (call,)

    def _structured(self, messages: Sequence[Message], options: ChatOptions) -> str:
        """The structured-output answer: a value valid against the schema, as JSON text."""
        assert options.json_schema is not None
        value = example_value(options.json_schema.schema, prompt_of(messages))
        return json.dumps(value, ensure_ascii=False)

    def _reasoning(self, messages: Sequence[Message], options: ChatOptions) -> str:
        """The reasoning shown apart from the answer; empty unless reasoning_effort asks."""
        return reasoning_text(messages, options.reasoning_effort)

    def _served_model(self, options: ChatOptions) -> str:
        """The model answering this call: the per-call override, else the chat model's own."""
        name = options.model or self._model
        if name != self._model and name not in self._metadata.models:
            msg = f"model {name!r} is not served by provider {self._metadata.name!r}; "
            msg += f"expected one of {list(self._metadata.models)!r}"
            raise ModelNotFoundError(msg, provider=self._metadata.name)
        return name

    def _new_response_id(self) -> str:
        """A fresh id per call; the one non-deterministic part of an answer."""
        return f"ref-{uuid.uuid4().hex}"

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        """Compute the complete answer; deterministic except for the response id."""
        self._check_messages(messages)
        model = self._served_model(options)
        reasoning = self._reasoning(messages, options)
        refusal = refusal_text(messages)
        calls = () if refusal else self._tool_calls(messages, options)
        if calls:
            message = Message.assistant("", calls, reasoning=reasoning)
            finish = FinishReason.TOOL_CALLS
            output = sum(count_tokens(c.arguments) for c in calls)
        elif refusal:
            message = Message.assistant(refusal=refusal, reasoning=reasoning)
            finish, output = FinishReason.STOP, count_tokens(refusal)
        else:
            if options.json_schema is not None:
                text, finish = self._structured(messages, options), FinishReason.STOP
            else:
                text, finish = shape_text(self._text(messages, options), options)
            message = Message.assistant(text, reasoning=reasoning)
            output = count_tokens(text)
        thought = count_tokens(reasoning) if options.reasoning_effort is not None else None
        return ChatResult(
            message=message,
            finish_reason=finish,
            model=model,
            response_id=self._new_response_id(),
            usage=Usage(input_tokens(messages), output + (thought or 0), reasoning_tokens=thought),
        )

    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        """Split a result into stream chunks; the last carries the finish reason and usage."""
        size = self._config.chunk_tokens
        tag: dict[str, Any] = {"model": result.model, "response_id": result.response_id}
        chunks = [
            ChatChunk(reasoning=piece, **tag) for piece in split_tokens(result.reasoning, size)
        ]
        chunks += [ChatChunk(delta=piece, **tag) for piece in split_tokens(result.text, size)]
        chunks += [ChatChunk(refusal=p, **tag) for p in split_tokens(result.refusal, size)]
        for index, call in enumerate(result.tool_calls):
            for part_no, part in enumerate(split_tokens(call.arguments, size) or [""]):
                first = part_no == 0
                delta = ToolCallDelta(
                    index=index,
                    id=call.id if first else None,
                    name=call.name if first else None,
                    arguments=part,
                )
                chunks.append(ChatChunk(tool_call_deltas=(delta,), **tag))
        last = chunks.pop() if chunks else ChatChunk(**tag)
        chunks.append(
            dataclasses.replace(last, finish_reason=result.finish_reason, usage=result.usage)
        )
        return chunks

    # -- latency, timeouts and faults ----------------------------------------------------

    def _latency(self, options: ChatOptions) -> float:
        """Seconds to wait before the result or the first chunk."""
        return self._config.latency

    def _chunk_latency(self, options: ChatOptions) -> float:
        """Seconds to wait between two stream chunks."""
        return self._config.chunk_latency

    def _fault(self, op: str) -> ChatModelError | None:
        """Draw whether this call fails; the draw order is fixed by the seed."""
        code = self._config.fault_code
        if code is None or self._rng is None:
            return None
        with self._lock:
            draw = self._rng.random()
        if draw >= self._config.fault_rate:
            return None
        msg = f"simulated {code.value!r} fault (fault_rate={self._config.fault_rate})"
        retry_after = 1.0 if code is ErrorCode.RATE_LIMIT else None
        return make_error(code, msg, op=op, provider=self._metadata.name, retry_after=retry_after)

    def _timeout_error(self, budget: _Budget) -> ChatTimeoutError:
        msg = f"{budget.op} did not finish within timeout={budget.timeout}s"
        return ChatTimeoutError(msg, op=budget.op, provider=self._metadata.name)

    def _wait(self, seconds: float, budget: _Budget) -> None:
        """Sleep for *seconds*, or until the deadline and then raise ChatTimeoutError."""
        pause, expired = budget.plan(seconds)
        if pause > 0:
            time.sleep(pause)
        if expired:
            raise self._timeout_error(budget)

    async def _await(self, seconds: float, budget: _Budget) -> None:
        """Like ``_wait`` without blocking the loop; always a cancellation point."""
        pause, expired = budget.plan(seconds)
        await asyncio.sleep(pause)
        if expired:
            raise self._timeout_error(budget)

    # -- the four call paths ------------------------------------------------------------

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        result = self._answer(messages, options)
        fault = self._fault("invoke")
        self._wait(self._latency(options), _Budget.start("invoke", options.timeout))
        if fault is not None:
            raise fault
        return result

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        result = self._answer(messages, options)
        fault = self._fault("ainvoke")
        await self._await(self._latency(options), _Budget.start("ainvoke", options.timeout))
        if fault is not None:
            raise fault
        return result

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        """Check input and draw the fault now; the returned iterator does the waiting."""
        result = self._answer(messages, options)
        return self._iter_chunks(result, self._fault("stream"), options)

    def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        """Check input and draw the fault now; the returned iterator does the waiting."""
        result = self._answer(messages, options)
        return self._aiter_chunks(result, self._fault("astream"), options)

    def _iter_chunks(
        self, result: ChatResult, fault: ChatModelError | None, options: ChatOptions
    ) -> Iterator[ChatChunk]:
        budget = _Budget.start("stream", options.timeout)
        self._wait(self._latency(options), budget)
        if fault is not None:
            raise fault
        for index, chunk in enumerate(self._chunks(result, options)):
            if index:
                self._wait(self._chunk_latency(options), budget)
            yield chunk

    async def _aiter_chunks(
        self, result: ChatResult, fault: ChatModelError | None, options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        budget = _Budget.start("astream", options.timeout)
        await self._await(self._latency(options), budget)
        if fault is not None:
            raise fault
        for index, chunk in enumerate(self._chunks(result, options)):
            if index:
                await self._await(self._chunk_latency(options), budget)
            yield chunk

    def _health_check(self) -> HealthStatus:
        start = time.perf_counter()
        if self._closed:
            return HealthStatus(HealthState.UNHEALTHY, 0.0, "the chat model is closed")
        try:
            self._answer((Message.user("ping"),), ChatOptions())
        except ChatModelError as exc:
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, str(exc))
        return HealthStatus(HealthState.HEALTHY, time.perf_counter() - start)


class ReferenceProvider(BaseProvider):
    """Makes reference models; subclasses swap ``chat_model_class`` to change their behaviour."""

    metadata = REFERENCE_METADATA
    chat_model_class: ClassVar[type[ReferenceChatModel]] = ReferenceChatModel

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        self.config = parse_config(self.options, provider=self.metadata.name)
        if self.config.max_input_tokens != self.metadata.max_input_tokens:
            self.metadata = dataclasses.replace(
                self.metadata, max_input_tokens=self.config.max_input_tokens
            )

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> ReferenceChatModel:
        """Make a model; *options* become its per-call defaults."""
        name = self.metadata.resolve_model(model)
        if self.metadata.models and name not in self.metadata.models:
            msg = f"model {name!r} is not served by provider {self.metadata.name!r}; "
            msg += f"expected one of {list(self.metadata.models)!r}"
            raise ModelNotFoundError(msg, op="create_chat_model", provider=self.metadata.name)
        return self.chat_model_class(
            metadata=self.metadata, model=name, defaults=options, config=self.config
        )
