"""The shipped Open Responses schema: derived from the spec's OpenAPI document by the tool in
tools/, with its source recorded, and used to name the path at fault."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from chatmodels.conformance._responses_schema import (
    event_problems,
    event_types,
    load_responses_schema,
    response_problems,
)

TOOL = Path(__file__).resolve().parents[2] / "tools" / "derive_openresponses_schema.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_openresponses_schema", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _document() -> dict[str, Any]:
    ref = "#/components/schemas/"
    event = {
        "type": "object",
        "required": ["type", "sequence_number"],
        "description": "dropped",
        "properties": {
            "type": {"type": "string", "enum": ["response.done"], "default": "response.done"},
            "sequence_number": {"type": "integer"},
            "response": {"$ref": ref + "Resp"},
        },
    }
    resp = {
        "type": "object",
        "title": "dropped",
        "x-openresponses-added-in": "dropped",
        "properties": {"description": {"type": "string", "description": "dropped"}},
    }
    content = {
        "application/json": {"schema": {"$ref": ref + "Resp"}},
        "text/event-stream": {"schema": {"oneOf": [{"$ref": ref + "Done"}]}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"version": "2099-01-01"},
        "paths": {"/responses": {"post": {"responses": {"200": {"content": content}}}}},
        "components": {"schemas": {"Done": event, "Resp": resp, "Unused": {"type": "null"}}},
    }


class TestDerive:
    def test_keeps_constraints_and_names_the_source(self):
        """Annotations go, a property named like one stays, refs point at $defs, source kept."""
        derived = _tool().derive(_document(), "abc123")
        assert derived["source"]["commit"] == "abc123"
        assert derived["source"]["spec_version"] == "2099-01-01"
        assert derived["events"] == {"response.done": "Done"}
        assert derived["response"] == "Resp"
        assert sorted(derived["$defs"]) == ["Done", "Resp"]
        assert derived["$defs"]["Resp"] == {
            "type": "object",
            "properties": {"description": {"type": "string"}},
        }
        assert derived["$defs"]["Done"]["properties"]["response"] == {"$ref": "#/$defs/Resp"}

    def test_cli_writes_the_file(self, tmp_path):
        """--openapi with --commit writes the derived file where --out says."""
        source = tmp_path / "openapi.json"
        source.write_text(json.dumps(_document()))
        out = tmp_path / "schema.json"
        assert (
            _tool().main(["--openapi", str(source), "--commit", "c0ffee", "--out", str(out)]) == 0
        )
        assert json.loads(out.read_text())["source"]["commit"] == "c0ffee"


class TestShipped:
    def test_names_the_spec_it_came_from(self):
        """The shipped file records the spec repository, version and a full commit."""
        source = load_responses_schema()["source"]
        assert source["repository"] == "openresponses/openresponses"
        assert source["spec_version"]
        assert len(source["commit"]) == 40

    def test_holds_the_24_streaming_events(self):
        """Every streaming event of the spec is there, the terminal ones and error included."""
        assert len(event_types()) == 24
        assert {"response.completed", "response.failed", "response.incomplete", "error"} <= (
            event_types()
        )

    def test_problem_names_the_path(self):
        """A bad event is reported at the field at fault, with what was expected."""
        event = {
            "type": "response.output_item.added",
            "sequence_number": 3,
            "output_index": 0,
            "item": {"type": "message", "id": "m", "status": "done", "role": "assistant"},
        }
        (problem,) = event_problems(event)
        assert str(problem).startswith("item.status: got 'done', expected")
        assert "'in_progress' or 'completed' or 'incomplete'" in str(problem)

    def test_unknown_event_type_is_named(self):
        """An event whose type the spec lacks is reported at type."""
        (problem,) = event_problems({"type": "response.nope", "sequence_number": 1})
        assert str(problem).startswith("type: got type 'response.nope'")

    def test_response_requires_its_fields(self):
        """A response object missing a required field is reported at that field."""
        assert "id: missing" in [str(p) for p in response_problems({"object": "response"})]
