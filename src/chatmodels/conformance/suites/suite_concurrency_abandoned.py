"""Concurrency suite, abandoned work: streams cancelled or closed early leave nothing running.

Each stream is abandoned after its first chunk, as a client that disconnects leaves it; then
the provider gets ``conc_cancel_grace`` seconds to stop whatever it started for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Iterator

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import call_within
from chatmodels.conformance.suites._concurrency_runners import run_loop, settle, steady
from chatmodels.conformance.suites._concurrency_support import Limits, check
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

#: Streams abandoned per way (cancelled consumer, aclose(), sync close()).
_STREAMS = 4
#: A prompt whose answer is long enough to be still streaming when abandoned.
_PROMPT = "Abandoned-stream probe: " + " ".join(f"word{n}" for n in range(150))


async def _first_then_wait(model: ChatModel, started: asyncio.Event) -> None:
    """Read like an application (closing the stream on exit), stall after the first chunk."""
    async with contextlib.aclosing(model.astream(_PROMPT)) as stream:  # type: ignore[type-var]
        async for _ in stream:
            started.set()
            await asyncio.Event().wait()  # a client that went away: cancelled here


async def _abandon_async(model: ChatModel, grace: float) -> list[str]:
    """Cancel some consumers and aclose() some streams; name the tasks still running after."""
    me = asyncio.current_task()
    before = {t for t in asyncio.all_tasks() if t is not me}
    consumers = []
    for _ in range(_STREAMS):
        started = asyncio.Event()
        consumer = asyncio.ensure_future(_first_then_wait(model, started))
        consumers.append(consumer)
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({consumer, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    for _ in range(_STREAMS):
        stream = model.astream(_PROMPT)
        await stream.__anext__()
        await stream.aclose()  # type: ignore[attr-defined]
    for task in consumers:
        task.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    loop = asyncio.get_running_loop()
    end = loop.time() + grace
    left = [t for t in asyncio.all_tasks() if t is not me and t not in before and not t.done()]
    while left and loop.time() < end:
        await asyncio.sleep(0.02)
        left = [t for t in left if not t.done()]
    for task in left:  # stop them now, so the loop closes cleanly
        task.cancel()
    return [f"task {t.get_name()} running {t.get_coro()!r}" for t in left]


def _abandon_sync(model: ChatModel) -> None:
    for _ in range(_STREAMS):
        stream: Iterator[object] = model.stream(_PROMPT)
        next(stream)
        close = getattr(stream, "close", None)
        if close is not None:
            close()


@pytest.mark.requirement("CONC-014")
@pytest.mark.capability("streaming")
def test_abandoned_streams_leave_no_work_running(
    chatmodels_chat_model: ChatModel,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """After abandoned streams and a grace period, no provider task or thread still runs."""
    limits = Limits.of(chatmodels_settings)
    grace = chatmodels_settings.float("conc_cancel_grace")
    model = chatmodels_chat_model
    problems: list[str] = []
    threads_before = steady(threading.active_count)
    call_within(functools.partial(_abandon_sync, model), "stream() closed after one chunk")
    threads_after = settle(threading.active_count, threads_before, grace)
    if threads_after > threads_before:
        names = sorted(t.name for t in threading.enumerate())
        problems.append(
            f"{threads_after - threads_before} more thread(s) than before ({threads_before}) "
            f"{grace:g}s after {_STREAMS} stream() were closed early; threads now: {names}"
        )
    if chatmodels_provider_metadata.supports(Capability.ASYNC):
        left = run_loop(functools.partial(_abandon_async, model, grace), limits)
        if left:
            problems.append(
                f"{len(left)} task(s) still ran on the loop {grace:g}s after "
                f"{2 * _STREAMS} astream() were cancelled or closed: " + "; ".join(left[:3])
            )
    check(
        limits,
        problems,
        "abandoned streams keep the provider working; expected their work to stop",
    )
