"""Benchmark: a cached Container.get, the hot path every fixture and factory goes through."""

from __future__ import annotations

from typing import Any

from chatmodels.di import Container

#: Target from the design brief: a cached get, median.
TARGET_MEDIAN_SECONDS = 2e-6


class Settings:
    """A stand-in singleton."""


def test_cached_container_get(benchmark: Any) -> None:
    """A cached container.get() stays under 2 us median."""
    container = Container()
    container.register_factory(Settings, Settings)
    first = container.get(Settings)

    result = benchmark(container.get, Settings)
    assert result is first
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None under --benchmark-disable
        median = stats.stats.median
        assert median <= TARGET_MEDIAN_SECONDS, f"median {median * 1e9:.0f} ns exceeds 2 us"
