"""Benchmark: what the bounded-call watchdog (a thread hop, or a loop of its own) adds to a call.

Side by side in one run: a zero-latency reference invoke called directly and through
``bounded``; an ainvoke run with ``asyncio.run`` and through ``abounded``. Each bounded
contender records its median as a ratio to its direct twin in ``extra_info``.
Run with ``pytest benchmarks/test_bench_bounded.py --benchmark-only --benchmark-group-by=group``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chatmodels.conformance.suites._bounded import abounded, bounded
from chatmodels.provider import ChatModel
from chatmodels.providers.reference import ReferenceProvider

PROMPT = "Say hello."


@pytest.fixture(scope="module")
def model() -> Iterator[ChatModel]:
    made = ReferenceProvider({"latency": 0.0}).create_chat_model()
    yield made
    made.close()


@pytest.fixture(scope="module")
def medians() -> dict[str, float]:
    """Medians of the direct contenders, for the bounded ones' ratios."""
    return {}


def _measure(
    benchmark: Any, group: str, call: Callable[[], object], medians: dict[str, float], key: str
) -> None:
    benchmark.group = group
    benchmark(call)
    median = benchmark.stats.stats.median
    medians[key] = median
    direct = medians.get(group)
    if direct and key != group:
        benchmark.extra_info["ratio_vs_direct"] = round(median / direct, 2)
        benchmark.extra_info["added_us"] = round((median - direct) * 1e6, 1)


def test_direct_invoke(benchmark: Any, model: ChatModel, medians: dict[str, float]) -> None:
    """invoke() on the caller's thread: the baseline of the thread hop."""
    _measure(benchmark, "sync", lambda: model.invoke(PROMPT), medians, "sync")


def test_bounded_invoke(benchmark: Any, model: ChatModel, medians: dict[str, float]) -> None:
    """invoke() on a watchdog thread, waited for with a limit."""
    _measure(
        benchmark, "sync", lambda: bounded(lambda: model.invoke(PROMPT), "invoke()"), medians, "b"
    )


def test_direct_ainvoke(benchmark: Any, model: ChatModel, medians: dict[str, float]) -> None:
    """ainvoke() on a fresh loop with asyncio.run: the baseline of the loop's own thread."""
    _measure(benchmark, "async", lambda: asyncio.run(model.ainvoke(PROMPT)), medians, "async")


def test_bounded_ainvoke(benchmark: Any, model: ChatModel, medians: dict[str, float]) -> None:
    """ainvoke() on a fresh loop on a watchdog thread, waited for with a limit."""
    _measure(
        benchmark,
        "async",
        lambda: abounded(lambda: model.ainvoke(PROMPT), "ainvoke()"),
        medians,
        "ab",
    )
