"""The pytest plugin: ``pytest --chatmodels-conformance`` runs the suites against a provider.

Without the flag the plugin registers its options and markers and does nothing else:
no provider, no exporters, no report, no extra collection.
"""

from __future__ import annotations

import importlib

import pytest

from chatmodels.conformance._options import FLAG, add_options, flags_without_conformance

__all__ = ["pytest_addoption", "pytest_configure"]

_MARKERS = (
    "requirement(id): the catalogue requirement this conformance test checks, e.g. 'STREAM-003'",
    "capability(*names): capabilities the provider must declare for this test to apply",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chatmodels", "chat-model provider conformance")
    add_options(group, parser.addini)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    if not config.getoption("chatmodels_conformance"):
        stray = flags_without_conformance(config)
        if stray is not None:
            raise pytest.UsageError(stray)
        return
    # import_module, not "from package import", so a re-imported module (pytester's inline
    # runs restore sys.modules) is never paired with a stale sibling.
    fixtures = importlib.import_module("chatmodels.conformance.fixtures")
    session_module = importlib.import_module("chatmodels.conformance.session")

    session = session_module.ConformanceSession(config)
    config.pluginmanager.register(session, session_module.SESSION_PLUGIN)
    config.pluginmanager.register(session.watchdog, "chatmodels-conformance-watchdog")
    config.pluginmanager.register(session.scrubber, "chatmodels-conformance-scrubber")
    config.pluginmanager.register(fixtures, "chatmodels-conformance-fixtures")
    raised = importlib.import_module("chatmodels.conformance.raised")
    config.pluginmanager.register(raised, "chatmodels-conformance-raised")
    suites_dir = session_module.SUITES_DIR
    session.preflight_at_configure()
    if config.getoption("dist", "no") == "load":
        # The performance suite is pinned to one worker with an xdist_group marker.
        config.option.dist = "loadgroup"
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(suites_dir)]
    elif str(suites_dir) not in config.args:
        config.args.append(str(suites_dir))


def pytest_report_header(config: pytest.Config) -> str | None:
    if not config.getoption("chatmodels_conformance"):
        return None
    return f"chatmodels-conformance: {FLAG} on"
