"""Benchmark: the openai provider's invoke with wire capture off, on, and a plain httpx POST.

Capture off is the provider as every user runs it; capture on is a conformance run; the
plain POST of the same body is the floor. Compare them side by side in one run:
``pytest benchmarks/test_bench_wire_capture.py --benchmark-only --benchmark-group-by=group``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatmodels.conformance.faults import FaultServer
from chatmodels.providers._http_capture import WireRecorder
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider

PROMPT = "hello"
ROUNDS = 300


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _model(server: FaultServer, recorder: WireRecorder | None) -> OpenAIChatModel:
    provider = OpenAIProvider({"base_url": server.url, "model": "reference-echo"})
    provider.record_wire(recorder)
    return provider.create_chat_model()


def _bench(benchmark: Any, call: Any) -> None:
    benchmark.group = "wire-capture-invoke"
    call()  # the first call builds the client: keep it out of the timings
    benchmark.pedantic(call, rounds=ROUNDS, warmup_rounds=10)


def test_invoke_capture_off(benchmark: Any, server: FaultServer) -> None:
    """The provider as users run it: no recorder, plain httpx clients."""
    with _model(server, None) as model:
        _bench(benchmark, lambda: model.invoke(PROMPT))


def test_invoke_capture_on(benchmark: Any, server: FaultServer) -> None:
    """The provider in a conformance run: every exchange kept by the capturing transport."""
    recorder = WireRecorder(keep=64)
    with _model(server, recorder) as model:
        _bench(benchmark, lambda: model.invoke(PROMPT))
    assert len(recorder) == 64


def test_plain_httpx_post(benchmark: Any, server: FaultServer) -> None:
    """The floor: the same request body through a bare httpx.Client, parsed as JSON."""
    body = {"model": "reference-echo", "messages": [{"role": "user", "content": PROMPT}]}
    with httpx.Client() as client:
        url = f"{server.url}/chat/completions"
        _bench(benchmark, lambda: client.post(url, json=body).json())
