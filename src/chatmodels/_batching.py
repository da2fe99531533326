"""Run many calls with bounded concurrency, keeping each failure at its index."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from chatmodels.errors import ChatModelError, InvalidInputError

__all__ = ["DEFAULT_MAX_CONCURRENCY", "arun_batch", "check_concurrency", "run_batch"]

DEFAULT_MAX_CONCURRENCY = 8

In = TypeVar("In")
Out = TypeVar("Out")


def check_concurrency(max_concurrency: int | None, default: int) -> int:
    """Validate *max_concurrency*, falling back to *default* when unset."""
    value = default if max_concurrency is None else max_concurrency
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"max_concurrency must be an int >= 1, got {max_concurrency!r}"
        raise InvalidInputError(msg, op="batch")
    return value


def run_batch(
    call: Callable[[In], Out], inputs: Sequence[In], max_concurrency: int
) -> list[Out | ChatModelError]:
    """Call *call* on each input in a thread pool; the caller's context follows every item."""
    if not inputs:
        return []

    def one(item: In) -> Out | ChatModelError:
        try:
            return call(item)
        except ChatModelError as exc:
            return exc

    if max_concurrency == 1 or len(inputs) == 1:
        return [one(item) for item in inputs]
    workers = min(max_concurrency, len(inputs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chatmodels-batch") as pool:
        futures = [pool.submit(contextvars.copy_context().run, one, item) for item in inputs]
        return [f.result() for f in futures]


async def arun_batch(
    call: Callable[[In], Awaitable[Out]], inputs: Sequence[In], max_concurrency: int
) -> list[Out | ChatModelError]:
    """Await *call* on each input with at most *max_concurrency* in flight."""
    gate = asyncio.Semaphore(max_concurrency)

    async def one(item: In) -> Out | ChatModelError:
        async with gate:
            try:
                return await call(item)
            except ChatModelError as exc:
                return exc

    return list(await asyncio.gather(*(one(item) for item in inputs)))
