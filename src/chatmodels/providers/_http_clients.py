"""httpx clients of one HTTP chat model: a pooled sync client and one async client per loop.

Calls lease a client for their whole length. Closing the pool while calls are in flight
retires their client, and the last call to give it back closes it: httpx drops a connection
that is still being opened when its pool closes, and that socket would leak.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import httpx

__all__ = ["ClientPool"]

_C = TypeVar("_C", httpx.Client, httpx.AsyncClient)


@dataclass(eq=False, slots=True)
class _Lease(Generic[_C]):
    """One client, the calls using it, and whether close() has retired it."""

    client: _C
    users: int = 0
    retired: bool = False
    guard: AsyncGenerator[None, None] | None = field(default=None, repr=False)

    def give_back(self) -> bool:
        """Drop one user; true when the client was retired and this was its last user."""
        self.users -= 1
        return self.retired and self.users == 0

    def retire(self) -> bool:
        """Mark the client for closing; true when nobody uses it and it must close now."""
        if self.retired:
            return False
        self.retired = True
        return self.users == 0


class ClientPool:
    """Create clients lazily, lend them to calls, and close every one, whichever close is called.

    An AsyncClient is bound to the loop it first ran on, so each loop gets its own. A
    suspended async generator guards it: ``asyncio.run`` closes pending async generators
    before closing the loop, which closes the client there instead of leaking its sockets.
    """

    def __init__(
        self,
        make_sync: Callable[[], httpx.Client],
        make_async: Callable[[], httpx.AsyncClient],
        closed_error: Callable[[str], Exception],
    ) -> None:
        self._make_sync = make_sync
        self._make_async = make_async
        self._closed_error = closed_error
        self._lock = threading.Lock()
        self._closed = False
        self._sync: _Lease[httpx.Client] | None = None
        self._async: dict[asyncio.AbstractEventLoop, _Lease[httpx.AsyncClient]] = {}
        self._closing: set[asyncio.Future[None]] = set()

    def _check_open(self, op: str) -> None:
        if self._closed:
            raise self._closed_error(op)

    @contextmanager
    def sync_client(self, op: str) -> Iterator[httpx.Client]:
        """Lend the sync client for one call, creating it on first use."""
        with self._lock:
            self._check_open(op)
            if self._sync is None:
                self._sync = _Lease(self._make_sync())
            lease = self._sync
            lease.users += 1
        try:
            yield lease.client
        finally:
            if self._give_back(lease):
                lease.client.close()

    @asynccontextmanager
    async def async_client(self, op: str) -> AsyncIterator[httpx.AsyncClient]:
        """Lend the running loop's client for one call, creating it on first use there."""
        lease = await self._async_lease(op)
        try:
            yield lease.client
        finally:
            if self._give_back(lease):
                await self._close_async(lease)

    def _give_back(self, lease: _Lease[httpx.Client] | _Lease[httpx.AsyncClient]) -> bool:
        """End one call's lease; true when the caller must close the retired client."""
        with self._lock:
            return lease.give_back()

    async def _async_lease(self, op: str) -> _Lease[httpx.AsyncClient]:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._check_open(op)
            lease = self._async.get(loop)
            if lease is not None:
                lease.users += 1
                return lease
        # Building a client loads TLS settings (tens of ms): never on the event loop.
        candidate = _Lease(await asyncio.to_thread(self._make_async))
        candidate.guard = self._guard(loop, candidate)
        await candidate.guard.__anext__()
        with self._lock:
            lease = None if self._closed else self._async.setdefault(loop, candidate)
            if lease is not None:
                lease.users += 1
        if lease is not candidate:  # closed meanwhile, or another task on this loop won
            await self._close_async(candidate)
        if lease is None:
            raise self._closed_error(op)
        return lease

    async def _guard(
        self, loop: asyncio.AbstractEventLoop, lease: _Lease[httpx.AsyncClient]
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                if self._async.get(loop) is lease:
                    del self._async[loop]
            await lease.client.aclose()

    @staticmethod
    async def _close_async(lease: _Lease[httpx.AsyncClient]) -> None:
        if lease.guard is not None:
            await lease.guard.aclose()

    def _retire_all(
        self,
    ) -> tuple[
        _Lease[httpx.Client] | None,
        list[tuple[asyncio.AbstractEventLoop, _Lease[httpx.AsyncClient]]],
    ]:
        """Refuse new calls and retire every client; return those idle enough to close now."""
        with self._lock:
            self._closed = True
            sync, self._sync = self._sync, None
            idle_sync = sync if sync is not None and sync.retire() else None
            idle_async = [(loop, lease) for loop, lease in self._async.items() if lease.retire()]
        return idle_sync, idle_async

    def close(self) -> None:
        """Close every idle client from sync code, reaching each async client on its own loop."""
        idle_sync, idle_async = self._retire_all()
        if idle_sync is not None:
            idle_sync.client.close()
        for loop, lease in idle_async:
            self._close_on(loop, lease)

    def _close_on(self, loop: asyncio.AbstractEventLoop, lease: _Lease[httpx.AsyncClient]) -> None:
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop.is_closed():
            with self._lock:
                if self._async.get(loop) is lease:
                    del self._async[loop]
        elif loop is current:
            task = loop.create_task(self._close_async(lease))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        elif loop.is_running():
            asyncio.run_coroutine_threadsafe(self._close_async(lease), loop).result(timeout=5)
        else:
            loop.run_until_complete(self._close_async(lease))

    async def aclose(self) -> None:
        """Close every idle client from async code; the running loop's client is awaited."""
        loop = asyncio.get_running_loop()
        idle_sync, idle_async = self._retire_all()
        if idle_sync is not None:
            idle_sync.client.close()
        for owner, lease in idle_async:
            if owner is loop:
                await self._close_async(lease)
            else:
                self._close_on(owner, lease)
