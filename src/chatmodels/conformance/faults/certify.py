"""Certify a bundled HTTP provider against the kit's own server on loopback.

``python -m chatmodels.conformance.faults.certify [--provider NAME] [pytest args]`` starts a
FaultServer in its normal (fault-free) mode, points the provider (``openai`` unless named:
``anthropic`` speaks Anthropic Messages and ``responses`` Open Responses to the same
server) at it and runs every suite; the fault suite starts its own server for the faults.
Use it in CI, then gate the report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pytest

from chatmodels.conformance.faults import FaultServer

__all__ = ["CERTIFIED", "HTTP_LOAD", "certify_args", "main"]

#: The bundled providers the fault server can certify.
CERTIFIED = ("openai", "anthropic", "responses")

#: Capabilities a provider maps but leaves undeclared, since only some servers have them; the
#: fault server's reference model sees images and shows reasoning. Only openai maps them to
#: its protocol (the responses provider sends text parts only, and no reasoning options).
SERVER_CAPABILITIES = {"openai": "+vision,+reasoning"}

#: The documented lower load for real HTTP providers (see the README).
HTTP_LOAD = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)


def certify_args(base_url: str, provider: str = "openai") -> list[str]:
    """The pytest arguments that test the bundled *provider* against *base_url*."""
    args = [
        # This process imported the kit to start the server, before pytest could rewrite it.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--chatmodels-conformance",
        f"--chatmodels-provider={provider}",
        f"--chatmodels-option=base_url={base_url}",
        "--chatmodels-option=model=reference-echo",
        "--chatmodels-option=deterministic=true",
        "--chatmodels-setting=override_model=reference-echo-alt",
    ]
    if provider in SERVER_CAPABILITIES:
        args.append(f"--chatmodels-option=capabilities={SERVER_CAPABILITIES[provider]}")
    args.extend(f"--chatmodels-setting={setting}" for setting in HTTP_LOAD)
    return args


def _provider(extra: list[str]) -> str:
    """Take ``--provider NAME`` (or ``--provider=NAME``) out of *extra*; openai by default."""
    for index, arg in enumerate(extra):
        if arg == "--provider" or arg.startswith("--provider="):
            given = extra[index + 1 : index + 2] if arg == "--provider" else [arg.split("=", 1)[1]]
            del extra[index : index + (2 if arg == "--provider" else 1)]
            if given and given[0] in CERTIFIED:
                return given[0]
            msg = f"--provider must be one of {CERTIFIED!r}, got {given[0] if given else None!r}"
            raise SystemExit(msg)
    return "openai"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suites against a bundled HTTP provider; returns pytest's exit code."""
    extra = list(sys.argv[1:] if argv is None else argv)
    provider = _provider(extra)
    with FaultServer() as server:
        return int(pytest.main([*certify_args(server.url, provider), *extra]))


if __name__ == "__main__":
    raise SystemExit(main())
