"""Time a newcomer's first run: the default conformance run against the reference, five times.

Each run is ``python -m pytest --chatmodels-conformance -q`` in a fresh empty directory, as
the README's main command, serial. Prints every run's wall time, CPU time (user + system of
the run's processes: what an idle machine would need at least) and verdict, then the median
wall and CPU time and the load average, since wall time on a busy machine says little.

Example (from the repository root)::

    python benchmarks/first_run.py            # 5 runs
    python benchmarks/first_run.py --runs 3 --python .venv/bin/python

Python writes bytecode caches as it does for a newcomer: ``PYTHONDONTWRITEBYTECODE`` is
removed from the runs' environment (``--keep-env`` keeps it), since with it set every run
compiles and assertion-rewrites every module again. The first run warms those caches; the
median is of all runs. It exits 1 when the runs' verdicts or statuses differ from one another.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(python: str, env: dict[str, str]) -> tuple[float, float, str, dict[str, str]]:
    """Wall seconds, CPU seconds, verdict and statuses of one default run in a fresh folder."""
    with tempfile.TemporaryDirectory(prefix="first-run-") as where:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [python, "-m", "pytest", "--chatmodels-conformance", "-q", "-p", "no:randomly"],
            cwd=where,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            check=False,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        data = json.loads((Path(where) / "reports" / "chatmodels-conformance.json").read_text())
    statuses = {r["id"]: r["status"] for r in data["requirements"]}
    return wall, cpu, data["verdict"], statuses


def main(argv: list[str] | None = None) -> int:
    """Run the default run *--runs* times; print each, the medians and the load."""
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="how many runs (default 5)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter to run")
    parser.add_argument(
        "--keep-env", action="store_true", help="keep PYTHONDONTWRITEBYTECODE if it is set"
    )
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if not args.keep_env:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    walls, cpus, outcomes = [], [], []
    for n in range(1, args.runs + 1):
        wall, cpu, verdict, statuses = one_run(args.python, env)
        walls.append(wall)
        cpus.append(cpu)
        outcomes.append((verdict, statuses))
        odd = sorted(f"{i} {s}" for i, s in statuses.items() if s not in ("passed", "unsupported"))
        print(f"run {n}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, {verdict}; {', '.join(odd)}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"median: {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU")
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    differ = [n for n, outcome in enumerate(outcomes, 1) if outcome != outcomes[0]]
    for n in differ:
        verdict, statuses = outcomes[n - 1]
        changed = {i: s for i, s in statuses.items() if outcomes[0][1].get(i) != s}
        print(f"run {n} differs from run 1: {verdict}; {changed}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
