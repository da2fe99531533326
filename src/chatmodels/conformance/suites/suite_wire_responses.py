"""Wire suite, Open Responses: the raw events and responses of ``POST /responses``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites import _responses_judges as judge
from chatmodels.conformance.suites._wire_judges import StreamView
from chatmodels.conformance.suites._wire_support import (
    WireKit,
    assert_wire,
    inconclusive,
    open_kit,
)
from chatmodels.provider import Capability

pytestmark = pytest.mark.capability("streaming")


@pytest.fixture(scope="session")
def responses_kit(chatmodels_subject: Subject, chatmodels_settings: Settings) -> Iterator[WireKit]:
    """The Open Responses probes, shared by this module's requirements."""
    yield from open_kit(chatmodels_subject, chatmodels_settings, Capability.RESPONSES_COMPATIBLE)


def _tool_stream(kit: WireKit) -> StreamView:
    view = kit.tool_probe("tool stream", "stream").stream()
    if not judge.has_function_call(view):
        inconclusive("the model answered the streamed tool probe without a function call")
    return view


@pytest.mark.requirement("WIRE-030")
def test_events_and_responses_match_the_schema(responses_kit: WireKit) -> None:
    """Every event of every streamed probe, and every whole response, validates."""
    problems = [p for view in responses_kit.streams() for p in judge.schema_problems(view)]
    problems += [p for w in responses_kit.wholes() for p in judge.schema_problems(None, w)]
    assert_wire(problems, "Open Responses schema problems", responses_kit)


@pytest.mark.requirement("WIRE-031")
def test_sequence_numbers_rise(responses_kit: WireKit) -> None:
    """Every event has an integer sequence_number, each above the one before."""
    problems = [p for view in responses_kit.streams() for p in judge.sequence_problems(view)]
    assert_wire(problems, "sequence_number problems", responses_kit)


@pytest.mark.requirement("WIRE-032")
def test_one_terminal_event_last(responses_kit: WireKit) -> None:
    """Each stream ends with exactly one terminal event."""
    problems = [p for view in responses_kit.streams() for p in judge.terminal_problems(view)]
    assert_wire(problems, "terminal-event problems", responses_kit)


@pytest.mark.requirement("WIRE-033")
def test_items_open_before_and_close_after(responses_kit: WireKit) -> None:
    """No event of an output item comes before its added event or after its done event."""
    problems = [p for view in responses_kit.streams() for p in judge.item_order_problems(view)]
    assert_wire(problems, "output-item order problems", responses_kit)


@pytest.mark.requirement("WIRE-034")
@pytest.mark.capability("tools")
def test_argument_deltas_add_up(responses_kit: WireKit) -> None:
    """A streamed call's argument deltas join to its done events' arguments."""
    problems = judge.argument_problems(_tool_stream(responses_kit))
    assert_wire(problems, "function-call argument problems", responses_kit)
