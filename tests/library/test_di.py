"""Tests for chatmodels.di: the Container's singletons, cleanup, pings, overrides and threads."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from chatmodels.di import Container, DependencyCycleError, ServiceNotFoundError
from chatmodels.provider import HealthState, HealthStatus
from provider_fakes import EchoProvider, race


class Database:
    """A stand-in service that records whether it was closed."""

    def __init__(self) -> None:
        self.closed = False


class Repo:
    """A service that depends on Database."""

    def __init__(self, db: Database) -> None:
        self.db = db


class A:
    pass


class B:
    pass


class TestGet:
    def test_factory_builds_once(self) -> None:
        """A factory runs on first get and the instance is cached after."""
        calls: list[int] = []

        def make() -> Database:
            calls.append(1)
            return Database()

        c = Container()
        c.register_factory(Database, make)
        assert c.get(Database) is c.get(Database)
        assert calls == [1]

    def test_one_parameter_factory_receives_container(self) -> None:
        """A factory taking one argument gets the container and can resolve dependencies."""
        c = Container()
        c.register_factory(Database, Database)
        c.register_factory(Repo, lambda container: Repo(container.get(Database)))
        assert c.get(Repo).db is c.get(Database)

    def test_string_keys(self) -> None:
        """Services may be keyed by strings."""
        c = Container()
        c.register_value("settings", {"level": "must"})
        assert c.get("settings") == {"level": "must"}

    def test_value_is_returned_as_is(self) -> None:
        """register_value hands out the very object, never entering it."""
        entered: list[bool] = []

        class Managed:
            def __enter__(self) -> None:
                entered.append(True)

            def __exit__(self, *exc: object) -> None:
                pass

        value = Managed()
        c = Container()
        c.register_value(Managed, value)
        assert c.get(Managed) is value
        c.close()
        assert entered == []

    def test_unknown_key_lists_registered(self) -> None:
        """An unknown key raises ServiceNotFoundError naming it and the registered keys."""
        c = Container()
        c.register_value("settings", {})
        c.register_factory(Database, Database)
        with pytest.raises(ServiceNotFoundError) as info:
            c.get(Repo)
        message = str(info.value)
        assert message == (
            f"no service is registered for '{Repo.__module__}.Repo'; "
            "registered: " + ", ".join(sorted([f"{Database.__module__}.Database", "settings"]))
        )
        assert info.value.key is Repo
        assert isinstance(info.value, LookupError)
        assert info.value.__suppress_context__

    def test_unknown_key_in_empty_container(self) -> None:
        """An empty container says none are registered."""
        with pytest.raises(ServiceNotFoundError, match="registered: none"):
            Container().get("x")

    def test_cycle_names_the_whole_cycle(self) -> None:
        """A dependency cycle raises an error spelling out every step."""
        c = Container()
        c.register_factory("a", lambda container: container.get("b"))
        c.register_factory("b", lambda container: container.get("c"))
        c.register_factory("c", lambda container: container.get("a"))
        with pytest.raises(DependencyCycleError, match=r"^dependency cycle: a -> b -> c -> a$"):
            c.get("a")

    def test_cycle_with_type_keys(self) -> None:
        """Cycles between type keys show the qualified class names."""
        c = Container()
        c.register_factory(A, lambda container: container.get(B))
        c.register_factory(B, lambda container: container.get(A))
        with pytest.raises(DependencyCycleError) as info:
            c.get(A)
        assert info.value.cycle == (A, B, A)
        assert str(info.value).endswith("A -> " + f"{B.__module__}.B -> {A.__module__}.A")

    def test_failed_factory_is_retried(self) -> None:
        """A factory that raised is not cached, so the next get tries again."""
        attempts: list[int] = []

        def flaky() -> Database:
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("first time fails")
            return Database()

        c = Container()
        c.register_factory(Database, flaky)
        with pytest.raises(RuntimeError):
            c.get(Database)
        assert isinstance(c.get(Database), Database)

    def test_factory_with_two_arguments_is_refused(self) -> None:
        """Factories must take no argument or exactly one."""
        with pytest.raises(TypeError, match=r"must take no argument or one \(the container\)"):
            Container().register_factory("x", lambda a, b: None)

    def test_bad_key_is_refused(self) -> None:
        """Keys must be types or non-empty strings."""
        with pytest.raises(TypeError, match="a type or a non-empty string, got 3"):
            Container().register_value(3, 3)  # type: ignore[call-overload]

    def test_reregistering_drops_cached_instance(self) -> None:
        """Registering a key again makes the next get use the new registration."""
        c = Container()
        c.register_value("x", 1)
        assert c.get("x") == 1
        c.register_value("x", 2)
        assert c.get("x") == 2

    def test_provider_as_service(self) -> None:
        """A provider can live in the container like any other service."""
        c = Container()
        c.register_factory(EchoProvider, lambda: EchoProvider({"prefix": "!"}))
        assert c.get(EchoProvider).create_chat_model().invoke("x").text == "!x"


class TestOverride:
    def test_override_and_restore(self) -> None:
        """override() replaces a service inside the block and restores it afterwards."""
        c = Container()
        c.register_value("x", "real")
        with c.override("x", "fake"):
            assert c.get("x") == "fake"
        assert c.get("x") == "real"

    def test_nested_overrides(self) -> None:
        """Nested overrides unwind in order."""
        c = Container()
        c.register_value("x", 0)
        with c.override("x", 1):
            with c.override("x", 2):
                assert c.get("x") == 2
            assert c.get("x") == 1
        assert c.get("x") == 0

    def test_override_unregistered_key(self) -> None:
        """A key without a registration can be overridden, and is unknown again afterwards."""
        c = Container()
        with c.override("ghost", 5):
            assert c.get("ghost") == 5
        with pytest.raises(ServiceNotFoundError):
            c.get("ghost")

    def test_override_seen_by_aget(self) -> None:
        """aget honours overrides too."""

        async def scenario() -> None:
            c = Container()
            with c.override("x", 7):
                assert await c.aget("x") == 7

        asyncio.run(scenario())


class TestCleanup:
    def test_generator_factory_cleans_up_in_reverse_order(self) -> None:
        """Generator factories yield the service and finish at close, newest first."""
        events: list[str] = []

        def db() -> Iterator[Database]:
            events.append("open db")
            yield Database()
            events.append("close db")

        def repo(container: Container) -> Iterator[Repo]:
            r = Repo(container.get(Database))
            events.append("open repo")
            yield r
            events.append("close repo")

        c = Container()
        c.register_factory(Database, db)
        c.register_factory(Repo, repo)
        assert isinstance(c.get(Repo), Repo)
        c.close()
        assert events == ["open db", "open repo", "close repo", "close db"]

    def test_context_manager_result_is_entered(self) -> None:
        """A factory returning a context manager hands out what __enter__ returns."""
        events: list[str] = []

        @contextlib.contextmanager
        def resource() -> Iterator[str]:
            events.append("enter")
            yield "inside"
            events.append("exit")

        c = Container()
        c.register_factory("r", resource)
        assert c.get("r") == "inside"
        c.close()
        assert events == ["enter", "exit"]

    def test_on_close_gets_the_instance(self) -> None:
        """on_close is called with the built instance at close."""
        c = Container()
        c.register_factory(Database, Database, on_close=lambda db: setattr(db, "closed", True))
        db = c.get(Database)
        c.close()
        assert db.closed

    def test_close_is_idempotent_and_resets(self) -> None:
        """A second close does nothing, and a later get builds afresh."""
        closes: list[int] = []
        c = Container()
        c.register_factory(Database, Database, on_close=lambda db: closes.append(1))
        first = c.get(Database)
        c.close()
        c.close()
        assert closes == [1]
        assert c.get(Database) is not first

    def test_unbuilt_services_are_not_cleaned(self) -> None:
        """Only services that were built get cleanup."""
        closes: list[int] = []
        c = Container()
        c.register_factory(Database, Database, on_close=lambda db: closes.append(1))
        c.close()
        assert closes == []

    def test_failed_cleanup_is_logged_not_raised(self, caplog: pytest.LogCaptureFixture) -> None:
        """A failing cleanup is logged at warning on 'chatmodels' and the others still run."""
        events: list[str] = []

        def broken() -> Iterator[str]:
            yield "b"
            raise RuntimeError("cleanup exploded")

        c = Container()
        c.register_factory("first", Database, on_close=lambda db: events.append("first"))
        c.register_factory("broken", broken)
        c.get("first")
        c.get("broken")
        with caplog.at_level(logging.WARNING, logger="chatmodels"):
            c.close()
        assert events == ["first"]
        [record] = caplog.records
        assert record.levelno == logging.WARNING
        assert record.name == "chatmodels"
        assert "cleanup of service 'broken' failed" in record.getMessage()
        assert record.chatmodels_service == "broken"  # type: ignore[attr-defined]

    def test_context_manager_protocol_closes(self) -> None:
        """Leaving a with block closes the container."""
        with Container() as c:
            c.register_factory(Database, Database, on_close=lambda db: setattr(db, "closed", True))
            db = c.get(Database)
        assert db.closed

    def test_close_warns_about_pending_async_cleanups(self) -> None:
        """Sync close skips async cleanups with a ResourceWarning naming them."""

        async def conn() -> AsyncIterator[str]:
            yield "conn"

        async def scenario() -> Container:
            c = Container()
            c.register_factory("async-conn", conn)
            assert await c.aget("async-conn") == "conn"
            return c

        c = asyncio.run(scenario())
        with pytest.warns(ResourceWarning, match=r"\['async-conn'\].*aclose\(\)"):
            c.close()


class TestAsync:
    def test_async_factory(self) -> None:
        """A coroutine factory is awaited by aget and cached."""

        async def scenario() -> None:

            async def make() -> Database:
                await asyncio.sleep(0)
                return Database()

            c = Container()
            c.register_factory(Database, make)
            db = await c.aget(Database)
            assert await c.aget(Database) is db
            assert c.get(Database) is db  # cached: sync get is fine now

        asyncio.run(scenario())

    def test_async_generator_cleanup_at_aclose(self) -> None:
        """Async generator factories finish at aclose, interleaved in reverse with sync ones."""

        async def scenario() -> None:
            events: list[str] = []

            async def conn() -> AsyncIterator[str]:
                yield "conn"
                events.append("close conn")

            def pool(container: Container) -> Iterator[str]:
                yield "pool"
                events.append("close pool")

            c = Container()
            c.register_factory("conn", conn)
            c.register_factory("pool", pool)
            await c.aget("conn")
            await c.aget("pool")
            async with c:
                pass
            assert events == ["close pool", "close conn"]

        asyncio.run(scenario())

    def test_async_on_close(self) -> None:
        """An async on_close is awaited at aclose."""

        async def scenario() -> None:
            closed: list[Database] = []

            async def shut(db: Database) -> None:
                closed.append(db)

            c = Container()
            c.register_factory(Database, Database, on_close=shut)
            db = await c.aget(Database)
            await c.aclose()
            assert closed == [db]

        asyncio.run(scenario())

    def test_sync_get_of_async_factory_says_use_aget(self) -> None:
        """get() on an async factory is a TypeError pointing at aget()."""

        async def make() -> Database:
            return Database()

        c = Container()
        c.register_factory(Database, make)
        with pytest.raises(TypeError, match=r"is async; use `await container.aget\(\)`"):
            c.get(Database)

    def test_sync_get_of_async_context_manager_says_use_aget(self) -> None:
        """get() on a factory returning an async-only context manager points at aget()."""

        @contextlib.asynccontextmanager
        async def make() -> AsyncIterator[str]:
            yield "x"

        c = Container()
        c.register_factory("x", lambda: make())
        with pytest.raises(TypeError, match=r"needs async code; use `await container.aget\(\)`"):
            c.get("x")

    def test_concurrent_agets_build_once(self) -> None:
        """Many tasks awaiting the same slow async service build it once."""

        async def scenario() -> None:
            calls: list[int] = []

            async def make() -> Database:
                calls.append(1)
                await asyncio.sleep(0.01)
                return Database()

            c = Container()
            c.register_factory(Database, make)
            results = await asyncio.gather(*(c.aget(Database) for _ in range(20)))
            assert calls == [1]
            assert all(r is results[0] for r in results)

        asyncio.run(scenario())

    def test_async_cycle(self) -> None:
        """Cycles are found through aget as well."""

        async def scenario() -> None:
            c = Container()

            async def a(container: Container) -> Any:
                return await container.aget("b")

            async def b(container: Container) -> Any:
                return await container.aget("a")

            c.register_factory("a", a)
            c.register_factory("b", b)
            with pytest.raises(DependencyCycleError, match="a -> b -> a"):
                await c.aget("a")

        asyncio.run(scenario())


class TestPing:
    def test_ping_reports_each_service(self) -> None:
        """ping() runs every ping and reports healthy, failing and self-reported states."""

        def bad_ping(db: Database) -> None:
            raise ConnectionError("db down")

        c = Container()
        c.register_factory("good", Database, ping=lambda db: None)
        c.register_factory("bad", Database, ping=bad_ping)
        c.register_value(
            "degraded", 1, ping=lambda v: HealthStatus(HealthState.DEGRADED, 0.0, "slow")
        )
        c.register_value("false", 1, ping=lambda v: False)
        c.register_value("unpinged", 1)
        result = c.ping()
        assert set(result) == {"good", "bad", "degraded", "false"}
        assert result["good"].ok
        assert result["bad"].status is HealthState.UNHEALTHY
        assert result["bad"].detail == "ConnectionError: db down"
        assert result["degraded"].status is HealthState.DEGRADED
        assert result["false"].status is HealthState.UNHEALTHY
        assert all(s.latency >= 0 for s in result.values())

    def test_ping_never_raises_when_building_fails(self) -> None:
        """A service whose factory fails is reported unhealthy by ping()."""

        def make() -> Database:
            raise RuntimeError("cannot connect")

        c = Container()
        c.register_factory(Database, make, ping=lambda db: None)
        [(name, status)] = c.ping().items()
        assert name.endswith("Database")
        assert status.status is HealthState.UNHEALTHY
        assert "cannot connect" in status.detail

    def test_async_ping_is_reported_not_awaited(self) -> None:
        """An async ping function is reported unhealthy by sync ping() without a warning."""

        async def aping(v: int) -> None:
            return None

        c = Container()
        c.register_value("v", 1, ping=aping)
        assert c.ping()["v"].status is HealthState.UNHEALTHY


class TestTelemetryProviders:
    def test_defaults_are_no_op(self) -> None:
        """Without arguments the container hands out no-op OTel providers, not the globals."""
        c = Container()
        assert isinstance(c.tracer_provider, trace.NoOpTracerProvider)
        assert isinstance(c.meter_provider, metrics.NoOpMeterProvider)

    def test_given_providers_are_kept(self) -> None:
        """Given tracer and meter providers are returned as they are."""
        tp = TracerProvider()
        mp = MeterProvider()
        c = Container(tracer_provider=tp, meter_provider=mp)
        assert c.tracer_provider is tp
        assert c.meter_provider is mp
        mp.shutdown()
        tp.shutdown()


class TestThreads:
    def test_singleton_built_once_under_32_threads(self) -> None:
        """32 threads asking at once for a slow singleton get one instance, built once."""
        calls: list[int] = []

        def make(container: Container) -> Repo:
            calls.append(1)
            time.sleep(0.02)
            return Repo(container.get(Database))

        c = Container()
        c.register_factory(Database, Database)
        c.register_factory(Repo, make)
        seen: list[Repo] = []
        assert race(32, lambda i: seen.append(c.get(Repo))) == []
        assert calls == [1]
        assert len(seen) == 32
        assert len({id(r) for r in seen}) == 1

    def test_slow_factory_does_not_block_other_keys(self) -> None:
        """While one service is being built, other services resolve in other threads."""
        started = threading.Event()
        release = threading.Event()

        def slow() -> str:
            started.set()
            release.wait(5)
            return "slow"

        c = Container()
        c.register_factory("slow", slow)
        c.register_value("fast", "fast")
        t = threading.Thread(target=c.get, args=("slow",))
        t.start()
        assert started.wait(5)
        try:
            assert c.get("fast") == "fast"
        finally:
            release.set()
            t.join()
        assert c.get("slow") == "slow"

    def test_threads_race_registry_and_container(self) -> None:
        """Threads registering providers and resolving them through the container keep all."""
        from chatmodels.registry import ProviderRegistry

        reg = ProviderRegistry(entry_point_group=None)
        c = Container()
        c.register_value(ProviderRegistry, reg)
        builds: list[int] = []

        def provider_factory(container: Container) -> Any:
            builds.append(1)
            return container.get(ProviderRegistry).create("shared")

        reg.register("shared", EchoProvider)
        c.register_factory("provider", provider_factory)
        seen: list[object] = []

        def worker(i: int) -> None:
            c.get(ProviderRegistry).register(f"t{i}", EchoProvider)
            seen.append(c.get("provider"))

        assert race(32, worker) == []
        assert builds == [1]
        assert len({id(s) for s in seen}) == 1
        assert reg.names() == sorted(["shared", *(f"t{i}" for i in range(32))])

    @pytest.mark.parametrize("async_side", [False, True], ids=["threads", "thread-and-task"])
    def test_cycle_split_across_threads_is_an_error_not_a_deadlock(self, async_side: bool) -> None:
        """Two threads each holding one end of a cycle get DependencyCycleError, not a hang."""
        met = threading.Barrier(2)
        first_time = {"a": True, "b": True}

        def factory(mine: str, other: str) -> Any:
            def build(container: Container) -> str:
                if first_time[mine]:  # both threads hold their key before asking for the other
                    first_time[mine] = False
                    met.wait(5)
                return container.get(other) + mine

            return build

        c = Container()
        c.register_factory("a", factory("a", "b"))
        c.register_factory("b", factory("b", "a"))
        outcomes: dict[str, BaseException] = {}

        def resolve(key: str) -> None:
            try:
                if async_side and key == "b":
                    asyncio.run(c.aget(key))
                else:
                    c.get(key)
            except BaseException as exc:
                outcomes[key] = exc

        threads = [threading.Thread(target=resolve, args=(k,), daemon=True) for k in "ab"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert not any(t.is_alive() for t in threads), "the two threads deadlocked"
        assert sorted(outcomes) == ["a", "b"]
        for key, exc in outcomes.items():
            assert isinstance(exc, DependencyCycleError), (key, exc)
            assert set(exc.cycle) == {"a", "b"}
            assert exc.cycle[0] == exc.cycle[-1]
            assert len(exc.cycle) == 3

    def test_three_chain_wait_cycle_is_spelled_out_in_order(self) -> None:
        """The wait-for graph names the whole loop, through every chain's own keys."""
        from chatmodels._build_locks import BuildLocks

        locks = BuildLocks()
        one, two, three = object(), object(), object()
        with contextlib.ExitStack() as held:
            for key, chain in (("a", one), ("b", two), ("c", three)):
                lock = locks.lock_for(key)
                assert lock.acquire(blocking=False)
                held.enter_context(locks.owned(key, chain, lock))
            assert locks.start_waiting("b", one, ("root", "a")) is None
            assert locks.start_waiting("c", two, ("b",)) is None
            assert locks.start_waiting("a", three, ("c",)) == ("c", "a", "b", "c")
            locks.stopped_waiting(two)
            assert locks.start_waiting("a", three, ("c",)) is None, "two no longer waits"
        assert all(locks.lock_for(k).acquire(blocking=False) for k in "abc"), "locks not released"
