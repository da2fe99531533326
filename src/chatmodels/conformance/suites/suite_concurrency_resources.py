"""Concurrency suite, resources: threads, descriptors, unclosed sockets and unawaited coroutines.

Counts are taken after a warm-up round at the same load, so connection pools and worker threads
a provider keeps on purpose are part of the baseline; only growth per round is a leak.
"""

from __future__ import annotations

import functools
import gc
import threading
import warnings
from dataclasses import dataclass

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._concurrency_runners import (
    open_fds,
    run_loop,
    settle,
    steady,
    task_load,
    thread_load,
    thread_rows,
)
from chatmodels.conformance.suites._concurrency_support import (
    Limits,
    call_methods,
    check,
    plan,
)
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

_THREAD_SLACK = 2
_FD_SLACK = 8
_SETTLE = 2.0
_CALLS_PER_THREAD = 2


def _round(model: ChatModel, metadata: ProviderMetadata, settings: Settings, limits: Limits) -> int:
    """One load of threads and, if the provider is async, tasks; returns the number of calls."""
    threads = max(2, settings.int("conc_threads") // 4)
    methods = call_methods(metadata, asynchronous=False)
    rows = thread_rows(threads, _CALLS_PER_THREAD, methods, limits)
    calls = len(thread_load(model, rows, limits))
    if metadata.supports(Capability.ASYNC):
        tasks = plan(
            range(max(2, settings.int("conc_async_tasks") // 4)),
            call_methods(metadata, asynchronous=True),
            limits.seed,
            "task {}".format,
        )
        calls += len(run_loop(functools.partial(task_load, model, tasks, limits), limits))
    return calls


@dataclass(frozen=True, slots=True)
class Footprint:
    """Thread and descriptor counts before and after one measured load."""

    calls: int
    threads_before: int
    threads_after: int
    fds_before: int | None
    fds_after: int | None
    limits: Limits


@pytest.fixture(scope="module")
def footprint(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> Footprint:
    """Warm up, take the baseline, run the same load again, and let it settle for up to 2 s."""
    limits = Limits.of(chatmodels_settings)
    _round(chatmodels_chat_model, chatmodels_provider_metadata, chatmodels_settings, limits)
    threads_before = steady(threading.active_count)
    fds_before = steady(_fds) if open_fds() is not None else None
    calls = _round(chatmodels_chat_model, chatmodels_provider_metadata, chatmodels_settings, limits)
    threads_after = settle(threading.active_count, threads_before + _THREAD_SLACK, _SETTLE)
    fds_after = None
    if fds_before is not None:
        fds_after = settle(_fds, fds_before + _FD_SLACK, _SETTLE)
    return Footprint(calls, threads_before, threads_after, fds_before, fds_after, limits)


def _fds() -> int:
    count = open_fds()
    return 0 if count is None else count


def _growth_problems(what: str, before: int, after: int, slack: int, calls: int) -> list[str]:
    if after <= before + slack:
        return []
    return [
        f"{after - before} more {what} than the {before} before a load of {calls} calls "
        f"({after} open {_SETTLE:g} s after it ended, after a warm-up round at the same load); "
        f"expected at most {slack} more"
    ]


@pytest.mark.requirement("CONC-008")
def test_thread_count_returns_to_baseline(footprint: Footprint) -> None:
    """After a concurrent load the process has no more threads than before it."""
    problems = _growth_problems(
        "threads", footprint.threads_before, footprint.threads_after, _THREAD_SLACK, footprint.calls
    )
    check(footprint.limits, problems, "the provider leaves threads behind")


@pytest.mark.requirement("CONC-009")
def test_open_file_descriptors_return_to_baseline(footprint: Footprint) -> None:
    """After a concurrent load the process has no more open descriptors than before it."""
    if footprint.fds_before is None or footprint.fds_after is None:
        pytest.skip("open file descriptors are counted from /proc/self/fd, absent on this platform")
    problems = _growth_problems(
        "file descriptors", footprint.fds_before, footprint.fds_after, _FD_SLACK, footprint.calls
    )
    check(footprint.limits, problems, "the provider leaks file descriptors (sockets or files)")


# -- CONC-010/011: warnings from a fresh model's load and close ------------------------------


@dataclass(frozen=True, slots=True)
class Caught:
    """The warnings one fresh model's load, close and collection produced."""

    warnings: list[tuple[type[Warning], str, str]]
    limits: Limits

    def of(self, category: type[Warning], text: str = "") -> list[str]:
        """The messages of *category* containing *text*, with where they were raised."""
        return [
            f"{message} (at {where})"
            for kind, message, where in self.warnings
            if issubclass(kind, category) and text in message
        ]


@pytest.fixture(scope="module")
def load_and_close_warnings(
    chatmodels_subject: Subject,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> Caught:
    """Make a fresh model, load it, close it and collect garbage, recording every warning."""
    limits = Limits.of(chatmodels_settings)
    gc.collect()  # earlier tests' garbage is not this model's to answer for
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = chatmodels_subject.create_chat_model()
        except LookupError as exc:
            pytest.skip(str(exc))
        try:
            _round(model, chatmodels_provider_metadata, chatmodels_settings, limits)
        finally:
            model.close()
        del model
        gc.collect()
        gc.collect()
    found = [(w.category, str(w.message), f"{w.filename}:{w.lineno}") for w in caught]
    return Caught(found, limits)


@pytest.mark.requirement("CONC-010")
def test_load_and_close_leave_no_unclosed_resources(load_and_close_warnings: Caught) -> None:
    """A loaded and closed model emits no ResourceWarning for unclosed sockets or files."""
    problems = load_and_close_warnings.of(ResourceWarning)
    check(
        load_and_close_warnings.limits,
        problems,
        f"{len(problems)} ResourceWarnings during a load and close; expected every socket and "
        "file to be closed",
    )


@pytest.mark.requirement("CONC-011")
def test_load_and_close_leave_no_coroutine_unawaited(load_and_close_warnings: Caught) -> None:
    """A loaded and closed model leaves no coroutine that was never awaited."""
    problems = load_and_close_warnings.of(RuntimeWarning, "never awaited")
    check(
        load_and_close_warnings.limits,
        problems,
        f"{len(problems)} coroutines were never awaited during a load and close; expected "
        "every coroutine the provider creates to be awaited",
    )
