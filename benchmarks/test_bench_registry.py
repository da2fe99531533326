"""Benchmark: building a provider from the default registry and a chat model from it."""

from __future__ import annotations

from typing import Any

from chatmodels.registry import new_registry_provider

#: Target from the design brief: registry lookup + provider + chat model, median.
TARGET_MEDIAN_SECONDS = 20e-6


def _check_target(benchmark: Any, target: float) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None under --benchmark-disable
        median = stats.stats.median
        assert median <= target, f"median {median * 1e6:.2f} us exceeds {target * 1e6:.0f} us"


def test_new_registry_provider_and_create_chat_model(benchmark: Any) -> None:
    """new_registry_provider('reference') + create_chat_model() stays under 20 us median."""
    new_registry_provider("reference").create_chat_model()  # load the entry point once

    def build() -> object:
        return new_registry_provider("reference").create_chat_model()

    model = benchmark(build)
    assert model.metadata.name == "reference"
    _check_target(benchmark, TARGET_MEDIAN_SECONDS)
