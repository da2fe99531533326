"""The run's bounds: each suite test body runs through the bounded-call module, and the run as a
whole stops starting tests once its wall-time budget (the ``run_budget`` setting) is spent.

A hang that no per-call bound caught (a provider call a suite makes directly) still ends at the
budget: the test fails naming where it was stuck, and the run stops with its report written.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.outcomes import FIGURE_PROPERTY, Figure
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites import _bounded

__all__ = ["Watchdog"]

_SUITES_DIR = Path(_bounded.__file__).parent
_KIT = "chatmodels.conformance"
_WRAPPED = "__chatmodels_bounded__"


def _exhaust(steps: Iterator[Any], name: str) -> None:
    for _ in steps:
        msg = f"fixture {name} yielded twice; expected one yield"
        raise ValueError(msg)


def _waits_at_exit() -> bool:
    """Whether a thread other than the main one would keep the interpreter from exiting."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


class Watchdog:
    """Holds the run's clock; bounds every suite test and stops the run past its budget."""

    def __init__(self, settings: Settings) -> None:
        self.budget = settings.float("run_budget")
        self.call_limit = settings.float("call_timeout")
        self.started = time.monotonic()
        #: Why the run ended before every selected test ran; empty while it has not.
        self.incomplete_reason = ""
        self._abandoned: set[str] = set(_bounded.abandoned_threads())
        # Fixtures run on pytest's thread: their closes get the same per-call limit.
        self._token = _bounded.use_bounds(self.call_limit)
        self._exitstatus = 0

    def pytest_collection_finish(self) -> None:
        # The budget is for running tests; collecting the kit's own modules is not the provider's.
        # Threads abandoned before (the preflight's) are no test's doing.
        self.started = time.monotonic()
        self._abandoned.update(_bounded.abandoned_threads())

    def left(self) -> float:
        """Seconds of the run budget left, never negative."""
        return max(0.0, self.started + self.budget - time.monotonic())

    @property
    def exceeded_reason(self) -> str:
        """The reason a run past its budget gives for the tests it did not start."""
        return f"run budget of {self.budget:g} s exceeded"

    # -- hooks ------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if isinstance(item, pytest.Function) and Path(str(item.path)).parent == _SUITES_DIR:
                item.obj = self._bounded_test(item.obj, item.name)

    @pytest.hookimpl(tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any]) -> None:
        # The kit's fixtures call the provider too (warm-ups, reference answers, closes):
        # their setup and teardown run on a watchdog thread like test bodies.
        func = fixturedef.func
        module = getattr(func, "__module__", "") or ""
        if module.startswith(_KIT) and not getattr(func, _WRAPPED, False):
            fixturedef.func = self._bounded_fixture(func, fixturedef.argname)  # type: ignore[misc]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> bool | None:
        if self.left() > 0:
            return None
        self._stop(item.session)
        return True  # not started: the report lists it as not run

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Any:
        # Name every watchdog thread this test left behind, before its phase's report is made.
        new = sorted(set(_bounded.abandoned_threads()) - self._abandoned)
        if new:
            self._abandoned.update(new)
            figure = Figure("abandoned_threads", float(len(new)), "threads", detail="; ".join(new))
            item.user_properties.append((FIGURE_PROPERTY, figure.to_json()))
        return (yield)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Any:
        yield
        if self.left() <= 0:
            self._stop(item.session)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self._exitstatus = int(exitstatus)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        abandoned = _bounded.abandoned_threads()
        if not (self.incomplete_reason or abandoned):
            return
        terminalreporter.section("chatmodels conformance: bounds", yellow=True)
        if self.incomplete_reason:
            terminalreporter.write_line(f"the run stopped early: {self.incomplete_reason}")
        for name in abandoned:
            terminalreporter.write_line(f"abandoned, still running: {name}")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        _bounded.reset_bounds(self._token)
        if _bounded.abandoned_threads() and _waits_at_exit():
            # A hung provider call holds a thread the interpreter would join at exit (a
            # to_thread or executor worker): leave now, the report is already written.
            sys.stderr.write(
                "chatmodels-conformance: provider calls that never returned hold threads the "
                "interpreter would wait for; exiting without waiting\n"
            )
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(self._exitstatus)

    # -- internals ----------------------------------------------------------------------------

    def _stop(self, session: pytest.Session) -> None:
        self.incomplete_reason = self.exceeded_reason
        session.shouldstop = self.exceeded_reason

    def _run(self, call: Callable[[], Any], what: str) -> Any:
        """Run *call* on a watchdog thread for what is left of the budget; re-raise contained."""
        outcome = _bounded.bounded(call, what, max(self.left(), self.call_limit))
        if outcome.timed_out:
            raise AssertionError(f"{outcome.hang_message()}: {self.exceeded_reason}")
        return outcome.get()

    def _bounded_fixture(self, func: Callable[..., Any], name: str) -> Callable[..., Any]:
        what = f"fixture {name}"
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator(**kwargs: Any) -> Iterator[Any]:
                steps = func(**kwargs)
                value = self._run(lambda: next(steps), what)
                try:
                    yield value
                finally:
                    self._run(lambda: _exhaust(steps, name), f"teardown of {what}")

            setattr(generator, _WRAPPED, True)
            return generator

        @functools.wraps(func)
        def plain(**kwargs: Any) -> Any:
            return self._run(lambda: func(**kwargs), what)

        setattr(plain, _WRAPPED, True)
        return plain

    def _bounded_test(self, test: Callable[..., object], name: str) -> Callable[..., object]:
        watchdog = self

        @functools.wraps(test)
        def run(**kwargs: Any) -> object:
            deadline = watchdog.started + watchdog.budget

            def body() -> object:
                _bounded.use_bounds(watchdog.call_limit, deadline)
                return test(**kwargs)

            outcome = _bounded.bounded(body, f"test {name}", watchdog.left())
            if outcome.timed_out:
                msg = f"{outcome.hang_message()}: {watchdog.exceeded_reason}"
                raise AssertionError(msg)
            return outcome.get()

        return run
