"""Requirements of the wire suite: the raw chat-completions protocol a server puts on the wire.

The suite applies to providers declaring ``openai_compatible`` that can record their HTTP
exchanges (the bundled ``openai`` provider can). It makes a few calls through the provider
and judges only the raw capture: the status, the headers, the body and every SSE event as
sent, never the answer the forgiving client repaired. Each chunk and answer is also checked
against a schema derived from the official ``openai`` package's types.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST, SHOULD = Level.MUST, Level.SHOULD
HTTP = Capability.OPENAI_COMPATIBLE

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
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "wire_call_timeout",
        60.0,
        "Seconds any one call of the wire suite may take before it is abandoned.",
        unit="s",
    ),
    Setting(
        "wire_max_tokens",
        64,
        "max_tokens of the wire suite's calls: long enough for a tool call, short for speed.",
        unit="tokens",
    ),
)
