"""Certify the bundled ``openai`` provider against the kit's own server on loopback.

``python -m chatmodels.conformance.faults.certify [pytest args]`` starts a FaultServer in
its normal (fault-free) mode, points the provider at it and runs every suite; the fault
suite starts its own server for the faults. Use it in CI, then gate the report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest

from chatmodels.conformance.faults import FaultServer

__all__ = ["HTTP_LOAD", "certify_args", "main"]

#: The documented lower load for real HTTP providers (see the README).
HTTP_LOAD = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)


def certify_args(base_url: str) -> list[str]:
    """The pytest arguments that test the openai provider against *base_url*."""
    args = [
        # This process imported the kit to start the server, before pytest could rewrite it.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--chatmodels-conformance",
        "--chatmodels-provider=openai",
        f"--chatmodels-option=base_url={base_url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-option=deterministic=true",
        # the fault server's reference model sees images and shows reasoning
        "--chatmodels-option=capabilities=+vision,+reasoning",
        "--chatmodels-setting=override_model=reference-echo-alt",
    ]
    args.extend(f"--chatmodels-setting={setting}" for setting in HTTP_LOAD)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites against the openai provider; returns pytest's exit code."""
    extra = list(sys.argv[1:] if argv is None else argv)
    with FaultServer() as server:
        return int(pytest.main([*certify_args(server.url), *extra]))


if __name__ == "__main__":
    raise SystemExit(main())
