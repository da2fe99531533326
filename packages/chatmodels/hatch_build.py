"""Build hook: ship the library's part of the shared ``src/chatmodels`` tree, never the kit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# The kit is its own distribution (chatmodels-conformance); caches are never shipped.
_LEFT_OUT = {"conformance", "__pycache__"}


class LibraryOnly(BuildHookInterface):  # type: ignore[type-arg]
    """Force-include every library entry of ``src/chatmodels`` except the kit."""

    PLUGIN_NAME = "custom"

    def _library(self) -> Path:
        here = Path(self.root)
        for candidate in (here / "src" / "chatmodels", here.parents[1] / "src" / "chatmodels"):
            if (candidate / "__init__.py").is_file():
                return candidate
        raise FileNotFoundError(
            f"chatmodels sources not found: expected src/chatmodels in {here} (an sdist) "
            f"or in {here.parents[1]} (the repository)"
        )

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        library = self._library()
        prefix = "chatmodels" if self.target_name == "wheel" else "src/chatmodels"
        for entry in sorted(library.iterdir()):
            if entry.name in _LEFT_OUT or entry.suffix == ".pyc":
                continue
            build_data["force_include"][str(entry)] = f"{prefix}/{entry.name}"
