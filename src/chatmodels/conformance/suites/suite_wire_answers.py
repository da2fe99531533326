"""Wire suite, whole answers and errors: object, created, arguments, envelope, schema, seed."""

from __future__ import annotations

import json

import pytest

from chatmodels.conformance.suites import _wire_judges as judge
from chatmodels.conformance.suites._wire_support import (
    WireKit,
    assert_wire,
    inconclusive,
    wire_kit,
)
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability

__all__ = ["wire_kit"]


def _streams(kit: WireKit) -> list[judge.StreamView]:
    """The streamed probes this run can make: none when streaming is not declared."""
    return kit.streams() if kit.declares(Capability.STREAMING) else []


@pytest.mark.requirement("WIRE-003")
def test_object_values(wire_kit: WireKit) -> None:
    """object is chat.completion.chunk on chunks and chat.completion on whole answers."""
    problems = [p for v in _streams(wire_kit) for p in judge.object_problems(v)]
    problems += [p for w in wire_kit.wholes() for p in judge.object_problems(None, w)]
    assert_wire(problems, "object problems", wire_kit)


@pytest.mark.requirement("WIRE-004")
def test_created_is_an_integer(wire_kit: WireKit) -> None:
    """created is an integer on every chunk and whole answer."""
    problems = [p for v in _streams(wire_kit) for p in judge.created_problems(v)]
    problems += [p for w in wire_kit.wholes() for p in judge.created_problems(None, w)]
    assert_wire(problems, "created problems", wire_kit)


@pytest.mark.requirement("WIRE-012")
@pytest.mark.capability("tools")
def test_whole_arguments_are_a_json_string(wire_kit: WireKit) -> None:
    """A whole answer's tool-call arguments are a string, not an object."""
    problems = judge.whole_arguments_problems(wire_kit.tool_call())
    assert_wire(problems, "tool-argument problems", wire_kit)


@pytest.mark.requirement("WIRE-013")
def test_error_bodies_are_envelopes(wire_kit: WireKit) -> None:
    """Every 4xx/5xx answer of the run has the {"error": {...}} envelope."""
    problems = [p for e in wire_kit.errors() for p in judge.envelope_problems(e)]
    assert_wire(problems, "error-body problems", wire_kit)


@pytest.mark.requirement("WIRE-014")
def test_every_payload_matches_the_schema(wire_kit: WireKit) -> None:
    """Each chunk and whole answer validates against the openai package's schema."""
    problems: list[str] = []
    for view in _streams(wire_kit):
        for chunk in view.chunks:
            where = f"{view.exchange.method} {view.exchange.path} {chunk.where()}"
            problems += judge.schema_problem_lines(chunk.data, "chat.completion.chunk", where)
    for whole in wire_kit.wholes():
        problems += judge.schema_problem_lines(whole, "chat.completion", "whole answer")
    assert_wire(problems, "schema problems", wire_kit)


@pytest.mark.requirement("WIRE-015")
@pytest.mark.capability("deterministic")
def test_seed_repeats_the_answer(wire_kit: WireKit) -> None:
    """Two calls with the same seed at temperature 0 get the same message."""
    seeded = ChatOptions(seed=7, temperature=0.0)
    answers = []
    for name in ("seeded call 1", "seeded call 2"):
        whole = wire_kit.probe(name, "invoke", options=seeded).whole()
        try:
            message = whole["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            inconclusive(f"the {name} probe's answer has no message to compare")
        answers.append(
            json.dumps([message.get("content"), judge.whole_arguments(whole)], sort_keys=True)
        )
    problems = []
    if answers[0] != answers[1]:
        problems.append(
            f"seed=7, temperature=0 gave {answers[0][:120]!r}, then {answers[1][:120]!r}"
        )
    assert_wire(problems, "determinism problems", wire_kit)
