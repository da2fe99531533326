"""Certify a bundled HTTP provider (``openai`` or ``anthropic``) against the kit's own server.

``python -m chatmodels.conformance.faults.certify [--provider NAME] [pytest args]`` starts a
FaultServer on loopback in its normal (fault-free) mode, points the provider at it and runs
every suite; the fault suite starts its own server for the faults. Use it in CI, then gate
the report.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pytest

from chatmodels.conformance.faults import FaultServer

__all__ = ["CERTIFIED", "HTTP_LOAD", "certify_args", "main"]

#: The bundled providers that speak an HTTP protocol the fault server serves.
CERTIFIED = ("openai", "anthropic")

#: The documented lower load for real HTTP providers (see the README).
HTTP_LOAD = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)


def certify_args(base_url: str, provider: str = "openai") -> list[str]:
    """The pytest arguments that test *provider* against *base_url*."""
    args = [
        # This process imported the kit to start the server, before pytest could rewrite it.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--chatmodels-conformance",
        f"--chatmodels-provider={provider}",
        f"--chatmodels-option=base_url={base_url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-option=deterministic=true",
    ]
    args.extend(f"--chatmodels-setting={setting}" for setting in HTTP_LOAD)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites against the chosen provider; returns pytest's exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m chatmodels.conformance.faults.certify",
        description="Certify a bundled HTTP provider; other arguments go to pytest.",
    )
    parser.add_argument("--provider", choices=CERTIFIED, default="openai")
    chosen, extra = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    with FaultServer() as server:
        return int(pytest.main([*certify_args(server.url, chosen.provider), *extra]))


if __name__ == "__main__":
    raise SystemExit(main())
