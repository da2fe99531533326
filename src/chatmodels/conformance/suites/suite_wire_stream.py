"""Wire suite, streams: the raw SSE events of a streamed answer, as the server sent them."""

from __future__ import annotations

import pytest

from chatmodels.conformance.suites import _wire_judges as judge
from chatmodels.conformance.suites._wire_support import (
    WireKit,
    assert_wire,
    inconclusive,
    wire_kit,
)
from chatmodels.provider import Capability

__all__ = ["wire_kit"]

pytestmark = pytest.mark.capability("streaming")


@pytest.mark.requirement("WIRE-001")
def test_stream_is_an_event_stream(wire_kit: WireKit) -> None:
    """A 2xx streamed answer is announced as text/event-stream."""
    problems = judge.content_type_problems(wire_kit.text_stream())
    assert_wire(problems, "media-type problems", wire_kit)


@pytest.mark.requirement("WIRE-002")
def test_chunks_share_id_and_model(wire_kit: WireKit) -> None:
    """Every chunk of a stream names the same id and model."""
    assert_wire(judge.identity_problems(wire_kit.text_stream()), "identity problems", wire_kit)


@pytest.mark.requirement("WIRE-005")
def test_finish_reason_once_at_the_end(wire_kit: WireKit) -> None:
    """finish_reason is set once per choice, on its last chunk."""
    problems = judge.finish_problems(wire_kit.text_stream())
    assert_wire(problems, "finish-reason problems", wire_kit)


@pytest.mark.requirement("WIRE-006")
def test_usage_once_when_asked(wire_kit: WireKit) -> None:
    """Usage comes on one final chunk with include_usage, and never without it."""
    problems = judge.usage_problems(wire_kit.text_stream())
    unasked = wire_kit.unasked_usage_stream()
    if unasked is not None:
        problems += judge.usage_problems(unasked)
    assert_wire(problems, "usage problems", wire_kit)


@pytest.mark.requirement("WIRE-007")
def test_stream_ends_with_done(wire_kit: WireKit) -> None:
    """The last event of a stream is data: [DONE]."""
    assert_wire(judge.done_problems(wire_kit.text_stream()), "stream-end problems", wire_kit)


@pytest.mark.requirement("WIRE-008")
def test_no_empty_chunks(wire_kit: WireKit) -> None:
    """Every chunk carries a role, content, a tool delta, a finish reason or usage."""
    problems = judge.empty_chunk_problems(wire_kit.text_stream())
    assert_wire(problems, "empty-chunk problems", wire_kit)


@pytest.mark.requirement("WIRE-009")
@pytest.mark.capability("tools")
def test_tool_deltas_carry_index(wire_kit: WireKit) -> None:
    """Every streamed tool-call delta has an integer index."""
    problems = judge.tool_index_problems(wire_kit.tool_stream())
    assert_wire(problems, "tool-delta problems", wire_kit)


@pytest.mark.requirement("WIRE-010")
@pytest.mark.capability("tools")
def test_tool_id_and_name_once(wire_kit: WireKit) -> None:
    """A streamed tool call sends its id and name once, in its first delta."""
    problems = judge.tool_once_problems(wire_kit.tool_stream())
    assert_wire(problems, "tool-delta problems", wire_kit)


@pytest.mark.requirement("WIRE-011")
@pytest.mark.capability("tools")
def test_streamed_arguments_join_to_the_same_json(wire_kit: WireKit) -> None:
    """Argument fragments are text that joins to JSON equal to the non-streamed arguments."""
    problems, mismatches = judge.arguments_problems(wire_kit.tool_stream(), wire_kit.tool_call())
    assert_wire(problems, "streamed-argument problems", wire_kit)
    if mismatches and not wire_kit.declares(Capability.DETERMINISTIC):
        inconclusive(
            "; ".join(mismatches) + ", but the server is not declared deterministic, so two "
            "calls may differ (declare deterministic=true to judge this)"
        )
    assert_wire(mismatches, "streamed-argument mismatches", wire_kit)
