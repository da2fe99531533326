"""Concurrency suite, shared machinery: a registry and a container used from many threads.

Both run the provider under test: the registry's factory makes it, the container's factories
make its chat models, so a provider whose construction is not thread-safe is caught here.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._concurrency_runners import (
    run_threads,
)
from chatmodels.conformance.suites._concurrency_support import (
    Limits,
    check,
)
from chatmodels.di import Container
from chatmodels.provider import ChatModel, Provider, ProviderFactory, ProviderMetadata
from chatmodels.registry import ProviderRegistry

_MAX_THREADS = 32
_NAMES_PER_THREAD = 4
_SHARED_KEY = "conc.shared-model"


def _thread_count(settings: Settings) -> int:
    return min(_MAX_THREADS, max(2, settings.int("conc_threads")))


def _hung(limits: Limits, stuck: list[int], what: str) -> list[str]:
    if not stuck:
        return []
    return [f"hung: threads {stuck[:5]} were still {what} after {limits.timeout:g}s"]


def _provider_maker(make_provider: Callable[..., Provider], provider: Provider) -> ProviderFactory:
    """Re-create the provider per call when the run can; else hand out the one instance."""
    try:
        make_provider()
    except pytest.skip.Exception:
        remake = False
    else:
        remake = True

    def make(options: Mapping[str, Any]) -> Provider:
        return make_provider(options) if remake else provider

    return make


@pytest.mark.requirement("CONC-012")
def test_registry_stays_consistent_under_concurrent_use(
    chatmodels_subject: Subject,
    chatmodels_make_provider: Callable[..., Provider],
    chatmodels_provider_under_test: Provider,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """Threads register, create, list and unregister the provider; nothing is lost or leaked."""
    limits = Limits.of(chatmodels_settings)
    maker = _provider_maker(chatmodels_make_provider, chatmodels_provider_under_test)
    registry = ProviderRegistry(entry_point_group=None)
    threads = _thread_count(chatmodels_settings)
    names = [
        [f"conc-{limits.seed}-{t}-{n}" for n in range(_NAMES_PER_THREAD)] for t in range(threads)
    ]
    problems: list[str] = []

    def use(name: str, keep: bool) -> None:
        registry.register(name, maker, metadata=chatmodels_provider_metadata)
        if name not in registry.names():
            problems.append(f"{name!r} was missing from names() right after register()")
        made = registry.create(name, dict(chatmodels_subject.options))
        if made.metadata.name != chatmodels_provider_metadata.name:
            problems.append(f"create({name!r}) made provider {made.metadata.name!r}")
        made.create_chat_model(chatmodels_subject.model_name).close()
        if not keep:
            registry.unregister(name)
            if name in registry:
                problems.append(f"{name!r} was still listed right after unregister()")

    def work(t: int) -> None:
        for number, name in enumerate(names[t]):
            try:
                use(name, keep=number % 2 == 0)
            except Exception as exc:
                problems.append(f"thread {t} on {name!r} got {type(exc).__name__}: {exc}")

    problems += _hung(limits, run_threads(threads, work, limits), "using the registry")
    kept = {name for row in names for name in row[::2]}
    listed = set(registry.names())
    if kept - listed:
        problems.append(f"registered names were lost: {sorted(kept - listed)[:5]}")
    if listed - kept:
        problems.append(f"unregistered names were still listed: {sorted(listed - kept)[:5]}")
    check(
        limits,
        problems,
        f"{threads} threads sharing a registry of provider {chatmodels_provider_metadata.name!r} "
        "did not get a consistent view",
    )


@pytest.mark.requirement("CONC-013")
def test_container_builds_the_singleton_once_and_each_model_apart(
    chatmodels_make_chat_model: Callable[..., ChatModel], chatmodels_settings: Settings
) -> None:
    """Threads get one shared model built once, and each its own distinct model, concurrently."""
    limits = Limits.of(chatmodels_settings)
    # Skips here, in the test thread, if the subject cannot make models.
    chatmodels_make_chat_model()
    threads = _thread_count(chatmodels_settings)
    builds: Counter[str] = Counter()
    lock = threading.Lock()

    def factory(key: str) -> Callable[[], ChatModel]:
        def build() -> ChatModel:
            with lock:
                builds[key] += 1
            return chatmodels_make_chat_model()

        return build

    container = Container()
    own_keys = [f"conc.model-{t}" for t in range(threads)]
    for key in [_SHARED_KEY, *own_keys]:
        container.register_factory(key, factory(key))
    shared: list[object] = [None] * threads
    own: list[object] = [None] * threads
    problems: list[str] = []

    def work(t: int) -> None:
        order = [_SHARED_KEY, own_keys[t]]
        limits.rng(f"container-{t}").shuffle(order)
        try:
            for key in order:
                got = container.get(key)
                if key == _SHARED_KEY:
                    shared[t] = got
                else:
                    own[t] = got
        except Exception as exc:
            problems.append(f"thread {t} got {type(exc).__name__}: {exc}")

    problems += _hung(limits, run_threads(threads, work, limits), "getting services")
    if builds[_SHARED_KEY] != 1:
        problems.append(f"the singleton was built {builds[_SHARED_KEY]} times; expected once")
    if len({id(m) for m in shared if m is not None}) > 1:
        problems.append("threads got different instances of the singleton")
    owners: dict[int, int] = {}
    for t, model in enumerate(own):
        if model is None:
            continue
        first = owners.setdefault(id(model), t)
        if first != t:
            problems.append(f"threads {first} and {t} were handed the same new chat model")
        if any(model is m for m in shared):
            problems.append(f"thread {t}'s own chat model is the shared singleton")
    container.close()
    check(
        limits,
        problems,
        f"{threads} threads creating chat models concurrently through a container",
    )
