"""Run-wide state of a conformance run: provider choice, collection, outcomes, the report."""

from __future__ import annotations

import datetime
import importlib
import json
import platform
import time
from collections.abc import Generator, Iterable, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pytest

from chatmodels.conformance._options import (
    SUITE_NAMES,
    ini_value,
    key_values,
    parse_id_list,
    parse_suites,
    provider_options,
    resolve_env,
)
from chatmodels.conformance._recorder import RunRecorder, selection_filters
from chatmodels.conformance._watchdog import Watchdog
from chatmodels.conformance.outcomes import (
    CLOSE_REQUIREMENT,
    FIGURE_PROPERTY,
    LEVEL_PROPERTY,
    REQUIREMENT_PROPERTY,
    TEARDOWN_PROPERTY,
    WAIVED_PROPERTY,
    Figure,
    Outcome,
    TestOutcome,
    classify_skip,
)
from chatmodels.conformance.profiles import profile_named
from chatmodels.conformance.requirements import CATALOGUE, SUITE_VERSION
from chatmodels.conformance.scrubber import Scrubber, given_secrets
from chatmodels.conformance.settings import Settings, SettingsError
from chatmodels.conformance.subject import SECRET_PATTERN, Subject, subject_from_fixture
from chatmodels.errors import ChatModelError, ProviderNotFoundError
from chatmodels.registry import default_registry

__all__ = ["SESSION_PLUGIN", "SUITES_DIR", "ConformanceSession"]

SESSION_PLUGIN = "chatmodels-conformance-session"

SUITES_DIR = Path(__file__).parent / "suites"
DEFAULT_PROVIDER = "reference"
_WORKER_KEY = "chatmodels_conformance"


def _version(distribution: str) -> str:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _short_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    text = str(report.longrepr or "")
    return text[-1000:]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _kit_figures(outcomes: Sequence[TestOutcome]) -> tuple[Figure, ...]:
    """The kit's own instrumentation cost, measured briefly when performance was examined."""
    if not any(o.requirement_id.startswith("PERF-") for o in outcomes):
        return ()
    from chatmodels.conformance.kitcost import measure_kit_figures

    try:
        return measure_kit_figures()
    except Exception:  # a figure of the kit must never cost the report
        return ()


def _waived_outcome(report: pytest.TestReport) -> tuple[Outcome, str] | None:
    """What a waived test really did, which pytest reports as xfail or XPASS."""
    raw = next((str(v) for k, v in report.user_properties if k == WAIVED_PROPERTY), None)
    if raw is None:
        return None
    data = json.loads(raw)
    return data["outcome"], data["message"]


def _mark_waived(report: pytest.TestReport, waiver: str) -> None:
    """Show a waived failure or inconclusive result as xfail, keeping what really happened."""
    outcome: Outcome
    if report.skipped and hasattr(report, "wasxfail"):  # pytest's xfail caught a failure
        outcome, message = ("failed" if report.when == "call" else "error"), _short_message(report)
    elif report.skipped:
        outcome, message = classify_skip(_skip_reason(report))
        if outcome != "inconclusive":
            return
        report.wasxfail = f"waived ({waiver}); inconclusive: {message}"
    elif report.passed and hasattr(report, "wasxfail"):  # XPASS: judged per requirement
        outcome, message = "passed", ""
    else:
        return
    report.user_properties.append(
        (WAIVED_PROPERTY, json.dumps({"outcome": outcome, "message": message}))
    )


def _suite_of(path: Path) -> str:
    """The suite a module belongs to: ``suite_contract_core.py`` is in ``contract``."""
    return path.stem.removeprefix("suite_").split("_", 1)[0]


def requirement_of(nodeid: str) -> str | None:
    """The requirement a suite test checks, read from its marker without collecting it."""
    path, _, names = nodeid.partition("::")
    stem = Path(path).stem
    if not stem.startswith("suite_"):
        return None
    try:
        target: Any = importlib.import_module(f"chatmodels.conformance.suites.{stem}")
    except ImportError:
        return None
    found = None
    for name in ["", *names.split("::")]:
        if name:
            target = getattr(target, name.split("[", 1)[0], None)
        marks = getattr(target, "pytestmark", [])
        for mark in marks if isinstance(marks, list) else [marks]:
            if getattr(mark, "name", "") == "requirement" and mark.args:
                found = str(mark.args[0])
    return found


class _NodeResult:
    """Phases of one test folded into one outcome."""

    def __init__(self, requirement_id: str) -> None:
        self.requirement_id = requirement_id
        self.outcome: Outcome = "not_run"
        self.message = ""
        self.duration = 0.0
        self.figures: list[Figure] = []

    def add(self, report: pytest.TestReport) -> None:
        self.duration += report.duration
        figures = [
            Figure.from_json(str(v)) for k, v in report.user_properties if k == FIGURE_PROPERTY
        ]
        if len(figures) >= len(self.figures):
            self.figures = figures
        waived = _waived_outcome(report)
        if waived is not None:
            outcome, message = waived
            if outcome == "passed" or (
                self.outcome in ("not_run", "passed")
                or (outcome in ("failed", "error") and self.outcome not in ("failed", "error"))
            ):
                self.outcome, self.message = outcome, message
        elif report.skipped:
            outcome, reason = classify_skip(_skip_reason(report))
            if self.outcome in ("not_run", "passed"):
                self.outcome, self.message = outcome, reason
        elif report.failed:
            failed: Outcome = "failed" if report.when == "call" else "error"
            if self.outcome not in ("failed", "error"):
                self.outcome, self.message = failed, _short_message(report)
        elif report.when == "call" and self.outcome not in ("failed", "error"):
            self.outcome = "passed"  # a rerun after a crashed worker does not erase the crash


class ConformanceSession:
    """Registered as a plugin when the flag is on; owns everything a run decides."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.started = time.time()
        self.is_worker = hasattr(config, "workerinput")
        self.provider_name: str | None = config.getoption("chatmodels_provider") or config.getini(
            "chatmodels_provider"
        )
        self.model_name: str | None = config.getoption("chatmodels_model") or config.getini(
            "chatmodels_model"
        )
        try:
            options = provider_options(
                config.getini("chatmodels_options"), config.getoption("chatmodels_options")
            )
            self.options = resolve_env(options)
            self.scrubber = Scrubber(given_secrets(options, self.options))
            self.profile = profile_named(
                config.getoption("chatmodels_profile") or config.getini("chatmodels_profile")
            )
            settings = dict(self.profile.settings)
            settings.update(
                key_values(config.getini("chatmodels_settings"), source="chatmodels_settings")
            )
            settings.update(dict(config.getoption("chatmodels_settings")))
            self.settings = Settings(CATALOGUE, settings)
        except (KeyError, ValueError, SettingsError) as exc:
            raise pytest.UsageError(str(exc.args[0] if exc.args else exc)) from None
        self.watchdog = Watchdog(self.settings)
        self.suites = self._selected_suites()
        ini_only = config.getini("chatmodels_requirements")
        self.only: tuple[str, ...] = config.getoption("chatmodels_requirements") or (
            ini_value("chatmodels_requirements", ini_only, parse_id_list) if ini_only else ()
        )
        unknown = [i for i in self.only if "-" in i and i not in CATALOGUE]
        unknown += [i for i in self.only if "-" not in i and i not in CATALOGUE.areas]
        if unknown:
            msg = (
                f"--chatmodels-requirements / ini chatmodels_requirements: unknown {unknown!r}; "
                f"areas are {CATALOGUE.areas!r}"
            )
            raise pytest.UsageError(msg)
        self.report_dir = Path(
            config.getoption("chatmodels_report") or config.getini("chatmodels_report") or "reports"
        )
        self.waivers = self._load_waivers()
        self.subject: Subject | None = None
        if self.provider_name:
            self.subject = self._subject_from_registry(self.provider_name)
        self._results: dict[str, _NodeResult] = {}
        self._worker_subjects: list[dict[str, Any]] = []
        self.partial = False
        self.recorder = RunRecorder(self.report_dir)
        self.filters: list[str] = []
        self.header: dict[str, Any] = {}
        self.report: Any = None
        self.report_error = ""
        self.report_paths: dict[str, Path] = {}
        self.preflight_failure = ""
        self._preflight_done = False
        self._close_failures: list[str] = []

    @property
    def incomplete_reason(self) -> str:
        """Why the run stopped before every selected test ran (its budget); empty if it did not."""
        return self.watchdog.incomplete_reason

    # -- configuration ---------------------------------------------------------------

    def _selected_suites(self) -> tuple[str, ...]:
        chosen = self.config.getoption("chatmodels_suites")
        if chosen is None:
            ini = self.config.getini("chatmodels_suites")
            if ini:
                chosen = ini_value("chatmodels_suites", ini, parse_suites)
        return tuple(chosen) if chosen else SUITE_NAMES

    def _load_waivers(self) -> dict[str, str]:
        path = self.config.getoption("chatmodels_expectations") or self.config.getini(
            "chatmodels_expectations"
        )
        if not path:
            return {}
        from chatmodels.conformance.report import load_expectations

        try:
            return load_expectations(Path(path), CATALOGUE)
        except (OSError, ValueError) as exc:
            msg = f"--chatmodels-expectations {path!r}: {exc}"
            raise pytest.UsageError(msg) from None

    def _subject_from_registry(self, name: str) -> Subject:
        registry = default_registry()
        try:
            if name in registry:
                self.options = {**self.profile.options_for(registry.metadata(name)), **self.options}
            provider = registry.create(name, self.options)
        except ProviderNotFoundError:
            installed = ", ".join(registry.names()) or "none"
            msg = f"unknown chat-model provider {name!r}; installed providers: {installed}"
            raise pytest.UsageError(msg) from None
        except ChatModelError as exc:
            msg = self.scrubber.text(f"cannot create provider {name!r}: {exc}")
            raise pytest.UsageError(msg) from None
        subject = Subject(
            name,
            "option",
            dict(self.options),
            self.model_name,
            provider=provider,
            maker=lambda options: registry.create(name, options),
        )
        self.scrubber.add(subject.secret_values())
        return subject

    def resolve_subject(self, request: pytest.FixtureRequest) -> Subject:
        """Pick the provider: option or ini, then the fixture override, then the default."""
        if self.subject is None:
            value = request.getfixturevalue("chatmodels_provider")
            try:
                if value is None:
                    self.subject = self._subject_from_registry(DEFAULT_PROVIDER)
                    self.subject.source = "default"
                else:
                    self.subject = subject_from_fixture(value, dict(self.options), self.model_name)
                    self.scrubber.add(self.subject.secret_values())
            except (pytest.UsageError, TypeError, ChatModelError) as exc:
                # A bad provider is a usage error for the whole run, not one test's failure.
                pytest.exit(self.scrubber.text(str(exc)), returncode=pytest.ExitCode.USAGE_ERROR)
            self.recorder.provider(self._subject_summary() or {})
            cause = self.run_preflight(self.subject)
            if cause:
                pytest.exit(cause, returncode=pytest.ExitCode.TESTS_FAILED)
        return self.subject

    # -- preflight -------------------------------------------------------------------------

    def preflight_at_configure(self) -> None:
        """Check a provider chosen by option or ini once, in the controller, before xdist starts.

        A failure turns distribution off, so no worker is started only to be stopped; a
        fixture-supplied provider is checked when first resolved instead.
        """
        stopped = self.subject is not None and self.run_preflight(self.subject)
        if stopped and hasattr(self.config.option, "dist"):
            self.config.option.dist = "no"

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> bool | None:
        if not self.preflight_failure:
            return None
        session.items = []
        session.shouldstop = self.preflight_message  # pytest prints it once, at the end
        return True

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        return True if self.preflight_failure else None

    @property
    def preflight_message(self) -> str:
        """The one line a run stopped by the preflight ends with."""
        cause = self.preflight_failure
        return f"chatmodels conformance: preflight failed, the suites did not run: {cause}"

    def _uses_configured_provider(self) -> bool:
        """Whether the selection calls the provider as configured: the fault suite alone
        re-points it at the kit's own server, so its base URL need not answer."""
        if not set(self.suites) - {"faults"}:
            return False
        return not self.only or any(not i.startswith("FAULT") for i in self.only)

    def run_preflight(self, subject: Subject) -> str:
        """Call the provider once per style; the message to stop with when it cannot answer."""
        option = self.config.option
        informational = ("collectonly", "help", "version", "markers", "showfixtures")
        if (
            self._preflight_done
            or self.is_worker
            or any(getattr(option, o, False) for o in informational)
            or not self._uses_configured_provider()
        ):
            return ""
        self._preflight_done = True
        timeout = self.settings.float("preflight_timeout")
        if timeout <= 0:
            return ""
        from chatmodels.conformance.preflight import preflight

        cause = preflight(subject, timeout)
        if cause is None:
            return ""
        self.preflight_failure = self.scrubber.text(cause)
        return self.preflight_message

    # -- collection --------------------------------------------------------------------

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Module | None:
        if (
            file_path.parent == SUITES_DIR
            and file_path.name.startswith("suite_")
            and file_path.suffix == ".py"
            and _suite_of(file_path) in self.suites
        ):
            module: pytest.Module = pytest.Module.from_parent(parent, path=file_path)
            return module
        return None

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        problems: list[str] = []
        keep: list[pytest.Item] = []
        dropped: list[pytest.Item] = []
        for item in items:
            path = Path(str(item.path))
            if path.parent != SUITES_DIR:
                keep.append(item)
                continue
            markers = list(item.iter_markers("requirement"))
            if len(markers) != 1 or len(markers[0].args) != 1:
                problems.append(f"{item.nodeid}: needs exactly one requirement marker")
                continue
            req_id = markers[0].args[0]
            if req_id not in CATALOGUE:
                problems.append(f"{item.nodeid}: requirement {req_id!r} is not in the catalogue")
                continue
            if not self._wanted(req_id):
                dropped.append(item)
                continue
            item.user_properties.append((REQUIREMENT_PROPERTY, req_id))
            item.user_properties.append((LEVEL_PROPERTY, CATALOGUE.get(req_id).level.value))
            if req_id in self.waivers:
                # A waived failure or inconclusive result is xfail. A test that passes is XPASS,
                # not a failure: the waiver covers the requirement, which fails the run only
                # when all its tests pass (an unexpected pass, pytest_sessionfinish).
                reason = f"waived: {self.waivers[req_id]}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
            if _suite_of(path) == "performance":
                item.add_marker(pytest.mark.xdist_group("chatmodels-performance"))
            keep.append(item)
        if problems:
            raise pytest.UsageError("conformance suite problems:\n" + "\n".join(problems))
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def _wanted(self, requirement_id: str) -> bool:
        if not self.only:
            return True
        return requirement_id in self.only or requirement_id.split("-")[0] in self.only

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        # Unselected suites are never collected, so any deselected suite test (by
        # --chatmodels-requirements, -k, -m or --lf) makes the run partial.
        if any(Path(str(i.path)).parent == SUITES_DIR for i in items):
            self.partial = True

    # -- outcomes ------------------------------------------------------------------------

    def note_close_failure(self, error: BaseException) -> None:
        """Record a close() that raised in a fixture's teardown; it lands on LIFE-001."""
        self._close_failures.append(
            f"close() raised {type(error).__name__}: {error} when the kit closed a model "
            "after a test (a second close where the test had closed it); close() must "
            "never raise, however often it is called"
        )

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if call.when == "teardown" and self._close_failures:
            report.user_properties.extend((TEARDOWN_PROPERTY, m) for m in self._close_failures)
            self._close_failures.clear()
        requirement_id = next(
            (v for k, v in item.user_properties if k == REQUIREMENT_PROPERTY), None
        )
        if requirement_id in self.waivers:
            _mark_waived(report, self.waivers[str(requirement_id)])
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        requirement_id = next(
            (v for k, v in item.user_properties if k == REQUIREMENT_PROPERTY), None
        )
        if requirement_id is not None:
            self.recorder.start(item.nodeid, str(requirement_id))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, message in report.user_properties:
            if key == TEARDOWN_PROPERTY:
                closing = self._results.setdefault(
                    f"{report.nodeid}::close", _NodeResult(CLOSE_REQUIREMENT)
                )
                closing.outcome, closing.message = "failed", str(message)
                self.recorder.result(self._outcome(f"{report.nodeid}::close", closing), "teardown")
        requirement_id = next(
            (v for k, v in report.user_properties if k == REQUIREMENT_PROPERTY), None
        )
        if requirement_id is None:
            return
        result = self._results.setdefault(report.nodeid, _NodeResult(str(requirement_id)))
        result.add(report)
        self.recorder.result(self._outcome(report.nodeid, result), report.when or "")

    @staticmethod
    def _outcome(nodeid: str, r: _NodeResult) -> TestOutcome:
        return TestOutcome(
            nodeid, r.requirement_id, r.outcome, r.duration, r.message, tuple(r.figures)
        )

    def outcomes(self) -> list[TestOutcome]:
        """One outcome per suite test seen so far."""
        return [self._outcome(nodeid, r) for nodeid, r in self._results.items()]

    # -- xdist ----------------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        output = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
        if output:
            self._worker_subjects.append(output)
            self.recorder.provider(output)
        if error:
            worker = getattr(getattr(node, "gateway", None), "id", "?")
            if "keyboard-interrupt" in str(error):
                self.recorder.stop("interrupted", f"worker {worker} was interrupted")
            else:
                self.recorder.stop("crashed", f"worker {worker} crashed: {error}")
                self._stop_after_crash(str(worker))

    def _stop_after_crash(self, worker: str) -> None:
        """End the run: pytest-xdist 3.8 can hang replacing a worker under --dist loadgroup."""
        mode = self.config.getoption("dist", "no")
        dsession = self.config.pluginmanager.get_plugin("dsession")
        if mode in ("loadgroup", "loadscope", "loadfile") and dsession is not None:
            dsession.shouldstop = f"worker {worker} crashed; the run stops (--dist {mode})"

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport) -> None:
        """The test a worker died in is an error of its requirement, never ``not_run``."""
        requirement_id = (
            self._results[crashitem].requirement_id
            if crashitem in self._results
            else requirement_of(crashitem)
        )
        if requirement_id is not None:
            report.user_properties.append((REQUIREMENT_PROPERTY, requirement_id))
        report.longrepr = f"worker crashed: {report.longrepr}"

    def _subject_summary(self) -> dict[str, Any] | None:
        subject = self.subject
        if subject is None:
            return None
        metadata = subject.metadata
        return {
            "name": metadata.name,
            "version": metadata.version,
            "model": subject.model,
            "capabilities": sorted(c.value for c in metadata.capabilities),
            "options": subject.redacted_options(),
            "secrets": subject.secret_values(),
        }

    # -- the journal and the report --------------------------------------------------------

    @property
    def _collect_only(self) -> bool:
        return bool(self.config.getoption("collectonly", False))

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self._collect_only:
            return  # a collect-only run leaves the last report and journal alone
        self.recorder.install_signal_handlers(session)
        # Not earlier: --lf's plugin is configured after this one.
        self.filters = selection_filters(self.config, self.suites, self.only)
        if not self.is_worker:
            self.header = self._header()
            secrets = [v for k, v in self.options.items() if SECRET_PATTERN.search(k)]
            self.recorder.open(self.header, [*secrets, *self.scrubber.secrets])
            if self.subject is not None:
                self.recorder.provider(self._subject_summary() or {})

    def _header(self) -> dict[str, Any]:
        """The journal's first line: what runs, against which catalogue, selected how."""
        summary = self._subject_summary() or {
            "name": self.provider_name or DEFAULT_PROVIDER,
            "version": "unknown",
            "model": self.model_name or "unknown",
            "capabilities": [],
            "options": dict.fromkeys(self.options, "***"),
        }
        return {
            "suite_version": SUITE_VERSION,
            "catalogue_digest": CATALOGUE.digest(),
            "started_at": datetime.datetime.fromtimestamp(self.started, datetime.timezone.utc)
            .isoformat(timespec="seconds")
            .replace("+00:00", "Z"),
            "provider": {k: v for k, v in summary.items() if k != "secrets"},
            "environment": {
                "python": platform.python_version(),
                "platform": f"{platform.system()} {platform.machine()}",
                "pytest": pytest.__version__,
                "opentelemetry_sdk": _version("opentelemetry-sdk"),
            },
            "suites": list(self.suites),
            "filters": list(self.filters),
            "waivers": dict(self.waivers),
            "profile": self.profile.name,
            "telemetry_profile": self.settings.str("otel_semconv"),
        }

    def _note_stops(self, session: pytest.Session, exitstatus: int) -> None:
        """Turn how the run ended into reasons it is incomplete (signals are noted already)."""
        for line in self.filters:
            self.recorder.stop("filtered", line)
        if self.partial and not self.filters:
            self.recorder.stop("filtered", "suite tests were deselected")
        dsession = self.config.pluginmanager.get_plugin("dsession")
        stopped = str(
            session.shouldfail or session.shouldstop or getattr(dsession, "shouldstop", "") or ""
        )
        if exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            self.recorder.stop("crashed", "pytest hit an internal error")
        elif exitstatus == pytest.ExitCode.USAGE_ERROR:
            self.recorder.stop("interrupted", "the run stopped on a usage error")
        elif self.recorder.signalled or self.recorder.stopped_by("crashed"):
            return
        elif exitstatus == pytest.ExitCode.INTERRUPTED and (not stopped or "interrupt" in stopped):
            self.recorder.stop("interrupted", stopped or "KeyboardInterrupt")
        elif stopped:
            self.recorder.stop("stopped", stopped)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            summary = self._subject_summary()
            if summary is not None:
                self.config.workeroutput[_WORKER_KEY] = summary  # type: ignore[attr-defined]
            return
        if self._collect_only:
            return
        self.recorder.finishing()
        if self.preflight_failure:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            self._note_stops(session, int(exitstatus))
        try:
            self.write_report()
        except Exception as exc:  # a report bug must not hide the test results
            self.report_error = f"{type(exc).__name__}: {exc}"
        else:
            if self.report.unexpected_passes:  # a waiver no longer needed fails the run
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            self.recorder.end(int(exitstatus), self.report.run.incomplete, self.report.run.workers)

    def pytest_unconfigure(self) -> None:
        self.recorder.restore()

    def write_report(self) -> None:
        """Build the report from the outcomes and write it; never lose it to a render error."""
        from chatmodels.conformance.report import build_report, write_reports
        from chatmodels.conformance.report._journal import run_info

        subject = self._subject_summary() or next(iter(self._worker_subjects), None)
        if subject is None:
            subject = {"secrets": list(self.options.values())}
        run = run_info(
            self.header or self._header(),
            subject,
            duration=round(time.time() - self.started, 3),
            workers=len(self._worker_subjects),
            incomplete=self.recorder.stops,
            preflight=self.preflight_failure,
        )
        secrets: Iterable[str] = [*subject.get("secrets", []), *self.scrubber.secrets]
        outcomes = [] if self.preflight_failure else self.outcomes()
        self.report = build_report(
            CATALOGUE,
            outcomes,
            run,
            self.waivers,
            secrets=list(secrets),
            kit_figures=_kit_figures(outcomes),
        )
        self.report_paths = write_reports(self.report, self.report_dir)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.recorder.error:
            terminalreporter.write_line(self.recorder.error)
        if self.report_error:
            terminalreporter.section("chatmodels conformance", red=True)
            terminalreporter.write_line(f"the report could not be written: {self.report_error}")
            if self.recorder.path.is_file():
                terminalreporter.write_line(
                    f"journal: {self.recorder.path} (chatmodels-conformance report --recover)"
                )
            return
        if self.report is None:
            return
        if self.preflight_failure:  # pytest prints the one message (the cause) at the end
            terminalreporter.section("chatmodels conformance", red=True)
            terminalreporter.write_line(f"verdict: {self.report.verdict}")
            for path in self.report_paths.values():
                terminalreporter.write_line(f"report: {path}")
                break
            return
        from chatmodels.conformance.report import terminal_summary

        terminalreporter.section("chatmodels conformance")
        for line in terminal_summary(self.report):
            terminalreporter.write_line(line)
        json_path = self.report_paths.get("json")
        if json_path is not None:
            terminalreporter.write_line(f"report: {json_path}")
