"""Fixtures the suites use; registered as a plugin only when the conformance flag is on."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.outcomes import FIGURE_PROPERTY, UNSUPPORTED, Figure
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.conformance.session import SESSION_PLUGIN, ConformanceSession
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._bounded import bounded, contained
from chatmodels.options import OptionsLike
from chatmodels.provider import Capability, ChatModel, Provider, ProviderMetadata

RecordFigure = Callable[..., Figure]


def _session(config: pytest.Config) -> ConformanceSession:
    session = config.pluginmanager.get_plugin(SESSION_PLUGIN)
    assert isinstance(session, ConformanceSession), "the conformance session is not registered"
    return session


@pytest.fixture(scope="session")
def chatmodels_provider() -> object:
    """Override in your conftest.py to return a Provider, a provider factory or a ChatModel."""
    return None


@pytest.fixture(scope="session")
def chatmodels_subject(request: pytest.FixtureRequest) -> Subject:
    """The provider under test, resolved by option, ini, fixture override, then 'reference'."""
    subject = _session(request.config).resolve_subject(request)
    subject.record_wire()
    return subject


@pytest.fixture(scope="session")
def chatmodels_provider_under_test(chatmodels_subject: Subject) -> Provider:
    """The provider under test."""
    if chatmodels_subject.provider is None:
        pytest.skip("the chatmodels_provider fixture returned a ChatModel, not a Provider")
    return chatmodels_subject.provider


@pytest.fixture(scope="session")
def chatmodels_provider_metadata(chatmodels_subject: Subject) -> ProviderMetadata:
    """What the provider under test declares."""
    return chatmodels_subject.metadata


def _close_after_test(config: pytest.Config, models: list[ChatModel]) -> None:
    """Close models the kit made; a close that raises is noted for LIFE-001, never an error.

    A test may have closed a model already, so this may be a second close: it must not raise.
    """
    for model in reversed(models):
        closed = bounded(model.close, "close()")
        if closed.timed_out:
            _session(config).note_close_failure(AssertionError(closed.hang_message()))
        elif closed.error is not None:
            _session(config).note_close_failure(contained(closed.error, "close()"))


@pytest.fixture(scope="session")
def chatmodels_chat_model(
    chatmodels_subject: Subject, request: pytest.FixtureRequest
) -> Iterator[ChatModel]:
    """The one shared model the suites call, as an application would share it."""
    if chatmodels_subject.lone_model is not None:
        yield chatmodels_subject.lone_model
        return
    model = chatmodels_subject.create_chat_model()
    try:
        yield model
    finally:
        _close_after_test(request.config, [model])


@pytest.fixture
def chatmodels_make_chat_model(
    chatmodels_subject: Subject, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ChatModel]]:
    """Make fresh models (closed after the test), for tests that close or break them."""
    made: list[ChatModel] = []

    def make(options: OptionsLike = None) -> ChatModel:
        try:
            model = chatmodels_subject.create_chat_model(options)
        except LookupError as exc:
            pytest.skip(str(exc))
        made.append(model)
        return model

    yield make
    _close_after_test(request.config, made)


@pytest.fixture
def chatmodels_make_provider(chatmodels_subject: Subject) -> Callable[..., Provider]:
    """Make the provider again with option overrides, e.g. a base_url or a latency."""

    def make(overrides: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Provider:
        try:
            return chatmodels_subject.make_provider({**(overrides or {}), **kwargs})
        except LookupError as exc:
            pytest.skip(str(exc))

    return make


@pytest.fixture(scope="session")
def chatmodels_settings(request: pytest.FixtureRequest) -> Settings:
    """The suite tunables and budgets of this run."""
    return _session(request.config).settings


@pytest.fixture
def chatmodels_record_figure(request: pytest.FixtureRequest) -> RecordFigure:
    """Attach a measured value to this test's requirement in the report."""

    def record(
        name: str,
        value: float,
        unit: str,
        *,
        budget: float | None = None,
        higher_is_better: bool = False,
        detail: str = "",
    ) -> Figure:
        if not math.isfinite(value):
            msg = f"figure {name!r} must be a finite number, got {value!r}"
            raise ValueError(msg)
        figure = Figure(name, float(value), unit, budget, higher_is_better, detail)
        request.node.user_properties.append((FIGURE_PROPERTY, figure.to_json()))
        return figure

    return record


@pytest.fixture
def chatmodels_telemetry() -> Iterator[TelemetryCapture]:
    """SDK tracer and meter providers with in-memory exporters, never installed globally."""
    capture = TelemetryCapture()
    try:
        yield capture
    finally:
        capture.shutdown()


@pytest.fixture(autouse=True)
def _chatmodels_capability_gate(request: pytest.FixtureRequest) -> None:
    """Skip a requirement's tests when the provider does not declare its capability."""
    marker = request.node.get_closest_marker("requirement")
    if marker is None:
        return
    requirement = CATALOGUE.get(marker.args[0])
    needed: list[Capability] = []
    if requirement.capability is not None:
        needed.append(requirement.capability)
    for cap_marker in request.node.iter_markers("capability"):
        needed.extend(Capability(c) for c in cap_marker.args)
    if not needed:
        return
    metadata: ProviderMetadata = request.getfixturevalue("chatmodels_provider_metadata")
    missing = [c.value for c in needed if c not in metadata.capabilities]
    if missing:
        pytest.skip(
            f"{UNSUPPORTED}provider {metadata.name!r} does not declare capability "
            f"{missing[0]!r}, which {requirement.id} needs"
        )
