"""The Open Responses schemas the wire suite checks events and responses against.

The kit ships ``openresponses_schema.json``, derived from the spec's own OpenAPI document
(``openresponses/openresponses``, ``public/openapi/openapi.json``) by
``tools/derive_openresponses_schema.py``; its ``source`` names the spec version and commit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from chatmodels.conformance._wire_schema import SchemaProblem, validator_problems

__all__ = [
    "RESPONSES_SCHEMA_PATH",
    "event_problems",
    "event_types",
    "load_responses_schema",
    "response_problems",
    "spec_source",
]

RESPONSES_SCHEMA_PATH = Path(__file__).with_name("openresponses_schema.json")


@cache
def load_responses_schema() -> dict[str, Any]:
    """The shipped schemas, read once."""
    data: dict[str, Any] = json.loads(RESPONSES_SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


def spec_source() -> str:
    """Which spec the schemas come from, for messages: ``openresponses 2026-04-24 @ 1e33c10``."""
    source = load_responses_schema()["source"]
    return f"{source['repository']} {source['spec_version']} @ {source['commit'][:7]}"


def event_types() -> frozenset[str]:
    """Every streaming event type the spec defines."""
    return frozenset(load_responses_schema()["events"])


@cache
def _validator(definition: str) -> Draft202012Validator:
    schema = load_responses_schema()
    return Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"})


def response_problems(payload: Any) -> Iterator[SchemaProblem]:
    """Every way *payload* breaks the spec's response object."""
    return validator_problems(_validator(load_responses_schema()["response"]), payload)


def event_problems(event: Any) -> Iterator[SchemaProblem]:
    """Every way one streaming *event* breaks the schema its ``type`` names."""
    kind = event.get("type") if isinstance(event, Mapping) else None
    definition = load_responses_schema()["events"].get(kind) if isinstance(kind, str) else None
    if definition is None:
        known = ", ".join(sorted(event_types()))
        what = "an object" if not isinstance(event, Mapping) else f"type {kind!r}"
        yield SchemaProblem(("type",), f"got {what}, expected one of the event types: {known}")
        return
    yield from validator_problems(_validator(definition), event)
