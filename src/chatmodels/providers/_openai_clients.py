"""httpx clients of one chat model: a pooled sync client and one async client per event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable

import httpx

__all__ = ["ClientPool"]


class ClientPool:
    """Create clients lazily and close every one of them, whichever close is called.

    An AsyncClient is bound to the loop it first ran on, so each loop gets its own. A
    suspended async generator guards it: ``asyncio.run`` closes pending async generators
    before closing the loop, which closes the client there instead of leaking its sockets.
    """

    def __init__(
        self,
        make_sync: Callable[[], httpx.Client],
        make_async: Callable[[], httpx.AsyncClient],
    ) -> None:
        self._make_sync = make_sync
        self._make_async = make_async
        self._lock = threading.Lock()
        self._sync: httpx.Client | None = None
        self._async: dict[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = {}
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._closing: set[asyncio.Future[None]] = set()

    def sync_client(self) -> httpx.Client:
        """Return the sync client, creating it on first use."""
        with self._lock:
            if self._sync is None:
                self._sync = self._make_sync()
            return self._sync

    async def async_client(self) -> httpx.AsyncClient:
        """Return the running loop's client, creating it on first use there."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._clients.get(loop)
            if client is not None:
                return client
        # Building a client loads TLS settings (tens of ms): never on the event loop.
        made = await asyncio.to_thread(self._make_async)
        with self._lock:
            client = self._clients.get(loop)
            if client is None:
                guard = self._guard(loop, made)
                self._clients[loop] = made
                self._async[loop] = guard
        if client is not None:  # another task on this loop won the race
            await made.aclose()
            return client
        await guard.__anext__()
        return made

    async def _guard(
        self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                self._clients.pop(loop, None)
                self._async.pop(loop, None)
            await client.aclose()

    def _close_sync(self) -> None:
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    def close(self) -> None:
        """Close every client from sync code, reaching each async client on its own loop."""
        self._close_sync()
        with self._lock:
            guards = list(self._async.items())
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, guard in guards:
            if loop.is_closed():
                with self._lock:
                    self._clients.pop(loop, None)
                    self._async.pop(loop, None)
            elif loop is current:
                task = loop.create_task(guard.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            elif loop.is_running():
                asyncio.run_coroutine_threadsafe(guard.aclose(), loop).result(timeout=5)
            else:
                loop.run_until_complete(guard.aclose())

    async def aclose(self) -> None:
        """Close every client from async code; the running loop's client is awaited."""
        loop = asyncio.get_running_loop()
        with self._lock:
            guard = self._async.get(loop)
        if guard is not None:
            await guard.aclose()
        self.close()
