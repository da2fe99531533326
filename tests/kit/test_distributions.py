"""Two distributions from one tree: the light library and the kit that depends on it."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _build(project: Path, out: Path) -> zipfile.ZipFile:
    """Build one wheel with the installed hatchling (no build environment, no network)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(project)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def _metadata(wheel: zipfile.ZipFile) -> tuple[list[str], str]:
    """The wheel's Requires-Dist lines and its entry_points.txt."""
    names = wheel.namelist()
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    entry = next((n for n in names if n.endswith(".dist-info/entry_points.txt")), None)
    message = Parser().parsestr(wheel.read(meta).decode())
    return message.get_all("Requires-Dist") or [], wheel.read(entry).decode() if entry else ""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return _build(ROOT / "packages" / "chatmodels", tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    return _build(ROOT, tmp_path_factory.mktemp("kit"))


def test_library_ships_every_library_module_and_no_kit(library: zipfile.ZipFile) -> None:
    names = set(library.namelist())
    expected = {
        f"chatmodels/{p.relative_to(ROOT / 'src' / 'chatmodels').as_posix()}"
        for p in (ROOT / "src" / "chatmodels").rglob("*")
        if p.is_file()
        and "conformance" not in p.parts
        and "__pycache__" not in p.parts
        and p.suffix != ".pyc"
    }
    assert expected - names == set(), "library modules missing from the chatmodels wheel"
    assert [n for n in names if n.startswith("chatmodels/conformance")] == []
    assert [n for n in names if "__pycache__" in n] == []


def test_library_needs_only_the_otel_api(library: zipfile.ZipFile) -> None:
    requires, entry_points = _metadata(library)
    runtime = [r for r in requires if "extra ==" not in r]
    assert [re.split(r"[<>=!~ ;\[]", r)[0] for r in runtime] == ["opentelemetry-api"]
    assert any(r.startswith("httpx") and "extra == 'http'" in r.replace('"', "'") for r in requires)
    assert "==" not in " ".join(r.split(";")[0] for r in requires), "no exact pins"
    assert "[chatmodels.providers]" in entry_points
    assert "reference = chatmodels.providers.reference:ReferenceProvider" in entry_points


def test_kit_ships_only_the_kit_and_depends_on_the_library(kit: zipfile.ZipFile) -> None:
    files = [n for n in kit.namelist() if ".dist-info/" not in n]
    assert files, "the kit wheel is empty"
    assert all(n.startswith("chatmodels/conformance/") for n in files), files[:5]
    assert "chatmodels/conformance/report/schema.json" in files
    requires, entry_points = _metadata(kit)
    assert any(r.startswith("chatmodels[http]") for r in requires)
    assert "[pytest11]" in entry_points
    assert "chatmodels.providers" not in entry_points


def test_library_imports_without_pytest_or_httpx() -> None:
    """What a provider imports in production pulls in neither the test stack nor httpx."""
    code = (
        "import sys\n"
        "import chatmodels, chatmodels.registry, chatmodels.telemetry\n"
        "from chatmodels.providers.reference import ReferenceProvider\n"
        "from chatmodels import Message\n"
        "ReferenceProvider().create_chat_model().invoke([Message.user('hi')])\n"
        "heavy = ('pytest', 'httpx', 'chatmodels.conformance')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"
