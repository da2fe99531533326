"""Requirements of the wire suite for Open Responses: the raw ``/responses`` protocol.

They apply to providers declaring ``responses_compatible`` that record their HTTP exchanges
(the bundled ``responses`` provider does), and judge only the raw capture. Every event and
response is checked against the schemas the kit derives from the spec's own OpenAPI document
(``openresponses/openresponses``; the version and commit are in ``openresponses_schema.json``).
Each rationale names the Open Responses compliance test that checks the same thing, and
how far that test goes.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST = Level.MUST
RESPONSES = Capability.RESPONSES_COMPATIBLE

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "WIRE-030",
        MUST,
        "Every streamed event and every whole response matches the Open Responses schema",
        "Clients generate their types from the spec; an event or response off the schema "
        "breaks them even when the text is right. Compliance tests 'basic-response' and "
        "'streaming-response' validate the same schemas; here every event of every probe is "
        "checked and the failing path is named.",
        RESPONSES,
    ),
    Requirement(
        "WIRE-031",
        MUST,
        "Every streamed event carries a sequence_number, strictly increasing",
        "Clients reorder and de-duplicate events by sequence_number after a reconnect; a "
        "missing or repeated number scrambles the text. Compliance test 'streaming-response' "
        "requires the field through the schema but never checks its order.",
        RESPONSES,
    ),
    Requirement(
        "WIRE-032",
        MUST,
        "A stream has exactly one terminal event (response.completed, .failed or .incomplete) "
        "and it is the last",
        "Clients stop at the first terminal event and report its status; response.completed "
        "sent after response.failed hides a failure, and a stream without one hangs the "
        "reader. Compliance test 'streaming-response' only reads the final response's status.",
        RESPONSES,
    ),
    Requirement(
        "WIRE-033",
        MUST,
        "An output item is opened (output_item.added) before its deltas and closed "
        "(output_item.done) after them",
        "Clients build each item from its added event and finish it at its done event; a delta "
        "before its item, or after it was closed, is dropped or attached to the wrong item. "
        "Compliance test 'tool-calling-streaming' checks that both events exist, not their order.",
        RESPONSES,
    ),
    Requirement(
        "WIRE-034",
        MUST,
        "A function call's argument deltas concatenate to the arguments of its "
        "function_call_arguments.done and output_item.done events",
        "Clients join the deltas as they come and trust the done event at the end; when the "
        "two disagree a tool runs with arguments the model never gave. Compliance test "
        "'tool-calling-streaming' checks that delta and done events exist, not that they agree.",
        RESPONSES,
    ),
)

SETTINGS: tuple[Setting, ...] = ()
