"""A small service container: lazily built singletons, health pings and ordered cleanup.

A run builds one ``Container``, registers factories and values on it, and passes it around;
nothing here is global. Factories that need other services take the container as their one
argument and ``get`` them.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import logging
import threading
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, Union, cast, overload

from opentelemetry import metrics, trace

from chatmodels._build_locks import BuildLocks
from chatmodels._closing import Closing
from chatmodels.provider import HealthState, HealthStatus

__all__ = ["Container", "DependencyCycleError", "ServiceFactory", "ServiceNotFoundError"]

T = TypeVar("T")

#: What register_factory accepts: a callable returning the service, or something yielding,
#: awaiting to, or entering into it.
ServiceFactory = Union[  # noqa: UP007 (a runtime alias; keeps 3.10 happy)
    Callable[..., T],
    Callable[..., Iterator[T]],
    Callable[..., AsyncIterator[T]],
    Callable[..., Awaitable[T]],
    Callable[..., contextlib.AbstractContextManager[T]],
    Callable[..., contextlib.AbstractAsyncContextManager[T]],
]

_logger = logging.getLogger("chatmodels")


@dataclass(frozen=True, slots=True)
class _Resolution:
    """One outermost get and its nested gets: an identity, and the keys being built, in order."""

    chain: object
    keys: tuple[object, ...]


# The resolution under way in the current thread or task: finds cycles.
_RESOLVING: contextvars.ContextVar[_Resolution | None] = contextvars.ContextVar(
    "chatmodels_di_resolving", default=None
)

_ASYNC_LOCK_POLL = 0.001

_MISSING: Any = object()


class ServiceNotFoundError(LookupError):
    """No service is registered under the requested key."""

    def __init__(self, key: object, registered: list[str]) -> None:
        listed = ", ".join(registered) if registered else "none"
        msg = f"no service is registered for {_key_name(key)!r}; registered: {listed}"
        super().__init__(msg)
        self.key = key


class DependencyCycleError(RuntimeError):
    """Services depend on each other in a loop, so none of them can be built."""

    def __init__(self, cycle: tuple[object, ...]) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(_key_name(k) for k in cycle))


def _key_name(key: object) -> str:
    """Name a service key the way errors and ping() report it."""
    if isinstance(key, type):
        if key.__module__ == "builtins":
            return key.__qualname__
        return f"{key.__module__}.{key.__qualname__}"
    return str(key)


def _takes_container(factory: Callable[..., object]) -> bool:
    """Tell whether *factory* wants the container: it must take no argument or exactly one."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some builtins have no signature; call them bare
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [
        p
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if len(required) > 1 or (required and required[0].kind not in positional):
        msg = f"factory {factory!r} must take no argument or one (the container), takes {signature}"
        raise TypeError(msg)
    return bool(required)


@dataclass(frozen=True, slots=True)
class _Service:
    build: Callable[[Container], object]
    is_async: bool
    is_value: bool
    ping: Callable[[Any], object] | None
    on_close: Callable[[Any], object] | None


@dataclass(frozen=True, slots=True)
class _Cleanup:
    name: str
    run: Callable[[], object]
    is_async: bool


def _is_async_cm(value: object) -> bool:
    return hasattr(value, "__aenter__") and hasattr(value, "__aexit__")


def _is_sync_cm(value: object) -> bool:
    return hasattr(value, "__enter__") and hasattr(value, "__exit__")


class Container(Closing):
    """Build each registered service once, hand out the cached instance, and clean up at close."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider or trace.NoOpTracerProvider()
        self._meter_provider = meter_provider or metrics.NoOpMeterProvider()
        self._lock = threading.Lock()
        self._services: dict[object, _Service] = {}
        self._instances: dict[object, object] = {}
        self._overrides: dict[object, object] = {}
        self._build_locks = BuildLocks()
        self._cleanups: list[_Cleanup] = []

    @property
    def tracer_provider(self) -> trace.TracerProvider:
        """The tracer provider instrumentation in this run uses; never the global one."""
        return self._tracer_provider

    @property
    def meter_provider(self) -> metrics.MeterProvider:
        """The meter provider instrumentation in this run uses; never the global one."""
        return self._meter_provider

    # -- registration ----------------------------------------------------------------

    @overload
    def register_factory(
        self,
        key: type[T],
        factory: ServiceFactory[T],
        *,
        ping: Callable[[T], object] | None = None,
        on_close: Callable[[T], object] | None = None,
    ) -> None: ...

    @overload
    def register_factory(
        self,
        key: str,
        factory: Callable[..., Any],
        *,
        ping: Callable[[Any], object] | None = None,
        on_close: Callable[[Any], object] | None = None,
    ) -> None: ...

    def register_factory(
        self,
        key: type[T] | str,
        factory: ServiceFactory[T],
        *,
        ping: Callable[[T], object] | None = None,
        on_close: Callable[[T], object] | None = None,
    ) -> None:
        """Build *key* with *factory* on first use; a generator or context manager gets cleanup.

        Re-registering a key drops its cached instance; that instance is still cleaned up at close.
        """
        if not callable(factory):
            msg = f"factory for {_key_name(key)!r} must be callable, got {factory!r}"
            raise TypeError(msg)
        raw: Callable[..., object] = factory
        if inspect.isgeneratorfunction(factory):
            raw = contextlib.contextmanager(factory)
        elif inspect.isasyncgenfunction(factory):
            raw = contextlib.asynccontextmanager(factory)
        is_async = inspect.iscoroutinefunction(factory) or inspect.isasyncgenfunction(factory)
        build = raw if _takes_container(factory) else _ignore_container(raw)
        self._add(key, _Service(build, is_async, False, ping, on_close))

    @overload
    def register_value(
        self, key: type[T], value: T, *, ping: Callable[[T], object] | None = None
    ) -> None: ...

    @overload
    def register_value(
        self, key: str, value: Any, *, ping: Callable[[Any], object] | None = None
    ) -> None: ...

    def register_value(
        self, key: type[T] | str, value: T, *, ping: Callable[[T], object] | None = None
    ) -> None:
        """Hand out *value* for *key* as it is; the container never enters or closes it."""
        self._add(key, _Service(_constant(value), False, True, ping, None))

    def _add(self, key: object, service: _Service) -> None:
        if not isinstance(key, (type, str)) or key == "":
            msg = f"a service key must be a type or a non-empty string, got {key!r}"
            raise TypeError(msg)
        with self._lock:
            self._services[key] = service
            self._instances.pop(key, None)

    @contextlib.contextmanager
    def override(self, key: type[T] | str, value: T) -> Iterator[None]:
        """Make ``get(key)`` return *value* inside the block, then restore what was there."""
        missing = object()
        with self._lock:
            previous = self._overrides.get(key, missing)
            self._overrides[key] = value
        try:
            yield
        finally:
            with self._lock:
                if previous is missing:
                    self._overrides.pop(key, None)
                else:
                    self._overrides[key] = previous

    # -- lookup ----------------------------------------------------------------------

    @overload
    def get(self, key: type[T]) -> T: ...

    @overload
    def get(self, key: str) -> Any: ...

    def get(self, key: type[T] | str) -> Any:
        """Return the service for *key*, building it on first use."""
        found = self._cached(key)
        if found is not _MISSING:
            return found
        service, token = self._enter(key)
        try:
            if service.is_async:
                msg = f"the factory for {_key_name(key)!r} is async; use `await container.aget()`"
                raise TypeError(msg)
            with self._building(key):
                if key in self._instances:
                    return self._instances[key]
                value = service.build(self)
                if service.is_value:
                    return self._store(key, service, value)
                if inspect.isawaitable(value) or (_is_async_cm(value) and not _is_sync_cm(value)):
                    _discard(value)
                    msg = (
                        f"the factory for {_key_name(key)!r} returned {type(value).__name__}, "
                        "which needs async code; use `await container.aget()`"
                    )
                    raise TypeError(msg)
                if _is_sync_cm(value):
                    value = self._enter_cm(key, value)
                return self._store(key, service, value)
        finally:
            _RESOLVING.reset(token)

    @overload
    async def aget(self, key: type[T]) -> T: ...

    @overload
    async def aget(self, key: str) -> Any: ...

    async def aget(self, key: type[T] | str) -> Any:
        """Return the service for *key*, awaiting async factories and async context managers."""
        found = self._cached(key)
        if found is not _MISSING:
            return found
        service, token = self._enter(key)
        try:
            async with self._abuilding(key):
                if key in self._instances:
                    return self._instances[key]
                value = service.build(self)
                if service.is_value:
                    return self._store(key, service, value)
                if inspect.isawaitable(value):
                    value = await value
                if _is_async_cm(value):
                    value = await self._aenter_cm(key, value)
                elif _is_sync_cm(value):
                    value = self._enter_cm(key, value)
                return self._store(key, service, value)
        finally:
            _RESOLVING.reset(token)

    def _cached(self, key: object) -> object:
        """Return the override or the built instance of *key*, else _MISSING; takes no lock."""
        if self._overrides and key in self._overrides:
            return self._overrides[key]
        return self._instances.get(key, _MISSING)

    def _enter(self, key: object) -> tuple[_Service, contextvars.Token[_Resolution | None]]:
        """Find *key*'s service and mark it as being built (or report the cycle)."""
        resolution = _RESOLVING.get() or _Resolution(object(), ())
        stack = resolution.keys
        if key in stack:
            raise DependencyCycleError((*stack[stack.index(key) :], key))
        with self._lock:
            service = self._services.get(key)
            if service is None:
                registered = sorted(_key_name(k) for k in self._services)
                raise ServiceNotFoundError(key, registered) from None
        return service, _RESOLVING.set(_Resolution(resolution.chain, (*stack, key)))

    def _lock_or_wait(self, key: object) -> tuple[threading.Lock, object, bool]:
        """Take *key*'s build lock if free; else register the wait, refusing one that deadlocks."""
        resolution = _RESOLVING.get()
        assert resolution is not None  # _enter set it
        lock = self._build_locks.lock_for(key)
        if lock.acquire(blocking=False):
            return lock, resolution.chain, True
        cycle = self._build_locks.start_waiting(key, resolution.chain, resolution.keys[:-1])
        if cycle is not None:
            raise DependencyCycleError(cycle)
        return lock, resolution.chain, False

    @contextlib.contextmanager
    def _building(self, key: object) -> Iterator[None]:
        """Hold *key*'s build lock, blocking the thread until it is free."""
        lock, chain, held = self._lock_or_wait(key)
        if not held:
            try:
                lock.acquire()
            finally:
                self._build_locks.stopped_waiting(chain)
        with self._build_locks.owned(key, chain, lock):
            yield

    @contextlib.asynccontextmanager
    async def _abuilding(self, key: object) -> AsyncIterator[None]:
        """Hold *key*'s build lock, polling so the event loop never blocks on a thread lock."""
        lock, chain, held = self._lock_or_wait(key)
        if not held:
            try:
                while not lock.acquire(blocking=False):
                    await asyncio.sleep(_ASYNC_LOCK_POLL)
            finally:
                self._build_locks.stopped_waiting(chain)
        with self._build_locks.owned(key, chain, lock):
            yield

    def _enter_cm(self, key: object, value: object) -> object:
        cm = cast("contextlib.AbstractContextManager[object]", value)
        entered = cm.__enter__()
        self._push(key, functools.partial(cm.__exit__, None, None, None), False)
        return entered

    async def _aenter_cm(self, key: object, value: object) -> object:
        cm = cast("contextlib.AbstractAsyncContextManager[object]", value)
        entered = await cm.__aenter__()
        self._push(key, functools.partial(cm.__aexit__, None, None, None), True)
        return entered

    def _push(self, key: object, run: Callable[[], object], is_async: bool) -> None:
        with self._lock:
            self._cleanups.append(_Cleanup(_key_name(key), run, is_async))

    def _store(self, key: object, service: _Service, value: object) -> object:
        if service.on_close is not None:
            close = service.on_close
            is_async = inspect.iscoroutinefunction(close)
            self._push(key, functools.partial(close, value), is_async)
        with self._lock:
            if self._services.get(key) is service:
                self._instances[key] = value
        return value

    # -- health ----------------------------------------------------------------------

    def ping(self) -> dict[str, HealthStatus]:
        """Run every registered ping, building services as needed; never raises."""
        with self._lock:
            checks = [(k, s.ping) for k, s in self._services.items()]
        return {
            _key_name(key): self._ping_one(key, ping) for key, ping in checks if ping is not None
        }

    def _ping_one(self, key: object, ping: Callable[[Any], object]) -> HealthStatus:
        start = time.perf_counter()
        try:
            answer = ping(self.get(cast("str", key)))
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}"
            return HealthStatus(HealthState.UNHEALTHY, time.perf_counter() - start, detail)
        elapsed = time.perf_counter() - start
        if isinstance(answer, HealthStatus):
            return answer
        if inspect.isawaitable(answer):
            _discard(answer)
            return HealthStatus(HealthState.UNHEALTHY, elapsed, "ping is async; ping() is sync")
        if answer is False:
            return HealthStatus(HealthState.UNHEALTHY, elapsed, "ping returned False")
        return HealthStatus(HealthState.HEALTHY, elapsed)

    # -- cleanup ---------------------------------------------------------------------

    def _take_cleanups(self) -> list[_Cleanup]:
        with self._lock:
            cleanups, self._cleanups = self._cleanups, []
            self._instances.clear()
        return cleanups[::-1]

    def close(self) -> None:
        """Run cleanups newest first; async ones are skipped with a ResourceWarning."""
        skipped = []
        for cleanup in self._take_cleanups():
            if cleanup.is_async:
                skipped.append(cleanup.name)
                continue
            try:
                cleanup.run()
            except Exception:
                _log_failed(cleanup.name)
        if skipped:
            msg = f"skipped async cleanup for {skipped!r}; use `await container.aclose()`"
            warnings.warn(msg, ResourceWarning, stacklevel=2)

    async def aclose(self) -> None:
        """Run every cleanup newest first, awaiting async ones; failures are logged."""
        for cleanup in self._take_cleanups():
            try:
                result = cleanup.run()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                _log_failed(cleanup.name)

    def __repr__(self) -> str:
        return f"<Container services={len(self._services)} built={len(self._instances)}>"


def _ignore_container(factory: Callable[[], object]) -> Callable[[Container], object]:
    def build(_container: Container) -> object:
        return factory()

    return build


def _constant(value: object) -> Callable[[Container], object]:
    def build(_container: Container) -> object:
        return value

    return build


def _discard(value: object) -> None:
    """Close an unawaited coroutine so it does not warn 'never awaited'."""
    close = getattr(value, "close", None)
    if inspect.iscoroutine(value) and close is not None:
        close()


def _log_failed(name: str) -> None:
    _logger.warning(
        "cleanup of service %r failed", name, exc_info=True, extra={"chatmodels_service": name}
    )
