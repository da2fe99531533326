"""The chat-completions schema the wire suite checks answers against, derived from ``openai``.

The kit ships ``openai_chat_schema.json``, generated from the official ``openai`` package's
pydantic types, so the wire suite needs no ``openai`` at run time. Regenerate it after
upgrading ``openai``: ``python -m chatmodels.conformance._wire_schema``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

__all__ = [
    "SCHEMA_KINDS",
    "SCHEMA_PATH",
    "SchemaProblem",
    "generate_schema",
    "load_schema",
    "schema_problems",
    "validator_problems",
]

SCHEMA_PATH = Path(__file__).with_name("openai_chat_schema.json")

#: What the file holds: a JSON schema per kind of payload, named like the API's ``object``.
SCHEMA_KINDS = ("chat.completion", "chat.completion.chunk", "error")


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way a payload breaks the schema: where (``choices[0].index``) and what."""

    path: tuple[str | int, ...]
    message: str

    @property
    def field(self) -> str | int | None:
        """The name of the field at fault, or None for the payload itself."""
        return self.path[-1] if self.path else None

    def __str__(self) -> str:
        return f"{format_path(self.path) or '(payload)'}: {self.message}"


def format_path(path: Iterable[str | int]) -> str:
    """Write a JSON path the way code reads it: ``choices[0].delta.tool_calls[0].index``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def generate_schema() -> dict[str, Any]:
    """Derive the schemas from the installed ``openai`` package's types."""
    import openai
    from openai.types import ErrorObject
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    return {
        "openai_version": openai.__version__,
        "chat.completion": ChatCompletion.model_json_schema(),
        "chat.completion.chunk": ChatCompletionChunk.model_json_schema(),
        "error": ErrorObject.model_json_schema(),
    }


@cache
def load_schema() -> dict[str, Any]:
    """The shipped schemas, read once."""
    data: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema()[kind])


def _branch_cost(errors: list[ValidationError]) -> tuple[int, int, int]:
    """Rank a union's branch: a wrong discriminator (const) rules it out before a wrong type."""
    consts = sum(e.validator in ("const", "enum") for e in errors)
    types = sum(e.validator == "type" for e in errors)
    return consts, types, len(errors)


def _leaf(error: ValidationError) -> ValidationError:
    """Follow anyOf/oneOf to the branch the payload meant, and in it the deepest error.

    So an array that breaks the array schema reports its bad field, not "expected null", and
    a function tool call with bad arguments is not told it should be a custom tool call.
    """
    while error.context:
        branches: dict[object, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        best = min(branches.values(), key=_branch_cost)
        error = max(best, key=lambda e: len(e.absolute_path))
    return error


def _problem(error: ValidationError) -> SchemaProblem:
    error = _leaf(error)
    path = tuple(error.absolute_path)
    wanted: Any = error.validator_value
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        missing = [n for n in wanted if n not in present]
        return SchemaProblem((*path, *missing[:1]), "missing")
    if error.validator in ("const", "enum"):
        shown = wanted if error.validator == "const" else " or ".join(map(repr, wanted))
        return SchemaProblem(path, f"got {error.instance!r}, expected {shown!r}")
    if error.validator == "type":
        return SchemaProblem(path, f"got {error.instance!r}, expected {wanted}")
    return SchemaProblem(path, error.message)


def validator_problems(validator: Draft202012Validator, payload: Any) -> Iterator[SchemaProblem]:
    """Every way *payload* breaks *validator*'s schema, in a stable order, each at its leaf."""
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(map(str, e.path)))
    for error in errors:
        yield _problem(error)


def schema_problems(payload: Any, kind: str) -> Iterator[SchemaProblem]:
    """Every way *payload* breaks the schema of *kind*, in a stable order."""
    return validator_problems(_validator(kind), payload)


def main() -> int:
    """Write the schema file from the installed ``openai`` package."""
    SCHEMA_PATH.write_text(json.dumps(generate_schema(), indent=1, sort_keys=True) + "\n")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
