"""Render ``conformance/SPEC.md`` from the requirement catalogue, and tell when it is stale."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chatmodels.conformance.requirements import CATALOGUE, SUITE_VERSION, Catalogue, Level

__all__ = ["recorded_version", "render_spec", "spec_is_current", "suite_tests"]

_SUITES = Path(__file__).parent / "suites"


def render_spec(catalogue: Catalogue = CATALOGUE, suite_version: str = SUITE_VERSION) -> str:
    """The specification text: every requirement grouped by area, with the suite version."""
    from chatmodels.conformance.report._render import environment

    areas = [(area, [r for r in catalogue if r.area == area]) for area in catalogue.areas]
    counts = {level.value: sum(r.level is level for r in catalogue) for level in Level}
    tests = suite_tests()
    return (
        environment()
        .get_template("spec.md")
        .render(
            catalogue=catalogue,
            suite_version=suite_version,
            digest=catalogue.digest(),
            version_digest=catalogue.version_digest(),
            areas=areas,
            counts=counts,
            tests=tests,
        )
    )


def suite_tests(suites: Path = _SUITES) -> dict[str, list[str]]:
    """Requirement ID -> ``suite_<file>.py::test_name`` of each suite test marked with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(suites.glob("suite_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, prefix in _definitions(tree.body, ""):
            for decorator in node.decorator_list:
                if (
                    isinstance(decorator, ast.Call)
                    and isinstance(decorator.func, ast.Attribute)
                    and decorator.func.attr == "requirement"
                    and decorator.args
                    and isinstance(decorator.args[0], ast.Constant)
                ):
                    test = f"{path.name}::{prefix}{node.name}"
                    found.setdefault(str(decorator.args[0].value), []).append(test)
    return found


def _definitions(
    body: list[ast.stmt], prefix: str
) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, str]]:
    out: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, str]] = []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.append((node, prefix))
        if isinstance(node, ast.ClassDef):
            out.extend(_definitions(node.body, f"{prefix}{node.name}::"))
    return out


def spec_is_current(path: Path, catalogue: Catalogue = CATALOGUE) -> bool:
    """Whether the file at *path* matches what :func:`render_spec` would write now."""
    try:
        return Path(path).read_text(encoding="utf-8") == render_spec(catalogue)
    except FileNotFoundError:
        return False


def recorded_version(spec_text: str) -> tuple[str, str] | None:
    """The suite version and version digest a rendered SPEC.md records, or None if it has none."""
    version = re.search(r"^Suite version \*\*([^*]+)\*\*", spec_text, re.MULTILINE)
    digest = re.search(r"^Version digest `([0-9a-f]{64})`", spec_text, re.MULTILINE)
    return (version[1], digest[1]) if version and digest else None
