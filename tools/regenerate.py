"""Regenerate ``conformance/SPEC.md``, the one file rendered from the requirement catalogue.

Run from anywhere after changing ``catalogue/<area>.py``, a suite's requirement markers or
``SUITE_VERSION``: ``.venv/bin/python tools/regenerate.py``; ``--check`` only reports whether
it is stale (exit 1). SPEC.md records the suite version and the version digest that the
project's catalogue test compares.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chatmodels.conformance.spec import render_spec

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "conformance" / "SPEC.md"


def rendered() -> dict[Path, str]:
    """Each generated file and the text the catalogue renders for it now."""
    return {SPEC: render_spec()}


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
