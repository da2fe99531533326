"""Regenerate the two files rendered from the requirement catalogue, in the right order.

Run from anywhere after changing ``catalogue/<area>.py`` or ``SUITE_VERSION``:
``.venv/bin/python tools/regenerate.py`` writes ``conformance/SPEC.md`` and
``tests/golden_requirements.txt``; ``--check`` only reports which are stale (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chatmodels.conformance.spec import golden_lines, render_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "conformance" / "SPEC.md"
GOLDEN = ROOT / "tests" / "golden_requirements.txt"


def rendered() -> dict[Path, str]:
    """Each generated file and the text the catalogue renders for it now."""
    return {GOLDEN: "\n".join(golden_lines()) + "\n", SPEC: render_spec()}


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check``, compare) every generated file; print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = parser.parse_args(argv)
    stale = 0
    for path, text in rendered().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        name = path.relative_to(ROOT)
        if current == text:
            print(f"{name}: up to date")
            continue
        stale += 1
        if args.check:
            print(f"{name}: stale; run: python tools/regenerate.py")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: rewritten")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
