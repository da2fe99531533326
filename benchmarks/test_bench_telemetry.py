"""Benchmark: the invoke path with and without instrument(), and the hand-written OTel reference.

The three timings are the terms of the overhead budget checked in
tests/library/test_telemetry_overhead.py: (instrumented - bare) <= 1.3 x hand-written.
Run with ``pytest benchmarks --benchmark-only --benchmark-group-by=group``.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def _load_overhead_module() -> ModuleType:
    # The contenders are built once, in the overhead test, so both measure the same thing.
    path = Path(__file__).resolve().parents[1] / "tests" / "library" / "test_telemetry_overhead.py"
    spec = importlib.util.spec_from_file_location("_telemetry_overhead", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


_overhead = _load_overhead_module()


@pytest.fixture(scope="module")
def contenders() -> Iterator[Any]:
    built, shutdown = _overhead.build_contenders()
    yield built
    shutdown()


def _run(benchmark: Any, contenders: Any, name: str) -> None:
    func = getattr(contenders, name)

    def drained() -> object:
        if len(contenders.exporter.get_finished_spans()) > 10_000:
            contenders.exporter.clear()
        return func()

    benchmark.group = "telemetry-invoke"
    benchmark(drained)


def test_bare_invoke(benchmark: Any, contenders: Any) -> None:
    """The zero-latency model's own invoke, the baseline subtracted from the instrumented one."""
    _run(benchmark, contenders, "bare")


def test_instrumented_invoke(benchmark: Any, contenders: Any) -> None:
    """invoke() through instrument(): one span, one duration and two token records."""
    _run(benchmark, contenders, "instrumented")


def test_hand_written_span_and_records(benchmark: Any, contenders: Any) -> None:
    """start_as_current_span with the same attributes plus the same three histogram records."""
    _run(benchmark, contenders, "hand_written")
