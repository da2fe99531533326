"""Requests and checks for structured output, images and reasoning, shared by the suites.

Every call goes through ``_bounded.py``, whose watchdog thread a hung provider cannot stall.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from chatmodels.options import JsonSchemaFormat
from chatmodels.parts import ImagePart

#: An 8x8 red square, small enough for any context window.
RED_PNG = ImagePart(
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR42mP4z8CA"
    "FTEMLQkAKP8/wc53yE8AAAAASUVORK5CYII="
)
VISION_PROMPT = "What colour fills this image? Answer in one word."

CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1},
        "country": {"type": "string", "minLength": 1},
        "population_millions": {"type": "number", "minimum": 0},
        "landmarks": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "minItems": 1,
            "maxItems": 3,
        },
    },
    "required": ["city", "country", "population_millions", "landmarks"],
    "additionalProperties": False,
}
CITY_FORMAT = JsonSchemaFormat(CITY_SCHEMA, name="city_card", strict=True)
SCHEMA_PROMPT = (
    "Describe the capital of France: its name, country, population in millions and up to "
    "three landmarks."
)

REASONING_PROMPT = "What is 17 multiplied by 23? Think it through, then answer with the number."
_THINK_TAG = re.compile(r"</?\s*(think|thinking|reasoning)\s*>", re.IGNORECASE)
#: Reasoning shorter than this may appear in an answer by coincidence ("391").
_LEAK_MIN_CHARS = 20


def schema_problem(text: str, what: str) -> str | None:
    """Say why *text* is not JSON valid against CITY_SCHEMA, or None."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"{what} is not JSON ({exc}): {text[:200]!r}"
    errors = sorted(jsonschema.Draft202012Validator(CITY_SCHEMA).iter_errors(value), key=str)
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the top level"
        return f"{what} breaks the schema at {where}: {errors[0].message} (content {text[:200]!r})"
    return None


def leak_problem(text: str, reasoning: str, what: str) -> str | None:
    """Say how reasoning leaked into the answer *text*, or None."""
    tag = _THINK_TAG.search(text)
    if tag:
        return f"{what} content holds the reasoning tag {tag.group(0)!r}: {text[:200]!r}"
    shown = reasoning.strip()
    if len(shown) >= _LEAK_MIN_CHARS and shown in text:
        return f"{what} content repeats its reasoning {shown[:80]!r} verbatim"
    return None
