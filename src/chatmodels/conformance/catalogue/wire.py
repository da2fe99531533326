"""Requirements of the wire suite: the raw protocol a server puts on the wire.

WIRE-001..015 judge chat completions (``openai_compatible``), WIRE-016..021 Anthropic Messages
(``anthropic_compatible``); each applies to providers declaring its protocol that can record
their HTTP exchanges (the bundled ``openai`` and ``anthropic`` providers can). It makes a
few calls through the provider and judges only the raw capture: the status, the headers, the
body and every SSE event as sent, never the answer the forgiving client repaired. Each
chat-completions chunk and answer is also checked against a schema derived from the official
``openai`` package's types.
"""

from __future__ import annotations

from chatmodels.conformance.requirements import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST, SHOULD = Level.MUST, Level.SHOULD
HTTP = Capability.OPENAI_COMPATIBLE
MESSAGES = Capability.ANTHROPIC_COMPATIBLE

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "WIRE-001",
        MUST,
        "A streamed answer is sent with Content-Type text/event-stream",
        "SDKs pick their parser from the media type; a stream sent as anything else is read "
        "as one JSON body and fails, or buffers until the end behind a proxy.",
        HTTP,
    ),
    Requirement(
        "WIRE-002",
        MUST,
        "Every chunk of a stream names the same id and the same model",
        "Clients key a streamed answer on its id and show its model; chunks with changing ids "
        "split one answer into many and break tracing and caching.",
        HTTP,
    ),
    Requirement(
        "WIRE-003",
        MUST,
        "object is 'chat.completion.chunk' on every chunk and 'chat.completion' on a whole answer",
        "Typed SDKs dispatch on object; a wrong value is rejected by strict clients and "
        "silently misread by loose ones.",
        HTTP,
    ),
    Requirement(
        "WIRE-004",
        MUST,
        "created is an integer Unix time on every chunk and answer",
        "SDK types declare created an integer; a string or a float fails validation in "
        "typed clients and breaks sorting in logs.",
        HTTP,
    ),
    Requirement(
        "WIRE-005",
        MUST,
        "finish_reason is set exactly once per choice, on that choice's last chunk",
        "Clients stop reading a choice at its finish reason; a reason on every chunk ends "
        "the answer after its first piece, and none leaves it open.",
        HTTP,
    ),
    Requirement(
        "WIRE-006",
        MUST,
        "Usage comes on exactly one final chunk when stream_options.include_usage is set",
        "Billing and budgets add up the usage they see; usage on every chunk is counted many "
        "times, and usage that never comes cannot be billed.",
        HTTP,
    ),
    Requirement(
        "WIRE-007",
        MUST,
        "A stream ends with the data: [DONE] event",
        "[DONE] is how a client tells a finished stream from a cut one; without it every "
        "answer looks truncated, or truncated answers look complete.",
        HTTP,
    ),
    Requirement(
        "WIRE-008",
        SHOULD,
        "No chunk is empty: each carries a role, content, a tool-call delta, a finish reason "
        "or usage",
        "Empty keep-alive chunks cost bandwidth and parsing, and clients that count chunks "
        "as tokens or render each one misreport speed and flicker.",
        HTTP,
    ),
    Requirement(
        "WIRE-009",
        MUST,
        "Every streamed tool-call delta carries its index",
        "The index is the only key that ties argument fragments to their call; without it "
        "parallel tool calls merge into one broken call.",
        HTTP,
    ),
    Requirement(
        "WIRE-010",
        MUST,
        "A streamed tool call sends its id and function name once, in its first delta",
        "Clients concatenate every delta's fields; a name repeated in each delta becomes "
        "'get_weatherget_weather' and the call names no tool.",
        HTTP,
    ),
    Requirement(
        "WIRE-011",
        MUST,
        "Streamed tool-call arguments are string fragments that concatenate to JSON equal to "
        "the same call's arguments when not streamed",
        "Clients join the fragments and parse once at the end; fragments that are not text, "
        "or do not add up to the answer a plain call gives, break every streamed tool call.",
        HTTP,
    ),
    Requirement(
        "WIRE-012",
        MUST,
        "A tool call's arguments in a whole answer are a JSON string, not an object",
        "The protocol carries arguments as text so a client can show and validate them as "
        "sent; an object breaks typed SDKs and forces every client to guess.",
        HTTP,
    ),
    Requirement(
        "WIRE-013",
        MUST,
        'An error answer (HTTP 4xx or 5xx) has the body {"error": {"message", "type", "code"}}',
        "SDKs read the message and type from this envelope to raise the right exception; "
        "any other shape loses the server's explanation.",
        HTTP,
    ),
    Requirement(
        "WIRE-014",
        MUST,
        "Every chunk and answer matches the chat-completions schema of the openai package's types",
        "The official SDK's types are what clients validate against; a missing or mistyped "
        "field breaks them even when the rest of the answer is right.",
        HTTP,
    ),
    Requirement(
        "WIRE-015",
        SHOULD,
        "With seed and temperature 0, a server declared deterministic repeats its answer",
        "Tests, evaluations and caches rely on a seeded answer repeating; a server that "
        "ignores the seed makes them flaky.",
        HTTP,
    ),
    Requirement(
        "WIRE-016",
        MUST,
        "A Messages stream sends message_start first and message_stop last, once each",
        "SDKs build the message from message_start and finish it at message_stop; a stream "
        "that starts with content or stops twice leaves clients with no message or a "
        "truncated one.",
        MESSAGES,
    ),
    Requirement(
        "WIRE-017",
        MUST,
        "Messages content blocks open at index 0, 1, 2... one at a time, each closed before "
        "the next, with deltas only inside their open block",
        "Clients append each delta to the block its index names and close it at "
        "content_block_stop; an overlapping, skipped or reopened index puts text in the wrong "
        "block or loses it.",
        MESSAGES,
    ),
    Requirement(
        "WIRE-018",
        MUST,
        "After the last content block closes, a Messages message_delta carries a documented "
        "stop_reason and usage.output_tokens",
        "The stop reason (end_turn, max_tokens, tool_use...) tells clients whether to run tools "
        "or continue; without it, or without the output count, agents loop or bill wrongly.",
        MESSAGES,
    ),
    Requirement(
        "WIRE-019",
        MUST,
        "A Messages stream's message_start carries usage.input_tokens",
        "The prompt's token count is only sent on message_start; without it a streamed call "
        "cannot be metered or checked against the context window.",
        MESSAGES,
    ),
    Requirement(
        "WIRE-020",
        MUST,
        "A streamed tool_use block's input_json_delta fragments join to the input the same "
        "call returns unstreamed",
        "Clients concatenate partial_json and parse it when the block stops; a dropped or "
        "re-sent fragment makes the tool run with different or unparsable arguments.",
        MESSAGES,
    ),
    Requirement(
        "WIRE-021",
        MUST,
        'A Messages error answer (HTTP 4xx or 5xx) has the body {"type": "error", "error": '
        '{"type", "message"}}',
        "SDKs raise typed errors (overloaded_error, rate_limit_error...) from error.type; a "
        "bare body is reported as an unknown failure and retried or not by guesswork.",
        MESSAGES,
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "wire_call_timeout",
        60.0,
        "Seconds any one call of the wire suite may take before it is abandoned.",
    ),
    Setting(
        "wire_max_tokens",
        64,
        "max_tokens of the wire suite's calls: long enough for a tool call, short for speed.",
    ),
)
