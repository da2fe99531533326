"""Keep a run's evidence whatever happens to it: the journal, SIGTERM and SIGINT, lost workers.

The controller journals every result as it arrives; SIGTERM (what a CI timeout sends) is
handled like Ctrl-C while a conformance run is going on, and both are journaled at once, so a
run killed before its report still says why.
"""

from __future__ import annotations

import signal
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance._options import SUITE_NAMES
from chatmodels.conformance.outcomes import TestOutcome
from chatmodels.conformance.report._journal import JournalWriter, journal_path
from chatmodels.conformance.report._model import Stop
from chatmodels.conformance.report._write import FILENAMES

__all__ = ["RunRecorder", "selection_filters"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_Handler = Callable[[int, types.FrameType | None], Any] | int | None


def selection_filters(
    config: pytest.Config, suites: Sequence[str], only: Sequence[str]
) -> list[str]:
    """Every option of this run that leaves suite tests out, as the user would type it."""
    filters = []
    if set(suites) != set(SUITE_NAMES):
        filters.append(f"--chatmodels-suite {','.join(suites)}")
    if only:
        filters.append(f"--chatmodels-requirements {','.join(only)}")
    if config.getoption("keyword", ""):
        filters.append(f"-k {config.getoption('keyword')!r}")
    if config.getoption("markexpr", ""):
        filters.append(f"-m {config.getoption('markexpr')!r}")
    if config.getoption("deselect", None):
        filters.append("--deselect " + " ".join(config.getoption("deselect")))
    lf = config.pluginmanager.get_plugin("lfplugin")
    if lf is not None and getattr(lf, "active", False) and getattr(lf, "lastfailed", None):
        filters.append("--lf (only the tests that failed last time)")
    if config.getoption("stepwise", False):
        filters.append("--stepwise")
    return filters


class RunRecorder:
    """The controller's journal and signal handlers, and every reason the run is incomplete."""

    def __init__(self, report_dir: Path) -> None:
        self.path = journal_path(Path(report_dir) / FILENAMES["json"])
        self.stops: list[Stop] = []
        self.error = ""
        self._journal: JournalWriter | None = None
        self._session: pytest.Session | None = None
        self._previous: dict[int, _Handler] = {}
        self._finishing = False

    # -- the journal ----------------------------------------------------------------------

    def open(self, header: Mapping[str, Any], secrets: Iterable[str]) -> None:
        """Start this run's journal, replacing the last run's."""
        try:
            self._journal = JournalWriter(self.path, header, secrets)
        except OSError as exc:
            self.error = f"the journal could not be written: {exc}"

    def _guarded(self, write: Callable[[], None]) -> None:
        if self._journal is None:
            return
        try:
            write()
        except (OSError, ValueError) as exc:  # never let the journal break the run
            self.error = f"the journal could not be written: {type(exc).__name__}: {exc}"
            self._journal.close()
            self._journal = None

    def result(self, outcome: TestOutcome, phase: str) -> None:
        """Journal one test's outcome after *phase*."""
        journal = self._journal
        if journal is not None:
            self._guarded(lambda: journal.result(outcome, phase))

    def start(self, nodeid: str, requirement_id: str) -> None:
        """Journal that a test is starting."""
        journal = self._journal
        if journal is not None:
            self._guarded(lambda: journal.start(nodeid, requirement_id))

    def provider(self, summary: Mapping[str, Any]) -> None:
        """Journal the provider's facts and scrub its secrets from every later line."""
        journal = self._journal
        if journal is not None:
            journal.add_secrets(summary.get("secrets", ()))
            self._guarded(lambda: journal.provider(summary))

    def stop(self, kind: str, detail: str) -> None:
        """Note (and journal at once) a reason the run will not check everything."""
        stop = Stop(kind, detail)
        if stop in self.stops:
            return
        self.stops.append(stop)
        journal = self._journal
        if journal is not None:
            self._guarded(lambda: journal.stop(stop))

    def end(self, exitstatus: int, incomplete: Sequence[Stop], workers: int) -> None:
        """Journal the run's end once its report is written."""
        journal = self._journal
        if journal is not None:
            self._guarded(lambda: journal.end(exitstatus, incomplete, workers))
            self._journal = None

    # -- signals --------------------------------------------------------------------------

    def install_signal_handlers(self, session: pytest.Session) -> None:
        """Handle SIGTERM like Ctrl-C, journaling either, until :meth:`restore`."""
        self._session = session
        for signum in _SIGNALS:
            try:
                self._previous[signum] = signal.signal(signum, self._on_signal)
            except (ValueError, OSError):  # not the main thread: leave signals alone
                continue

    def finishing(self) -> None:
        """From now on a signal is only recorded, so it cannot cut the report in half."""
        self._finishing = True

    def restore(self) -> None:
        """Put back the handlers that were there before the run."""
        for signum, previous in self._previous.items():
            try:
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, OSError):
                continue
        self._previous.clear()

    def _on_signal(self, signum: int, frame: types.FrameType | None) -> None:
        name = signal.Signals(signum).name
        raised = self.signalled
        self.stop("interrupted", f"{name} received")
        if self._finishing or raised:
            return  # once is enough: a second signal (CI sends SIGINT, then SIGTERM) only counts
        if self._session is not None:
            self._session.shouldstop = f"interrupted by {name}"
        raise KeyboardInterrupt(name)

    def stopped_by(self, kind: str) -> list[Stop]:
        """The reasons of *kind* noted so far."""
        return [s for s in self.stops if s.kind == kind]

    @property
    def signalled(self) -> bool:
        """Whether a signal interrupted the run."""
        return any(s.kind == "interrupted" and s.detail.endswith("received") for s in self.stops)
