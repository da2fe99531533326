"""The ``serve`` subcommand of ``chatmodels-conformance``: run the fault server for a while."""

from __future__ import annotations

import argparse
from typing import Any

from ._fault import FaultError
from ._server import check_loopback, serve_forever

__all__ = ["add_serve_command", "parse_host", "parse_rate", "run_serve"]


def parse_host(value: str) -> str:
    """Accept only loopback addresses: the server must never face a network."""
    try:
        return check_loopback(value)
    except FaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_rate(value: str) -> float:
    """Read a probability in [0, 1]."""
    try:
        rate = float(value)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        msg = f"--fault-rate must be a probability in [0, 1], got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return rate


def _parse_duration(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        msg = f"--duration must be a number of seconds > 0, got {value!r}"
        raise argparse.ArgumentTypeError(msg)
    return seconds


def run_serve(args: argparse.Namespace) -> int:
    """Serve with the parsed arguments; returns the exit status."""
    serve_forever(
        args.host,
        args.port,
        fault_rate=args.fault_rate,
        fault_seed=args.seed,
        duration=args.duration,
    )
    return 0


def add_serve_command(subparsers: Any) -> None:
    """Register ``serve`` on *subparsers*; its ``func`` default is :func:`run_serve`."""
    parser = subparsers.add_parser(
        "serve",
        help="run the OpenAI-compatible fault-injecting server on loopback",
        description="Serve the reference model over the OpenAI API on loopback, with faults.",
    )
    parser.add_argument(
        "--host",
        type=parse_host,
        default="127.0.0.1",
        help="Loopback address. Default: %(default)r",
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="Port; 0 picks one. Default: %(default)r"
    )
    parser.add_argument(
        "--fault-rate",
        type=parse_rate,
        default=0.0,
        help="Probability that a request gets a random transient fault. Default: %(default)r",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="Seed of the fault draws. Default: %(default)r"
    )
    parser.add_argument(
        "--duration",
        type=_parse_duration,
        default=3600.0,
        help="Seconds to serve before stopping by itself. Default: %(default)r",
    )
    parser.set_defaults(func=run_serve)
