"""No secret the run was given appears in anything pytest prints or the kit writes."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from chatmodels.conformance.scrubber import REDACTED, Scrubber, given_secrets, scrub
from chatmodels.conformance.subject import Subject

HOSTILE = Path(__file__).with_name("hostile_secrets.py")

#: Failing requirements whose tests print fixtures, locals, output, logs and warnings.
SUBSET = "CORE-001,STREAM-001,ERR-003,HEALTH-001,PERF-001,OTEL-001"

CONFTEST = """
import pytest
from hostile_secrets import HostileProvider

@pytest.fixture(scope="session")
def chatmodels_provider():
    return HostileProvider
"""


class TestScrub:
    def test_masks_the_whole_secret_and_any_long_fragment(self) -> None:
        """A secret is masked whole, and so is a head or tail cut short by a truncated repr."""
        key = "sk-canary-0123456789abcdef"
        text = f"a {key} b {key[:12]}... c ...{key[-9:]} d"
        assert scrub(text, [key]) == f"a {REDACTED} b {REDACTED}... c ...{REDACTED} d"

    def test_short_values_are_left_alone(self) -> None:
        """Values under four characters would mangle every message and protect nothing."""
        assert scrub("a no b", ["no"]) == "a no b"

    def test_env_values_and_secret_names_are_secrets(self) -> None:
        """Options named secret and values read with env: are scrubbed; others are not."""
        raw = {"api_key": "sk-x123", "base_url": "env:URL", "latency": "0.25"}
        resolved = {"api_key": "sk-x123", "base_url": "http://h", "latency": "0.25"}
        assert given_secrets(raw, resolved) == ["sk-x123", "http://h"]

    def test_subject_repr_redacts_secret_options(self) -> None:
        """pytest prints fixture values: the subject's repr never shows a secret option."""
        subject = Subject("x", "option", {"api_key": "sk-hidden-1234", "latency": "0.1"})
        assert "sk-hidden-1234" not in repr(subject)
        assert "0.1" in repr(subject)

    def test_scrubber_learns_declared_secrets(self) -> None:
        """A value learnt later (a provider-declared secret option) is masked from then on."""
        scrubber = Scrubber()
        assert scrubber.text("token abcdef123") == "token abcdef123"
        scrubber.add(["abcdef123"])
        assert scrubber.text("token abcdef123") == f"token {REDACTED}"


def _everything_written(pytester: pytest.Pytester, result: pytest.RunResult) -> dict[str, str]:
    texts = {"stdout": result.stdout.str(), "stderr": result.stderr.str()}
    for path in pytester.path.rglob("*"):
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in str(path):
            texts[str(path.relative_to(pytester.path))] = path.read_text(errors="replace")
    return texts


#: The suites run past the preflight (which the hostile provider fails) unless it is kept.
NO_PREFLIGHT = ["--chatmodels-setting", "preflight_timeout=0"]


@pytest.mark.parametrize(
    ("given", "extra"),
    [
        ("command-line", NO_PREFLIGHT),
        ("env", [*NO_PREFLIGHT, "-n", "2"]),
        ("command-line", []),  # stopped by the preflight, whose message quotes the error
    ],
    ids=["command-line", "env-xdist", "preflight-stop"],
)
def test_hostile_provider_key_appears_nowhere(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, given: str, extra: list[str]
) -> None:
    """A provider quoting its key everywhere fails ERR-003, yet no output or file holds the key."""
    canary = f"sk-canary-{secrets.token_hex(20)}"
    if given == "env":
        monkeypatch.setenv("HOSTILE_CANARY_KEY", canary)
        option = "api_key=env:HOSTILE_CANARY_KEY"
    else:
        option = f"api_key={canary}"
    pytester.makepyfile(hostile_secrets=HOSTILE.read_text())
    pytester.makeconftest(CONFTEST)
    result = pytester.runpytest_subprocess(
        "--chatmodels-conformance",
        "--chatmodels-option",
        option,
        "--chatmodels-requirements",
        SUBSET,
        "--chatmodels-report",
        "rep",
        "--junitxml",
        "junit.xml",
        "-o",
        "junit_logging=all",
        "-l",
        "-rA",
        "-p",
        "no:cacheprovider",
        *extra,
    )
    report = json.loads((pytester.path / "rep" / "chatmodels-conformance.json").read_text())
    statuses = {r["id"]: r["status"] for r in report["requirements"]}
    texts = _everything_written(pytester, result)
    assert "upstream refused key" in texts["stdout"], "the hostile provider's errors were not shown"
    if extra:
        assert statuses["ERR-003"] == "failed", statuses
        assert statuses["CORE-001"] in ("failed", "error"), statuses
        assert "junit.xml" in texts
    for needle in (canary, canary[:16]):
        leaks = [name for name, text in texts.items() if needle in text]
        assert not leaks, f"{needle!r} appears in {leaks}"
