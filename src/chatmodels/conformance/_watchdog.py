"""The run's bounds: each suite test body runs through the bounded-call module, and the run as a
whole stops starting tests once its wall-time budget (the ``run_budget`` setting) is spent.

A hang that no per-call bound caught (a provider call a suite makes directly) still ends at the
budget: the test fails naming where it was stuck, and the run stops with its report written.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance.outcomes import FIGURE_PROPERTY, Figure
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites import _bounded

__all__ = ["Watchdog"]

_SUITES_DIR = Path(_bounded.__file__).parent


class Watchdog:
    """Holds the run's clock; bounds every suite test and stops the run past its budget."""

    def __init__(self, settings: Settings) -> None:
        self.budget = settings.float("run_budget")
        self.call_limit = settings.float("call_timeout")
        self.started = time.monotonic()
        #: Why the run ended before every selected test ran; empty while it has not.
        self.incomplete_reason = ""
        self._abandoned: set[str] = set(_bounded.abandoned_threads())

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

    # -- internals ----------------------------------------------------------------------------

    def _stop(self, session: pytest.Session) -> None:
        self.incomplete_reason = self.exceeded_reason
        session.shouldstop = self.exceeded_reason

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
