"""Requirements of the wire suite for Anthropic Messages: the raw ``/messages`` protocol.

They apply to providers declaring ``anthropic_compatible`` that record their HTTP exchanges
(the bundled ``anthropic`` provider does), and judge only the raw capture: the event stream
as sent (its order, its content blocks, the final ``message_delta``) and error bodies.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST = Level.MUST
MESSAGES = Capability.ANTHROPIC_COMPATIBLE

REQUIREMENTS: tuple[Requirement, ...] = (
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

SETTINGS: tuple[Setting, ...] = ()
