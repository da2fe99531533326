"""Derive the Open Responses schemas the wire suite ships from the spec's own OpenAPI document.

Reads ``public/openapi/openapi.json`` of an ``openresponses/openresponses`` checkout and writes
``src/chatmodels/conformance/openresponses_schema.json``: the response object, each streaming
event named by its ``type``, and every component they reach, as plain JSON Schema (2020-12),
with the spec's version and the commit it came from.

    python tools/derive_openresponses_schema.py --git-dir PATH/openresponses.git
    python tools/derive_openresponses_schema.py --openapi openapi.json --commit SHA

The checkout is read, never kept: nothing of the spec's repository is committed here.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPOSITORY = "openresponses/openresponses"
DOCUMENT = "public/openapi/openapi.json"
OUT = Path(__file__).resolve().parents[1] / "src/chatmodels/conformance/openresponses_schema.json"
COMPONENTS = "#/components/schemas/"
#: Keywords that describe rather than constrain; the shipped file keeps only constraints.
ANNOTATIONS = frozenset({"description", "title", "example", "examples", "discriminator", "default"})
#: Keywords whose value is one schema, and those whose value is a list of schemas.
ONE_SCHEMA = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames"})
SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})


def _name(ref: str) -> str:
    if not ref.startswith(COMPONENTS):
        msg = f"$ref must point into {COMPONENTS!r}, got {ref!r}"
        raise SystemExit(msg)
    return ref[len(COMPONENTS) :]


def _constraints(schema: Any, reached: set[str]) -> Any:
    """Copy *schema* without annotations, refs pointed at ``$defs``; note each name reached."""
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "$ref":
            reached.add(_name(value))
            out[key] = f"#/$defs/{_name(value)}"
        elif key == "properties":
            out[key] = {name: _constraints(sub, reached) for name, sub in value.items()}
        elif key in ONE_SCHEMA:
            out[key] = _constraints(value, reached)
        elif key in SCHEMA_LISTS:
            out[key] = [_constraints(sub, reached) for sub in value]
        else:
            out[key] = value
    return out


def _event_refs(document: Mapping[str, Any]) -> list[str]:
    answer = document["paths"]["/responses"]["post"]["responses"]["200"]["content"]
    return [_name(branch["$ref"]) for branch in answer["text/event-stream"]["schema"]["oneOf"]]


def derive(document: Mapping[str, Any], commit: str) -> dict[str, Any]:
    """The shipped file's content, from the parsed OpenAPI *document* at *commit*."""
    components = document["components"]["schemas"]
    answer = document["paths"]["/responses"]["post"]["responses"]["200"]["content"]
    response = _name(answer["application/json"]["schema"]["$ref"])
    events: dict[str, str] = {}
    for name in _event_refs(document):
        kinds = components[name]["properties"]["type"]["enum"]
        if len(kinds) != 1:
            msg = f"{name}.type must name exactly one event type, got {kinds!r}"
            raise SystemExit(msg)
        events[kinds[0]] = name
    defs: dict[str, Any] = {}
    pending = [response, *events.values()]
    while pending:
        name = pending.pop()
        if name in defs:
            continue
        reached: set[str] = set()
        defs[name] = _constraints(components[name], reached)
        pending.extend(sorted(reached - defs.keys()))
    return {
        "source": {
            "repository": REPOSITORY,
            "path": DOCUMENT,
            "commit": commit,
            "spec_version": document["info"]["version"],
            "openapi": document["openapi"],
        },
        "response": response,
        "events": events,
        "$defs": dict(sorted(defs.items())),
    }


def _from_git(git_dir: str) -> tuple[dict[str, Any], str]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
        ).stdout

    return json.loads(git("show", f"HEAD:{DOCUMENT}")), git("rev-parse", "HEAD").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--git-dir", help="git directory of an openresponses checkout (HEAD)")
    source.add_argument("--openapi", type=Path, help=f"the {DOCUMENT} file itself")
    parser.add_argument("--commit", help="the spec commit the --openapi file comes from")
    parser.add_argument("--out", type=Path, default=OUT, help="Default: %(default)s")
    args = parser.parse_args(argv)
    if args.git_dir:
        document, commit = _from_git(args.git_dir)
    else:
        if not args.commit:
            parser.error("--openapi needs --commit SHA, the spec commit the file was read at")
        document, commit = json.loads(args.openapi.read_text(encoding="utf-8")), args.commit
    derived = derive(document, commit)
    args.out.write_text(json.dumps(derived, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    sys.stdout.write(
        f"wrote {args.out}: {len(derived['events'])} events, {len(derived['$defs'])} definitions, "
        f"spec {derived['source']['spec_version']} at {commit[:12]}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
