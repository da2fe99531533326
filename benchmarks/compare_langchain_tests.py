"""Run langchain-tests' ChatModelIntegrationTests and this kit on the same models, side by side.

    pip install -e ".[compare]"          # langchain-tests, pytest-asyncio, langchain-openai
    python benchmarks/compare_langchain_tests.py [--only NAME ...] [--out table.md]

Every subject is a LangChain chat model; ChatOpenAI ones talk to one FaultServer on loopback,
which for the "injected" subjects plays a fault on every request. Each tool runs in its own
pytest subprocess against the same model and server; the table gives the checks each ran,
its wall time and whether it caught the subject's known defect. Timings are for comparison
within one run only (the machine may be loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests" / "catches"  # broken_langchain.py

#: langchain-tests needs pytest-asyncio with session-scoped loops.
ASYNCIO_OPTIONS = (
    "-o",
    "asyncio_mode=auto",
    "-o",
    "asyncio_default_fixture_loop_scope=session",
    "-o",
    "asyncio_default_test_loop_scope=session",
)

#: The lighter concurrency load the README recommends for HTTP providers.
KIT_SETTINGS = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)


@dataclass(frozen=True)
class Subject:
    """One model both tools judge, and the defect it is known to have (if any)."""

    name: str
    #: Python source that defines MODEL_CLASS and MODEL_PARAMS; URL is the server's base URL.
    setup: str
    defect: str
    #: The requirement that must fail for the kit to have caught the defect ("" for none).
    requirement: str = ""
    #: langchain-tests feature flags of the model.
    features: dict[str, bool] = field(default_factory=dict)
    #: Options of the langchain provider besides the constructor keywords.
    bridge: dict[str, str] = field(default_factory=dict)
    #: A fault the server plays on every request: a Fault constructor name and its keywords.
    fault: tuple[str, dict[str, int]] | None = None
    #: The defect-free subject of the same model family; a catch must go beyond its failures.
    baseline: str = ""


_OPENAI = textwrap.dedent(
    """
    from langchain_openai import ChatOpenAI as MODEL_CLASS
    MODEL_PARAMS = {"model": "reference-echo", "base_url": URL, "api_key": "sk-compare",
                    "stream_usage": True, "max_retries": 1}
    """
)
_OPENAI_FEATURES = {
    "has_tool_calling": True,
    "has_structured_output": True,
    "supports_json_mode": True,
}
_FAKE = textwrap.dedent(
    """
    import broken_langchain
    MODEL_CLASS = broken_langchain.{cls}
    MODEL_PARAMS = {{}}
    """
)
_NO_TOOLS = {
    "has_tool_calling": False,
    "has_structured_output": False,
    "returns_usage_metadata": True,
}
_ECHO_BRIDGE = {"deterministic": "true", "capabilities": "+usage"}

SUBJECTS = (
    Subject(
        "ChatOpenAI",
        _OPENAI,
        "none injected",
        features=_OPENAI_FEATURES,
        bridge={"deterministic": "true"},
    ),
    Subject(
        "ChatOpenAI, streams cut",
        _OPENAI,
        "a cut stream comes back as a complete answer",
        "STREAM-002",
        _OPENAI_FEATURES,
        {"deterministic": "true"},
        ("cut_stream", {"after_chunks": 2}),
        "ChatOpenAI",
    ),
    Subject(
        "ChatOpenAI, malformed JSON",
        _OPENAI,
        "a malformed body raises a bare JSONDecodeError",
        "CORE-001",
        _OPENAI_FEATURES,
        {"deterministic": "true"},
        ("malformed_json", {}),
        "ChatOpenAI",
    ),
    Subject(
        "echo fake", _FAKE.format(cls="EchoFake"), "none (control)", "", _NO_TOOLS, _ECHO_BRIDGE
    ),
    Subject(
        "cross-talk fake",
        _FAKE.format(cls="_CrossTalkFake"),
        "concurrent callers get each other's answers",
        "CONC-002",
        _NO_TOOLS,
        _ECHO_BRIDGE,
        baseline="echo fake",
    ),
    Subject(
        "stream differs fake",
        _FAKE.format(cls="_StreamDiffersFake"),
        "the stream drops the last word invoke returns",
        "STREAM-001",
        _NO_TOOLS,
        _ECHO_BRIDGE,
        baseline="echo fake",
    ),
    Subject(
        "usage off fake",
        _FAKE.format(cls="_UsageOffByOneFake"),
        "total tokens != input + output",
        "USAGE-001",
        _NO_TOOLS,
        _ECHO_BRIDGE,
        baseline="echo fake",
    ),
    Subject(
        "bare 429 ChatOpenAI",
        textwrap.dedent(
            """
        import broken_langchain
        MODEL_CLASS = broken_langchain._BareRateLimitOpenAI
        MODEL_PARAMS = {"model": "reference-echo", "base_url": URL, "api_key": "sk-compare",
                        "stream_usage": True, "max_retries": 1}
        """
        ),
        "a 429 is raised as a bare RuntimeError",
        "FAULT-002",
        _OPENAI_FEATURES,
        {"deterministic": "true"},
        baseline="ChatOpenAI",
    ),
)


@dataclass
class Outcome:
    """What one tool did with one subject."""

    checks: int = 0
    failed: int = 0
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)
    note: str = ""


def _model_module(subject: Subject, url: str) -> str:
    return f"URL = {url!r}\n" + subject.setup


def _langchain_tests_file(subject: Subject) -> str:
    flags = "".join(
        f"    @property\n    def {name}(self):\n        return {value!r}\n\n"
        for name, value in subject.features.items()
    )
    return (
        "from langchain_tests.integration_tests import ChatModelIntegrationTests\n"
        "from subject_model import MODEL_CLASS, MODEL_PARAMS\n\n\n"
        "class TestStandard(ChatModelIntegrationTests):\n"
        "    @property\n    def chat_model_class(self):\n        return MODEL_CLASS\n\n"
        "    @property\n    def chat_model_params(self):\n        return dict(MODEL_PARAMS)\n\n"
        + flags
    )


def _kit_conftest(subject: Subject) -> str:
    return (
        "import pytest\n"
        "from chatmodels.providers.langchain import LangChainProvider\n"
        "from subject_model import MODEL_CLASS, MODEL_PARAMS\n\n\n"
        '@pytest.fixture(scope="session")\n'
        "def chatmodels_provider():\n"
        "    return LangChainProvider.from_class(\n"
        f"        MODEL_CLASS, **MODEL_PARAMS, **{subject.bridge!r}\n"
        "    )\n"
    )


def _pytest(args: list[str], where: Path, timeout: float) -> tuple[float, str]:
    env_path = f"{where}{os.pathsep}{TESTS}"
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": env_path},
        )
        output = done.stdout[-3000:] + done.stderr[-2000:]
    except subprocess.TimeoutExpired:
        output = f"timed out after {timeout:g}s"
    return time.perf_counter() - start, output


def run_langchain_tests(subject: Subject, url: str, work: Path, timeout: float) -> Outcome:
    """Run the standard integration tests on *subject*; count tests from the JUnit XML."""
    where = work / "langchain-tests"
    where.mkdir(parents=True)
    (where / "subject_model.py").write_text(_model_module(subject, url))
    (where / "test_standard.py").write_text(_langchain_tests_file(subject))
    (where / "pytest.ini").write_text("[pytest]\n")
    junit = where / "junit.xml"
    seconds, output = _pytest(
        [*ASYNCIO_OPTIONS, f"--junitxml={junit}", "test_standard.py"], where, timeout
    )
    outcome = Outcome(seconds=seconds)
    if not junit.is_file():
        outcome.note = output.strip().splitlines()[-1] if output.strip() else "no result"
        return outcome
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        outcome.checks += 1
        if case.find("failure") is not None or case.find("error") is not None:
            outcome.failed += 1
            outcome.failing.append(case.get("name", "?"))
    return outcome


def run_kit(subject: Subject, url: str, work: Path, timeout: float) -> Outcome:
    """Run this kit's contract, concurrency, telemetry and fault suites on *subject*."""
    where = work / "kit"
    where.mkdir(parents=True)
    (where / "subject_model.py").write_text(_model_module(subject, url))
    (where / "conftest.py").write_text(_kit_conftest(subject))
    (where / "pytest.ini").write_text("[pytest]\n")
    report = where / "report"
    args = [
        "--chatmodels-conformance",
        "--chatmodels-suite=contract,concurrency,telemetry,faults",
        f"--chatmodels-report={report}",
        *(f"--chatmodels-setting={s}" for s in KIT_SETTINGS),
    ]
    seconds, output = _pytest(args, where, timeout)
    outcome = Outcome(seconds=seconds)
    path = report / "chatmodels-conformance.json"
    if not path.is_file():
        outcome.note = output.strip().splitlines()[-1] if output.strip() else "no report"
        return outcome
    data = json.loads(path.read_text())
    for requirement in data["requirements"]:
        if requirement["status"] in ("passed", "failed", "error", "inconclusive", "waived"):
            outcome.checks += 1
        if requirement["status"] in ("failed", "error"):
            outcome.failed += 1
            outcome.failing.append(requirement["id"])
    return outcome


def _caught(
    subject: Subject, outcome: Outcome, base: Outcome | None, *, requirement: str = ""
) -> str:
    """Whether a tool failed something beyond what the baseline model already fails."""
    if not subject.requirement:
        return "-"
    known = set(base.failing) if base is not None else set()
    if requirement:
        if requirement not in outcome.failing:
            return "no"
        return "masked" if requirement in known else "yes"
    return "yes" if set(outcome.failing) - known else "no"


def table(rows: list[tuple[Subject, Outcome, Outcome]]) -> str:
    """The Markdown comparison table; "masked" means the baseline model fails that check too."""
    by_name = {subject.name: (lt, kit) for subject, lt, kit in rows}
    lines = [
        "| model | known defect | langchain-tests: tests run / failed / time | caught | "
        "kit: requirements judged / failed / time | caught (requirement) |",
        "|---|---|---|---|---|---|",
    ]
    caught_lt = caught_kit = known = 0
    for subject, lt, kit in rows:
        base_lt, base_kit = by_name.get(subject.baseline, (None, None))
        lt_caught = _caught(subject, lt, base_lt)
        kit_caught = _caught(subject, kit, base_kit, requirement=subject.requirement)
        known += bool(subject.requirement)
        caught_lt += lt_caught == "yes"
        caught_kit += kit_caught == "yes"
        lt_cell = f"{lt.checks} / {lt.failed} / {lt.seconds:.0f}s" + (
            f" ({lt.note})" if lt.note else ""
        )
        kit_cell = f"{kit.checks} / {kit.failed} / {kit.seconds:.0f}s" + (
            f" ({kit.note})" if kit.note else ""
        )
        requirement = f" ({subject.requirement})" if subject.requirement else ""
        lines.append(
            f"| {subject.name} | {subject.defect} | {lt_cell} | {lt_caught} "
            f"| {kit_cell} | {kit_caught}{requirement} |"
        )
    lines.append("")
    lines.append(
        f"Known defects caught: langchain-tests {caught_lt} of {known}, "
        f"kit {caught_kit} of {known}."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every chosen subject through both tools and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="Subject names to run.")
    parser.add_argument("--timeout", type=float, default=1200.0, help="Seconds per tool run.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the table here.")
    args = parser.parse_args(argv)

    from chatmodels.conformance.faults import Fault, FaultServer

    chosen = [s for s in SUBJECTS if args.only is None or s.name in args.only]
    unknown = sorted(set(args.only or ()) - {s.name for s in SUBJECTS})
    if unknown:
        parser.error(f"unknown subject {unknown[0]!r}; expected among {[s.name for s in SUBJECTS]}")
    rows: list[tuple[Subject, Outcome, Outcome]] = []
    with FaultServer() as server, tempfile.TemporaryDirectory() as tmp:
        for index, subject in enumerate(chosen):
            if subject.fault is not None:
                name, keywords = subject.fault
                server.set_default(getattr(Fault, name)(**keywords))
            work = Path(tmp) / str(index)
            lt = run_langchain_tests(subject, server.url, work, args.timeout)
            kit = run_kit(subject, server.url, work, args.timeout)
            server.set_default(None)
            rows.append((subject, lt, kit))
            # Each finished row is shown at once, so a long run is never all-or-nothing.
            print(table(rows).splitlines()[-3], flush=True)
            print(
                f"{subject.name}: langchain-tests failed {lt.failing}; kit failed {kit.failing}",
                file=sys.stderr,
                flush=True,
            )
    rendered = table(rows)
    print(rendered)
    if args.out is not None:
        args.out.write_text(rendered + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
