"""FaultServer: the fault application on loopback, on its own thread and event loop."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from aiohttp import web

from ._app import DEFAULT_RANDOM_FAULTS, FaultApp
from ._fault import Fault, FaultError, RequestRecord

__all__ = ["FaultServer", "check_loopback", "serve_forever"]

#: Seconds to wait for the server to start or stop before giving up.
_STARTUP_TIMEOUT = 10.0


def check_loopback(host: str) -> str:
    """Return *host* when it is a loopback address; the server must never face a network."""
    if host == "localhost":
        return host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        msg = f"host must be a loopback address such as '127.0.0.1' or '::1', got {host!r}"
        raise FaultError(msg)
    return host


class FaultServer:
    """An OpenAI-compatible server on loopback that answers like the reference model, or fails.

    Use it as a context manager, or call start() and stop(); stop() leaves no thread or
    socket behind. ``url`` is the provider's base_url.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        random_faults: Sequence[Fault] = DEFAULT_RANDOM_FAULTS,
    ) -> None:
        self._host = check_loopback(host)
        self._requested_port = port
        self._app = FaultApp(
            fault_rate=fault_rate, fault_seed=fault_seed, random_faults=random_faults
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The port the server listens on."""
        if self._port is None:
            msg = "the FaultServer is not running; call start() or use it as a context manager"
            raise RuntimeError(msg)
        return self._port

    @property
    def url(self) -> str:
        """The base_url of the OpenAI-compatible API, such as ``http://127.0.0.1:PORT/v1``."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        """Tell whether the server is listening."""
        return self._port is not None

    # -- plan and log, delegated -------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        """Give the next requests these faults in order, then answer normally."""
        self._app.script(*faults)

    def set_default(self, fault: Fault | None) -> None:
        """Play *fault* whenever nothing else is planned; None restores normal answers."""
        self._app.set_default(fault)

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of every request seen, in arrival order."""
        return self._app.requests

    def reset_log(self) -> None:
        """Forget the requests seen so far."""
        self._app.reset_log()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FaultServer:
        """Start listening; returns self so ``server = FaultServer().start()`` reads well."""
        if self._thread is not None:
            msg = "the FaultServer is already running; call stop() before start()"
            raise RuntimeError(msg)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=self._run_loop, args=(loop,), name="chatmodels-fault-server", daemon=True
        )
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            future = asyncio.run_coroutine_threadsafe(self._astart(), loop)
            self._port = future.result(timeout=_STARTUP_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _astart(self) -> int:
        runner = web.AppRunner(
            self._app.build(), access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await runner.setup()
        self._runner = runner
        site = web.TCPSite(runner, self._host, self._requested_port)
        await site.start()
        return int(runner.addresses[0][1])

    def stop(self) -> None:
        """Stop listening, end the thread and close the loop; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        runner, self._runner = self._runner, None
        if runner is not None and not loop.is_closed():
            future = asyncio.run_coroutine_threadsafe(runner.cleanup(), loop)
            future.result(timeout=_STARTUP_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=_STARTUP_TIMEOUT)
        self._loop = self._thread = None
        self._port = None
        self._app.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<FaultServer {where}>"


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    fault_rate: float = 0.0,
    fault_seed: int = 0,
    duration: float = 3600.0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until *duration* seconds pass or the process is interrupted, then stop cleanly."""
    with FaultServer(host=host, port=port, fault_rate=fault_rate, fault_seed=fault_seed) as server:
        announce(f"chatmodels fault server listening on {server.url} for {duration:g}s")
        end = time.monotonic() + duration
        try:
            while (left := end - time.monotonic()) > 0:
                time.sleep(min(left, 0.5))
        except KeyboardInterrupt:
            announce("interrupted; stopping")
