"""The public namespace: every exported name resolves, and __all__ is complete and sorted."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chatmodels


class TestExports:
    def test_all_is_sorted_and_unique(self) -> None:
        """__all__ is sorted, so additions show as one-line diffs."""
        assert list(chatmodels.__all__) == sorted(set(chatmodels.__all__))

    def test_every_exported_name_resolves(self) -> None:
        """Each name in __all__ loads from its module."""
        for name in chatmodels.__all__:
            assert getattr(chatmodels, name) is not None, name

    def test_every_public_name_of_the_modules_is_exported(self) -> None:
        """Public names of the core modules are all reachable from the package."""
        import chatmodels.di
        import chatmodels.errors
        import chatmodels.messages
        import chatmodels.options
        import chatmodels.parts
        import chatmodels.provider
        import chatmodels.registry
        import chatmodels.telemetry

        exported = set(chatmodels.__all__)
        skipped = {"MessageLike", "OptionsLike", "BatchResult", "ProviderFactory",
                   "coerce_messages", "coerce_options", "error_class_for",
                   "DEFAULT_ENTRY_POINT_GROUP", "ServiceFactory",
                   "ContentPart", "coerce_part", "data_uri_type"}  # fmt: skip
        for module in (
            chatmodels.errors, chatmodels.messages, chatmodels.options, chatmodels.parts,
            chatmodels.provider,
            chatmodels.registry, chatmodels.di, chatmodels.telemetry,
        ):  # fmt: skip
            missing = set(module.__all__) - exported - skipped
            assert not missing, f"{module.__name__}: {sorted(missing)}"

    def test_unknown_attribute_is_an_attribute_error(self) -> None:
        """A misspelt name raises AttributeError naming it."""
        with pytest.raises(AttributeError, match="Mesage"):
            chatmodels.Mesage  # type: ignore[attr-defined]  # noqa: B018

    def test_runtime_library_does_not_import_pytest(self) -> None:
        """Importing every runtime module leaves pytest unimported."""
        code = (
            "import sys, chatmodels\n"
            "[getattr(chatmodels, n) for n in chatmodels.__all__]\n"
            "import chatmodels.providers.reference\n"
            "print('pytest' in sys.modules)\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.strip() == "False", out.stderr
