"""Repeat conformance runs while CPU hogs compete for the cores, and show every verdict.

A verdict is only worth something if it is the same on a busy CI runner as on an idle one.
This script runs the suites under ``busy`` (``../shared/tools/busy`` by default: bursty
CPU-bound processes beside the run) and prints one status per requirement per run:

- ``reference``: the bundled reference provider, every suite; expected identical statuses and
  "conformant at SHOULD" in every run.
- ``openai``: the bundled openai provider against ``chatmodels-conformance serve`` (started on
  127.0.0.1 on a free port, stopped afterwards); expected conformant at MUST every run and
  no CONC-004 failure.
- ``broken``: a provider whose ``_ainvoke`` sleeps 20 ms with ``time.sleep``
  (``tests/catches/broken_concurrency.py:SleepsInAinvoke``), CONC-004 and ASYNC-005 only; expected
  both failed in every run, each message quoting the sleeping line.

Example (from the repository root)::

    python benchmarks/stress_verdicts.py --runs 10 --openai-runs 5 --broken-runs 10

It exits 1 when an expectation is not met. Runs are sequential; each writes its report under
``--workdir`` (a temporary directory by default).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BUSY = REPO.parent / "shared" / "tools" / "busy"
SCENARIOS = ("reference", "openai", "broken")
LETTERS = {
    "passed": "P",
    "failed": "F",
    "error": "E",
    "inconclusive": "I",
    "waived": "W",
    "unsupported": "U",
    "skipped": "S",
    "not_run": "-",
}
#: A lighter concurrency load for a real HTTP client, as the openai certification uses.
OPENAI_SETTINGS = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)
BROKEN_CONFTEST = """
import pytest
from broken_concurrency import SleepsInAinvoke

@pytest.fixture(scope="session")
def chatmodels_provider():
    return SleepsInAinvoke
"""


@dataclass
class Run:
    """One conformance run: its verdict, statuses and messages by requirement, and wall time."""

    verdict: str
    statuses: dict[str, str]
    messages: dict[str, str]
    seconds: float
    exit_code: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _server(duration: float) -> Iterator[str]:
    """``chatmodels-conformance serve`` on a free loopback port; yields its base_url."""
    port = _free_port()
    command = [sys.executable, "-m", "chatmodels.conformance.cli", "serve", "--port", str(port)]
    command += ["--duration", str(duration)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        found = re.search(r"(http://\S+)", line)
        if found is None:
            msg = f"the server did not announce its URL; it printed {line!r}"
            raise RuntimeError(msg)
        yield found.group(1)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _run(busy: Sequence[str], workdir: Path, args: Sequence[str], env: dict[str, str]) -> Run:
    """One ``pytest --chatmodels-conformance`` run under *busy* in *workdir*."""
    report_dir = workdir / "report"
    command = [*busy, sys.executable, "-m", "pytest", "--chatmodels-conformance"]
    command += ["-p", "no:cacheprovider", "-q", "--chatmodels-report", str(report_dir), *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    path = report_dir / "chatmodels-conformance.json"
    if not path.exists():
        tail = (done.stdout + done.stderr)[-2000:]
        msg = f"run in {workdir} wrote no report (exit {done.returncode}):\n{tail}"
        raise RuntimeError(msg)
    report = json.loads(path.read_text())
    ran = [r for r in report["requirements"] if r["tests"]]
    return Run(
        report["verdict"],
        {r["id"]: r["status"] for r in ran},
        {r["id"]: r["message"] for r in ran},
        seconds,
        done.returncode,
    )


def _table(name: str, runs: list[Run], show_all: bool) -> None:
    """Print one row per requirement (one letter per run) and a summary line per run."""
    ids = sorted({i for run in runs for i in run.statuses}, key=_order)
    steady = [i for i in ids if {run.statuses.get(i) for run in runs} == {"passed"}]
    print(f"\n== {name}: {len(runs)} runs ==")
    print("letters: " + ", ".join(f"{v}={k}" for k, v in LETTERS.items()))
    for requirement in ids:
        if requirement in steady and not show_all:
            continue
        row = "".join(LETTERS.get(run.statuses.get(requirement, "not_run"), "?") for run in runs)
        print(f"  {requirement:10s} {row}")
    if not show_all:
        print(f"  ({len(steady)} more requirements passed in every run; --all lists them)")
    for index, run in enumerate(runs, 1):
        print(f"  run {index:2d}: {run.verdict:22s} exit {run.exit_code}  {run.seconds:6.1f} s")


def _order(requirement: str) -> tuple[str, int]:
    area, _, number = requirement.partition("-")
    return area, int(number) if number.isdigit() else 0


def _sleep_line() -> int:
    source = (REPO / "tests" / "catches" / "broken_concurrency.py").read_text().splitlines()
    return next(i for i, line in enumerate(source, 1) if "time.sleep(SLEEP_IN_AINVOKE)" in line)


def check_reference(runs: list[Run]) -> list[str]:
    """Identical statuses and "conformant at SHOULD" in every run."""
    want = "conformant at SHOULD"
    problems = [f"run {i}: {r.verdict}" for i, r in enumerate(runs, 1) if r.verdict != want]
    if any(run.statuses != runs[0].statuses for run in runs):
        problems.append("per-requirement statuses differ between runs")
    return problems


def check_openai(runs: list[Run]) -> list[str]:
    """Conformant at MUST (or better) every run, and CONC-004 never failed."""
    good = ("conformant at MUST", "conformant at SHOULD")
    problems = [f"run {i}: {r.verdict}" for i, r in enumerate(runs, 1) if r.verdict not in good]
    problems += [
        f"run {i}: CONC-004 {r.statuses.get('CONC-004')}: {r.messages.get('CONC-004', '')[:200]}"
        for i, r in enumerate(runs, 1)
        if r.statuses.get("CONC-004") in ("failed", "error")
    ]
    return problems


def check_broken(runs: list[Run]) -> list[str]:
    """CONC-004 and ASYNC-005 failed every run, each quoting the sleeping line."""
    quote = f"time.sleep at broken_concurrency.py:{_sleep_line()}"
    problems = []
    for index, run in enumerate(runs, 1):
        for requirement in ("CONC-004", "ASYNC-005"):
            status = run.statuses.get(requirement)
            if status != "failed" or quote not in run.messages.get(requirement, ""):
                problems.append(f"run {index}: {requirement} {status}, not quoting {quote!r}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--busy", default=str(DEFAULT_BUSY), help="The busy command. Default: %(default)s")
    add("--busy-args", default="", help="Arguments for busy, e.g. '-n 2 --steady'.")
    add("--runs", type=int, default=10, help="Reference runs. Default: %(default)s")
    add("--openai-runs", type=int, default=5, help="openai runs. Default: %(default)s")
    add("--broken-runs", type=int, default=10, help="Broken runs. Default: %(default)s")
    parser.add_argument(
        "--scenario", default=",".join(SCENARIOS), help="Comma-separated. Default: %(default)s"
    )
    parser.add_argument("--workdir", type=Path, help="Where runs write (default: a temp dir).")
    parser.add_argument("--all", action="store_true", help="List requirements that always passed.")
    args = parser.parse_args(argv)
    busy = [args.busy, *args.busy_args.split()]
    if not os.access(args.busy, os.X_OK):
        parser.error(f"--busy {args.busy!r} is not an executable; expected the busy tool's path")
    wanted = args.scenario.split(",")
    unknown = set(wanted) - set(SCENARIOS)
    if unknown:
        parser.error(f"--scenario names {sorted(unknown)}; expected some of {SCENARIOS}")
    paths = [str(REPO / "tests" / "catches"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        root = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))

        def workdir(name: str, index: int, conftest: str = "") -> Path:
            path = root / f"{name}-{index}"
            path.mkdir(parents=True, exist_ok=True)
            (path / "conftest.py").write_text(conftest)
            return path

        if "reference" in wanted:
            runs = [_run(busy, workdir("reference", i), [], env) for i in range(args.runs)]
            _table("reference provider, every suite", runs, args.all)
            problems += [f"reference: {p}" for p in check_reference(runs)]
        if "openai" in wanted:
            with _server(duration=3600) as url:
                options = ["base_url=" + url, "model=reference-echo", "deterministic=true"]
                extra = ["--chatmodels-provider", "openai"]
                extra += [a for o in options for a in ("--chatmodels-option", o)]
                extra += [a for s in OPENAI_SETTINGS for a in ("--chatmodels-setting", s)]
                count = args.openai_runs
                runs = [_run(busy, workdir("openai", i), extra, env) for i in range(count)]
            _table(f"openai provider against chatmodels-conformance serve ({url})", runs, args.all)
            problems += [f"openai: {p}" for p in check_openai(runs)]
        if "broken" in wanted:
            extra = ["--chatmodels-requirements", "CONC-004,ASYNC-005"]
            runs = [
                _run(busy, workdir("broken", i, BROKEN_CONFTEST), extra, env)
                for i in range(args.broken_runs)
            ]
            _table("20 ms time.sleep in _ainvoke (CONC-004, ASYNC-005)", runs, True)
            for requirement in ("CONC-004", "ASYNC-005"):
                print(f"  {requirement} run 1: {runs[0].messages.get(requirement, '')[:300]}")
            problems += [f"broken: {p}" for p in check_broken(runs)]
    print()
    for problem in problems:
        print(f"NOT MET: {problem}")
    print("all expectations met" if not problems else f"{len(problems)} expectation(s) not met")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
