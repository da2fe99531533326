"""Render ``conformance/SPEC.md`` from the requirement catalogue, and tell when it is stale."""

from __future__ import annotations

from pathlib import Path

from chatmodels.conformance.requirements import CATALOGUE, SUITE_VERSION, Catalogue, Level

__all__ = ["golden_lines", "render_spec", "spec_is_current"]


def render_spec(catalogue: Catalogue = CATALOGUE, suite_version: str = SUITE_VERSION) -> str:
    """The specification text: every requirement grouped by area, with the suite version."""
    from chatmodels.conformance.report._render import environment

    areas = [(area, [r for r in catalogue if r.area == area]) for area in catalogue.areas]
    counts = {level.value: sum(r.level is level for r in catalogue) for level in Level}
    return (
        environment()
        .get_template("spec.md")
        .render(
            catalogue=catalogue,
            suite_version=suite_version,
            digest=catalogue.digest(),
            areas=areas,
            counts=counts,
        )
    )


def golden_lines(catalogue: Catalogue = CATALOGUE, suite_version: str = SUITE_VERSION) -> list[str]:
    """The suite version, then ``ID LEVEL CAPABILITY`` per requirement: what a version freezes."""
    lines = [f"suite_version {suite_version}"]
    for r in catalogue:
        capability = r.capability.value if r.capability else "-"
        lines.append(f"{r.id} {r.level.value} {capability}")
    return lines


def spec_is_current(path: Path, catalogue: Catalogue = CATALOGUE) -> bool:
    """Whether the file at *path* matches what :func:`render_spec` would write now."""
    try:
        return Path(path).read_text(encoding="utf-8") == render_spec(catalogue)
    except FileNotFoundError:
        return False
