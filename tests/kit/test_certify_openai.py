"""Certify the bundled HTTP providers against the fault server in its normal mode."""

from __future__ import annotations

import json
from pathlib import Path

# In-process runs drop the modules they imported, but httpx caches its map of httpcore errors on
# first use; importing httpcore and the provider here keeps one copy of each.
import httpcore  # noqa: F401
import pytest

import chatmodels.providers.anthropic
import chatmodels.providers.openai  # noqa: F401
from chatmodels.conformance.cli import main as cli_main
from chatmodels.conformance.faults import FaultServer

#: The suites the issue asks the openai provider to pass; performance budgets are for local models.
SUITES = "contract,concurrency,telemetry,faults"

#: Lighter concurrency load for a real HTTP client, as the concurrency catalogue recommends.
SETTINGS = (
    "conc_threads=16",
    "conc_calls_per_thread=4",
    "conc_async_tasks=64",
    "conc_cancel_streams=20",
    "conc_timeout=120",
)


def certify_args(base_url: str, report_dir: Path, provider: str = "openai") -> list[str]:
    """The command-line arguments that certify *provider* against the server at *base_url*."""
    args = [
        "--chatmodels-provider",
        provider,
        "--chatmodels-option",
        f"base_url={base_url}",
        "--chatmodels-option",
        "model=reference-echo",
        "--chatmodels-option",
        "deterministic=true",
        "--chatmodels-setting",
        "override_model=reference-echo-alt",
        "--chatmodels-suite",
        SUITES,
        "--chatmodels-report",
        str(report_dir),
        "--assert=plain",
    ]
    for setting in SETTINGS:
        args += ["--chatmodels-setting", setting]
    if provider == "openai":  # it maps images and reasoning; the server's reference has both
        args += ["--chatmodels-option", "capabilities=+vision,+reasoning"]
    return args


@pytest.mark.slow
class TestCertifyOpenAI:
    def test_openai_passes_every_suite_and_the_must_gate(self, run_conformance, tmp_path):
        """Against the fault server, openai passes contract, concurrency, telemetry and faults."""
        report_dir = tmp_path / "reports" / "openai"
        with FaultServer() as server:
            run = run_conformance(None, *certify_args(server.url, report_dir))
        run.assert_all_pass()
        areas = {r.split("-", 1)[0] for r in run.statuses}
        assert {"CORE", "CONC", "OTEL", "FAULT"} <= areas, sorted(areas)
        report = report_dir / "chatmodels-conformance.json"
        assert report.is_file(), sorted(p.name for p in report_dir.glob("*"))
        assert json.loads(report.read_text())["provider"]["name"] == "openai"
        assert cli_main(["gate", str(report), "--level", "must", "--allow-partial"]) == 0

    def test_anthropic_passes_every_suite_and_the_must_gate(self, run_conformance, tmp_path):
        """Against the fault server's /v1/messages, anthropic passes the same suites and WIRE."""
        report_dir = tmp_path / "reports" / "anthropic"
        with FaultServer() as server:
            args = certify_args(server.url, report_dir, "anthropic")
            args[args.index(SUITES)] = f"{SUITES},wire"
            run = run_conformance(None, *args)
        run.assert_all_pass()
        areas = {r.split("-", 1)[0] for r in run.statuses}
        assert {"CORE", "CONC", "OTEL", "FAULT", "WIRE"} <= areas, sorted(areas)
        report = report_dir / "chatmodels-conformance.json"
        assert json.loads(report.read_text())["provider"]["name"] == "anthropic"
        assert cli_main(["gate", str(report), "--level", "must", "--allow-partial"]) == 0
