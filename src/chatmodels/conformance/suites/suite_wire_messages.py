"""Wire suite, Anthropic Messages: the raw events and error bodies of a Messages server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites import _messages_judges as judge
from chatmodels.conformance.suites._wire_judges import StreamView
from chatmodels.conformance.suites._wire_support import (
    WireKit,
    assert_wire,
    inconclusive,
    open_kit,
)
from chatmodels.provider import Capability


@pytest.fixture(scope="session")
def messages_kit(chatmodels_subject: Subject, chatmodels_settings: Settings) -> Iterator[WireKit]:
    """The Anthropic Messages probes, shared by this module's requirements."""
    yield from open_kit(chatmodels_subject, chatmodels_settings, Capability.ANTHROPIC_COMPATIBLE)


def _tool_stream(kit: WireKit) -> StreamView:
    view = kit.tool_probe("tool stream", "stream").stream()
    if not judge.whole_inputs({"content": _started_blocks(view)}):
        inconclusive("the model answered the streamed tool probe without a tool_use block")
    return view


def _streams(kit: WireKit) -> list[StreamView]:
    """The text stream, and the tool stream when tools are declared (it must call a tool)."""
    return [kit.text_stream(), *([_tool_stream(kit)] if kit.declares(Capability.TOOLS) else [])]


def _started_blocks(view: StreamView) -> list[object]:
    return [
        data.get("content_block")
        for _, data in view.objects()
        if data.get("type") == "content_block_start"
    ]


@pytest.mark.requirement("WIRE-016")
@pytest.mark.capability("streaming")
def test_stream_starts_and_stops_once(messages_kit: WireKit) -> None:
    """message_start comes first and message_stop last, once each (pings aside)."""
    problems = [p for view in _streams(messages_kit) for p in judge.order_problems(view)]
    assert_wire(problems, "event-order problems", messages_kit)


@pytest.mark.requirement("WIRE-017")
@pytest.mark.capability("streaming")
def test_blocks_open_and_close_in_index_order(messages_kit: WireKit) -> None:
    """Content blocks open at index 0, 1, 2..., one at a time, deltas inside their block."""
    problems = [p for view in _streams(messages_kit) for p in judge.block_problems(view)]
    assert_wire(problems, "content-block problems", messages_kit)


@pytest.mark.requirement("WIRE-018")
@pytest.mark.capability("streaming")
def test_message_delta_carries_stop_reason_and_usage(messages_kit: WireKit) -> None:
    """After the last block closes, a message_delta carries stop_reason and output usage."""
    problems = judge.message_delta_problems(messages_kit.text_stream())
    assert_wire(problems, "message_delta problems", messages_kit)


@pytest.mark.requirement("WIRE-019")
@pytest.mark.capability("streaming")
def test_message_start_carries_input_tokens(messages_kit: WireKit) -> None:
    """message_start's message has usage.input_tokens."""
    problems = judge.input_tokens_problems(messages_kit.text_stream())
    assert_wire(problems, "input-token problems", messages_kit)


@pytest.mark.requirement("WIRE-020")
@pytest.mark.capability("streaming", "tools")
def test_tool_input_deltas_join_to_the_same_input(messages_kit: WireKit) -> None:
    """input_json_delta fragments join to the input of the non-streamed tool_use block."""
    view = _tool_stream(messages_kit)
    whole = messages_kit.tool_probe("tool call", "invoke").whole()
    if not judge.whole_inputs(whole):
        inconclusive("the model answered the tool probe without a tool_use block")
    problems, mismatches = judge.tool_input_problems(view, whole)
    assert_wire(problems, "tool-input problems", messages_kit)
    if mismatches and not messages_kit.declares(Capability.DETERMINISTIC):
        inconclusive(
            "; ".join(mismatches) + ", but the server is not declared deterministic, so two "
            "calls may differ (declare deterministic=true to judge this)"
        )
    assert_wire(mismatches, "tool-input mismatches", messages_kit)


@pytest.mark.requirement("WIRE-021")
def test_error_bodies_are_messages_envelopes(messages_kit: WireKit) -> None:
    """Every 4xx/5xx answer of the run has the {"type": "error", "error": {...}} envelope."""
    problems = [p for e in messages_kit.errors() for p in judge.envelope_problems(e)]
    assert_wire(problems, "error-body problems", messages_kit)
