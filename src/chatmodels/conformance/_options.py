"""The plugin's command-line flags and ini keys, and the parsers that validate them.

"Options" elsewhere means chat options or provider options (see ARCHITECTURE.md, Words).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import pytest

__all__ = [
    "FLAG",
    "SUITE_NAMES",
    "add_options",
    "flags_without_conformance",
    "ini_value",
    "parse_key_value",
    "parse_suites",
    "resolve_env",
]

FLAG = "--chatmodels-conformance"
SUITE_NAMES = ("contract", "concurrency", "telemetry", "performance", "faults", "wire")

AddIni = Callable[..., None]
T = TypeVar("T")

#: Every ``--chatmodels-*`` option beyond the flag, by name: its dest (filled by add_options).
FLAG_DESTS: dict[str, str] = {}


def _add(group: Any, name: str, *, dest: str, **attrs: Any) -> None:
    group.addoption(name, dest=dest, **attrs)
    FLAG_DESTS[name] = dest


def parse_key_value(text: str) -> tuple[str, str]:
    """Split ``KEY=VALUE``; anything else is a usage error quoting the bad text."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        msg = f"expected KEY=VALUE, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return key.strip(), value.strip()


def parse_suites(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of suite names."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in SUITE_NAMES]
    if unknown or not names:
        msg = f"expected suite names among {', '.join(SUITE_NAMES)}, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return names


def parse_id_list(text: str) -> tuple[str, ...]:
    """Parse comma-separated requirement IDs or area names such as ``STREAM``."""
    items = tuple(i.strip().upper() for i in text.split(",") if i.strip())
    bad = [i for i in items if not re.fullmatch(r"[A-Z]+(-[0-9]{3})?", i)]
    if bad or not items:
        msg = f"expected requirement IDs like 'STREAM-003' or areas like 'STREAM', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return items


def resolve_env(options: Mapping[str, str]) -> dict[str, str]:
    """Replace ``env:NAME`` values with the environment variable, so keys stay out of history."""
    resolved: dict[str, str] = {}
    for key, value in options.items():
        if value.startswith("env:"):
            var = value[4:]
            if var not in os.environ:
                msg = f"option {key!r} reads environment variable {var!r}, which is not set"
                raise KeyError(msg)
            resolved[key] = os.environ[var]
        else:
            resolved[key] = value
    return resolved


def add_options(group: Any, addini: AddIni) -> None:
    """Register every ``--chatmodels-*`` option on *group* and the matching ini keys."""
    group.addoption(
        FLAG,
        action="store_true",
        dest="chatmodels_conformance",
        default=False,
        help="Run the chat-model conformance suites against a provider. Default: %(default)r",
    )
    _add(
        group,
        "--chatmodels-provider",
        dest="chatmodels_provider",
        metavar="NAME",
        default=None,
        help="Registered provider to test (ini: chatmodels_provider). Default: the "
        "chatmodels_provider fixture if overridden, else 'reference'.",
    )
    _add(
        group,
        "--chatmodels-model",
        dest="chatmodels_model",
        metavar="MODEL",
        default=None,
        help="Model name (ini: chatmodels_model). Default: the provider's default model.",
    )
    _add(
        group,
        "--chatmodels-option",
        dest="chatmodels_options",
        metavar="KEY=VALUE",
        action="append",
        type=parse_key_value,
        default=[],
        help="Provider option, repeatable; VALUE env:NAME reads an environment variable "
        "(ini: chatmodels_options). Default: %(default)r",
    )
    _add(
        group,
        "--chatmodels-setting",
        dest="chatmodels_settings",
        metavar="KEY=VALUE",
        action="append",
        type=parse_key_value,
        default=[],
        help="Suite tunable or budget.<REQ-ID> override, repeatable (ini: chatmodels_settings). "
        "Default: %(default)r",
    )
    _add(
        group,
        "--chatmodels-suite",
        dest="chatmodels_suites",
        metavar="NAMES",
        type=parse_suites,
        default=None,
        help=f"Comma-separated suites to run, among {', '.join(SUITE_NAMES)} "
        "(ini: chatmodels_suites). Default: all.",
    )
    _add(
        group,
        "--chatmodels-requirements",
        dest="chatmodels_requirements",
        metavar="IDS",
        type=parse_id_list,
        default=None,
        help="Comma-separated requirement IDs or areas (e.g. 'STREAM,CORE-001') to run; "
        "the rest are reported not_run (ini: chatmodels_requirements). Default: all.",
    )
    _add(
        group,
        "--chatmodels-report",
        dest="chatmodels_report",
        metavar="DIR",
        default=None,
        help="Folder for the compliance report (ini: chatmodels_report). Default: 'reports'.",
    )
    _add(
        group,
        "--chatmodels-expectations",
        dest="chatmodels_expectations",
        metavar="PATH",
        default=None,
        help="TOML file of waived requirements (ini: chatmodels_expectations). Default: none.",
    )
    group.addoption(
        "--chatmodels-profile",
        dest="chatmodels_profile",
        metavar="NAME",
        default=None,
        help="Size the suites for a kind of subject: 'default', or 'real-model' for one slow "
        "model served on a CPU (ini: chatmodels_profile). Default: 'default'.",
    )
    addini("chatmodels_profile", "Suite sizing profile: default or real-model.", default=None)
    addini("chatmodels_provider", "Registered provider to test.", default=None)
    addini("chatmodels_model", "Model name to test.", default=None)
    addini("chatmodels_options", "Provider options, one KEY=VALUE a line.", type="linelist")
    addini("chatmodels_settings", "Suite tunables, one KEY=VALUE a line.", type="linelist")
    addini("chatmodels_suites", "Comma-separated suites to run.", default=None)
    addini("chatmodels_requirements", "Comma-separated requirement IDs or areas.", default=None)
    addini("chatmodels_report", "Folder for the compliance report.", default=None)
    addini("chatmodels_expectations", "TOML file of waived requirements.", default=None)


#: Provider options that may be given many times; their values are joined by newlines.
REPEATABLE_OPTIONS = frozenset({"headers"})


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    result: dict[str, str] = {}
    for key, value in pairs:
        repeat = key in REPEATABLE_OPTIONS and key in result
        result[key] = f"{result[key]}\n{value}" if repeat else value
    return result


def provider_options(ini_lines: Iterable[str], cli: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Merge ini and command-line options: the command line wins per key; a repeatable key
    given several times in one place keeps every value, one per line."""
    ini = _joined(ini_value("chatmodels_options", line, parse_key_value) for line in ini_lines)
    return {**ini, **_joined(cli)}


def key_values(lines: Iterable[str], *, source: str) -> dict[str, str]:
    """Parse ``KEY=VALUE`` lines from an ini value, naming *source* in errors."""
    return dict(ini_value(source, line, parse_key_value) for line in lines)


def ini_value(key: str, text: str, parse: Callable[[str], T]) -> T:
    """Parse ini *key*'s *text* with its flag's parser; a bad value is a usage error naming it."""
    try:
        return parse(text)
    except argparse.ArgumentTypeError as exc:
        msg = f"ini {key}: {exc}"
        raise pytest.UsageError(msg) from None


def flags_without_conformance(config: pytest.Config) -> str | None:
    """Say which ``--chatmodels-*`` options were given although the conformance flag was not."""
    given = [n for n, dest in FLAG_DESTS.items() if config.getoption(dest) not in (None, [])]
    if config.getoption("chatmodels_conformance") or not given:
        return None
    return f"{FLAG} is needed by {', '.join(given)}; add it to run the conformance suites"
