"""The openai provider's client pool: calls lease clients, and close waits for the last lease."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Callable, Iterator

import httpx
import pytest

from chatmodels import ClosedError
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.providers._http_clients import ClientPool
from chatmodels.providers.openai import OpenAIChatModel, OpenAIProvider


def closed(op: str) -> ClosedError:
    return ClosedError(f"{op}() on a closed pool", op=op)


class Made:
    """Every client the pool built, so a test can check each one was closed."""

    def __init__(self) -> None:
        self.sync: list[httpx.Client] = []
        self.async_: list[httpx.AsyncClient] = []

    def make_sync(self) -> httpx.Client:
        self.sync.append(httpx.Client())
        return self.sync[-1]

    def make_async(self) -> httpx.AsyncClient:
        self.async_.append(httpx.AsyncClient())
        return self.async_[-1]

    def pool(self) -> ClientPool:
        return ClientPool(self.make_sync, self.make_async, closed)

    def all_closed(self) -> bool:
        return all(c.is_closed for c in [*self.sync, *self.async_])


class TestSync:
    def test_one_client_is_shared_and_closed_with_the_pool(self) -> None:
        made = Made()
        pool = made.pool()
        with pool.sync_client("invoke") as first, pool.sync_client("invoke") as second:
            assert first is second
        assert not first.is_closed
        pool.close()
        assert made.all_closed()
        assert len(made.sync) == 1

    def test_close_during_a_call_waits_for_the_call(self) -> None:
        made = Made()
        pool = made.pool()
        with pool.sync_client("stream") as client:
            pool.close()
            assert not client.is_closed, "closed under a call still using it"
        assert client.is_closed, "the last call did not close the retired client"

    def test_calls_after_close_are_refused_and_build_nothing(self) -> None:
        made = Made()
        pool = made.pool()
        pool.close()
        with pytest.raises(ClosedError) as caught, pool.sync_client("invoke"):
            pass
        assert caught.value.op == "invoke"
        assert made.sync == []

    def test_close_from_another_thread_under_many_calls(self) -> None:
        made = Made()
        pool = made.pool()
        entered, release = threading.Barrier(9), threading.Event()
        refused: list[BaseException] = []

        def call() -> None:
            with pool.sync_client("invoke"):
                entered.wait(5)
                release.wait(5)
            try:
                with pool.sync_client("invoke"):
                    pass
            except ClosedError as exc:
                refused.append(exc)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        entered.wait(5)
        pool.close()
        assert not made.all_closed()
        release.set()
        for thread in threads:
            thread.join(5)
        assert made.all_closed()
        assert len(refused) == 8


class TestAsync:
    def test_each_loop_has_its_own_client(self) -> None:
        made = Made()
        pool = made.pool()

        async def lend() -> httpx.AsyncClient:
            async with pool.async_client("ainvoke") as client:
                return client

        async def both() -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
            return await lend(), await lend()

        first, again = asyncio.run(both())
        assert first is again
        # asyncio.run's end closed the first loop's client through its guard
        assert first.is_closed
        second = asyncio.run(lend())
        assert second is not first
        pool.close()
        assert made.all_closed()

    def test_aclose_during_a_call_waits_for_the_call(self) -> None:
        made = Made()
        pool = made.pool()

        async def run() -> None:
            async with pool.async_client("astream") as client:
                await pool.aclose()
                assert not client.is_closed, "closed under a call still using it"
            assert client.is_closed, "the last call did not close the retired client"
            with pytest.raises(ClosedError):
                async with pool.async_client("ainvoke"):
                    pass

        asyncio.run(run())
        assert len(made.async_) == 1

    def test_close_racing_the_first_call_closes_the_new_client(self) -> None:
        made = Made()
        building = threading.Event()
        proceed = threading.Event()
        original = made.make_async

        def slow_make() -> httpx.AsyncClient:
            building.set()
            proceed.wait(5)
            return original()

        pool = ClientPool(made.make_sync, slow_make, closed)

        async def run() -> None:
            call = asyncio.ensure_future(pool.async_client("ainvoke").__aenter__())
            await asyncio.to_thread(building.wait, 5)
            pool.close()
            proceed.set()
            with pytest.raises(ClosedError):
                await call

        asyncio.run(run())
        assert len(made.async_) == 1
        assert made.all_closed()

    def test_close_from_another_thread_reaches_the_loop(self) -> None:
        made = Made()
        pool = made.pool()
        ready, done = threading.Event(), threading.Event()

        async def serve() -> None:
            async with pool.async_client("ainvoke"):
                pass
            ready.set()
            await asyncio.to_thread(done.wait, 5)

        thread = threading.Thread(target=asyncio.run, args=(serve(),))
        thread.start()
        assert ready.wait(5)
        pool.close()
        assert made.all_closed(), "close() did not close the idle client on its loop"
        done.set()
        thread.join(5)


def leaked_sockets(action: Callable[[], None]) -> list[str]:
    """Run *action*, collect garbage, and return the unclosed-socket warnings raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        action()
        gc.collect()
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.fixture(scope="module")
def drip_server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        running.set_default(Fault.drip(0.01))
        yield running


def drip_model(server: FaultServer) -> OpenAIChatModel:
    options = {"base_url": server.url, "model": "reference-echo", "max_retries": 0}
    return OpenAIProvider(options).create_chat_model()


PROMPT = "a few words to drip back"
CALLERS = 16


class TestNoLeakWhenClosedUnderLoad:
    def test_threads_streaming_while_closed(self, drip_server: FaultServer) -> None:
        """Closing a model while threads open connections and stream leaves no socket behind."""
        chat = drip_model(drip_server)
        streaming = threading.Semaphore(0)
        unexpected: list[BaseException] = []

        def call() -> None:
            try:
                for _ in range(3):
                    chunks = chat.stream(PROMPT)
                    next(chunks)
                    streaming.release()
                    list(chunks)
            except ClosedError:
                return
            except BaseException as exc:
                unexpected.append(exc)

        def action() -> None:
            threads = [threading.Thread(target=call) for _ in range(CALLERS)]
            for thread in threads:
                thread.start()
            for _ in range(CALLERS):
                assert streaming.acquire(timeout=10)
            chat.close()
            for thread in threads:
                thread.join(30)

        assert leaked_sockets(action) == []
        assert unexpected == []

    def test_tasks_streaming_while_aclosed(self, drip_server: FaultServer) -> None:
        """The same with tasks on one loop and aclose()."""
        unexpected: list[BaseException] = []

        async def run() -> None:
            chat = drip_model(drip_server)
            streaming = asyncio.Semaphore(0)

            async def call() -> None:
                try:
                    for _ in range(3):
                        first = True
                        async for _chunk in chat.astream(PROMPT):
                            if first:
                                streaming.release()
                                first = False
                except ClosedError:
                    return
                except Exception as exc:
                    unexpected.append(exc)

            tasks = [asyncio.ensure_future(call()) for _ in range(CALLERS)]
            for _ in range(CALLERS):
                await asyncio.wait_for(streaming.acquire(), 10)
            await chat.aclose()
            await asyncio.gather(*tasks)

        assert leaked_sockets(lambda: asyncio.run(run())) == []
        assert unexpected == []
