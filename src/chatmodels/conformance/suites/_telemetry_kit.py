"""Shared machinery of the telemetry suite: exercising a model, reading spans against the table."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pytest
from opentelemetry.metrics import MeterProvider
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import Tracer, TracerProvider

from chatmodels import _semconv as sc
from chatmodels.conformance import outcomes
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.catalogue.telemetry import INSTRUMENTED_METHOD
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import call_within, run_async
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, MessageLike, Usage
from chatmodels.options import OptionsLike
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

__all__ = [
    "ASYNC_KINDS",
    "BATCH_SIZE",
    "KINDS",
    "PROMPT",
    "SUITE_SCOPE",
    "OtelRun",
    "Reported",
    "aconsume",
    "arun_kind",
    "attribute_type_problems",
    "call_spans",
    "consume",
    "foreign_metrics",
    "histogram_totals",
    "instrument_subject",
    "kinds_for",
    "otel_model",
    "otel_profile",
    "otel_run",
    "require_profile_metrics",
    "run_kind",
    "suite_tracer",
]

#: The instrumentation scope of the spans the suite itself starts (callers' parents).
SUITE_SCOPE = "chatmodels.conformance.telemetry-suite"
PROMPT = "Say hello to the telemetry suite."

#: Every calling style, with the capabilities it needs.
KINDS: dict[str, frozenset[Capability]] = {
    "invoke": frozenset(),
    "stream": frozenset({Capability.STREAMING}),
    "batch": frozenset({Capability.BATCH}),
    "ainvoke": frozenset({Capability.ASYNC}),
    "astream": frozenset({Capability.ASYNC, Capability.STREAMING}),
    "abatch": frozenset({Capability.ASYNC, Capability.BATCH}),
}
ASYNC_KINDS = frozenset({"ainvoke", "astream", "abatch"})
BATCH_SIZE = 3

_PY_TYPES: dict[str, Callable[[object], bool]] = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "double": lambda v: isinstance(v, float),
    "boolean": lambda v: isinstance(v, bool),
    "string[]": lambda v: isinstance(v, (tuple, list)) and all(isinstance(i, str) for i in v),
    "any": lambda v: True,
}
#: Span attribute types; alike in every edition of the conventions the library knows.
_TYPES = {spec.name: spec.type for p in sc.PROFILES.values() for spec in p.attributes}


@dataclass(frozen=True, slots=True)
class Reported:
    """What one call told its caller: the values its span must repeat."""

    kind: str
    response_id: str | None
    model: str | None
    finish: FinishReason | None
    usage: Usage | None
    chunks: int = 0
    text: str = ""


def kinds_for(metadata: ProviderMetadata, *, streams: bool | None = None) -> list[str]:
    """The calling styles *metadata* declares; *streams* keeps only streams (or non-streams)."""
    found = [k for k, needs in KINDS.items() if needs <= metadata.capabilities]
    if streams is None:
        return found
    return [k for k in found if ("stream" in k) == streams]


def instrument_subject(
    request: pytest.FixtureRequest,
    model: ChatModel,
    capture: TelemetryCapture,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> ChatModel:
    """Instrument *model* as the provider declares: its own ``instrumented()``, else the library's.

    With no providers given, telemetry goes to *capture*. The library's instrumentation emits
    the edition of the ``otel_semconv`` setting. A TELEMETRY provider without the protocol
    fails OTEL-001 and makes every other check inconclusive.
    """
    metadata = model.metadata
    tracers = tracer_provider if tracer_provider is not None else capture.tracer_provider
    meters = meter_provider if meter_provider is not None else capture.meter_provider
    if Capability.TELEMETRY not in metadata.capabilities:
        semconv = otel_profile(request.getfixturevalue("chatmodels_settings")).name
        if tracer_provider is None and meter_provider is None:
            return capture.instrument(model, semconv=semconv)
        return capture.instrument(
            model, tracer_provider=tracers, meter_provider=meters, semconv=semconv
        )
    hook = getattr(model, INSTRUMENTED_METHOD, None)
    if not callable(hook):
        msg = (
            f"provider {metadata.name!r} declares capability 'telemetry' but its chat model "
            f"{model!r} has no {INSTRUMENTED_METHOD}(tracer_provider, meter_provider) method; "
            "expected it to return a ChatModel reporting to exactly those providers"
        )
        marker = request.node.get_closest_marker("requirement")
        if marker is not None and marker.args[0] == "OTEL-001":
            pytest.fail(msg)
        pytest.skip(outcomes.INCONCLUSIVE + msg + " (see OTEL-001)")
    made = hook(tracers, meters)
    if not isinstance(made, ChatModel):
        msg = f"{INSTRUMENTED_METHOD}() of {model!r} returned {made!r}; expected a ChatModel"
        pytest.fail(msg)
    return made


def otel_profile(settings: Settings) -> sc.Profile:
    """The edition of the conventions this run checks (the ``otel_semconv`` setting)."""
    return sc.profile_named(settings.str("otel_semconv"))


def foreign_metrics(recorded: Iterable[str], profile: sc.Profile) -> dict[str, list[str]]:
    """Metric names in *recorded* that only other editions define, by edition and setting."""
    mine = set(profile.metrics)
    found: dict[str, list[str]] = {}
    for other in sc.PROFILES.values():
        names = sorted(n for n in recorded if n in other.metrics and n not in mine)
        if other is not profile and names:
            found[f"{other.title} (otel_semconv={other.name})"] = names
    return found


def require_profile_metrics(capture: TelemetryCapture, profile: sc.Profile) -> None:
    """Make the check inconclusive when the metrics follow another edition (OTEL-017 fails)."""
    recorded = set(capture.metrics())
    if recorded & set(profile.metrics):
        return
    foreign = foreign_metrics(recorded, profile)
    if foreign:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}the metrics follow {', '.join(foreign)} ({foreign}), "
            f"not {profile.title}, the edition this run checks (see OTEL-017)"
        )


def histogram_totals(
    capture: TelemetryCapture, name: str, selects: Mapping[str, object] | None = None
) -> tuple[int, float]:
    """How many values histogram *name* holds so far, and their sum; *selects* keeps only the
    points carrying those attribute values (one token type on a shared instrument)."""
    wanted = dict(selects or {})
    points = [
        p
        for p in capture.histogram_points(name)
        if all((p.attributes or {}).get(k) == v for k, v in wanted.items())
    ]
    return sum(p.count for p in points), sum(p.sum for p in points)


def suite_tracer(capture: TelemetryCapture) -> Tracer:
    """A tracer for the callers' parent spans, told apart from call spans by its scope."""
    return capture.tracer_provider.get_tracer(SUITE_SCOPE)


def call_spans(capture: TelemetryCapture) -> list[ReadableSpan]:
    """Finished spans made by the instrumentation, i.e. all but the suite's own."""
    return [
        s
        for s in capture.spans()
        if s.instrumentation_scope is None or s.instrumentation_scope.name != SUITE_SCOPE
    ]


def _fold(kind: str, chunks: Sequence[ChatChunk]) -> Reported:
    finish: FinishReason | None = None
    usage: Usage | None = None
    model = response_id = None
    for chunk in chunks:
        finish = chunk.finish_reason or finish
        usage = chunk.usage or usage
        model = model or chunk.model or None
        response_id = response_id or chunk.response_id or None
    text = "".join(c.delta for c in chunks)
    return Reported(kind, response_id, model, finish, usage, len(chunks), text)


def _from_result(kind: str, result: ChatResult) -> Reported:
    return Reported(
        kind,
        result.response_id or None,
        result.model or None,
        result.finish_reason,
        result.usage,
        text=result.message.content,
    )


def consume(kind: str, stream: Iterator[ChatChunk]) -> Reported:
    """Read a sync stream to its end."""
    return _fold(kind, list(stream))


async def aconsume(kind: str, stream: AsyncIterator[ChatChunk]) -> Reported:
    """Read an async stream to its end."""
    return _fold(kind, [chunk async for chunk in stream])


def _batch(kind: str, results: Sequence[object]) -> list[Reported]:
    made: list[Reported] = []
    for index, item in enumerate(results):
        if not isinstance(item, ChatResult):
            msg = f"{kind} item {index} of {len(results)} failed with {item!r}; expected a result"
            pytest.fail(msg)
        made.append(_from_result(kind, item))
    return made


async def arun_kind(
    model: ChatModel, kind: str, messages: Sequence[MessageLike] | str, options: OptionsLike
) -> list[Reported]:
    """Make one async call of *kind* (a batch makes BATCH_SIZE)."""
    if kind == "ainvoke":
        return [_from_result(kind, await model.ainvoke(messages, options))]
    if kind == "astream":
        return [await aconsume(kind, model.astream(messages, options))]
    return _batch(kind, await model.abatch([messages] * BATCH_SIZE, options))


def run_kind(
    model: ChatModel,
    kind: str,
    messages: Sequence[MessageLike] | str = PROMPT,
    options: OptionsLike = None,
) -> list[Reported]:
    """Make one call of *kind* (a batch makes BATCH_SIZE) and report what the caller saw."""
    if kind in ASYNC_KINDS:
        return run_async(lambda: arun_kind(model, kind, messages, options), f"{kind}()")
    if kind == "invoke":
        return [
            _from_result(kind, call_within(lambda: model.invoke(messages, options), "invoke()"))
        ]
    if kind == "stream":
        return [call_within(lambda: consume(kind, model.stream(messages, options)), "stream()")]
    results = call_within(lambda: model.batch([messages] * BATCH_SIZE, options), "batch()")
    return _batch(kind, results)


def attribute_type_problems(span: ReadableSpan) -> list[str]:
    """Attributes of the conventions' table whose value has the wrong type on *span*."""
    problems = []
    for key, value in (span.attributes or {}).items():
        expected = _TYPES.get(key)
        if expected is not None and not _PY_TYPES[expected](value):
            problems.append(f"{key}={value!r} (expected {expected})")
    return problems


@pytest.fixture
def otel_model(
    request: pytest.FixtureRequest,
    chatmodels_chat_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
) -> ChatModel:
    """The shared model, instrumented into this test's capture (never closed: it is shared)."""
    return instrument_subject(request, chatmodels_chat_model, chatmodels_telemetry)


@dataclass(frozen=True, slots=True)
class OtelRun:
    """What a telemetry check reads: the instrumented model, its capture, the declared metadata
    and the settings, so each check names one fixture instead of four."""

    model: ChatModel
    telemetry: TelemetryCapture
    metadata: ProviderMetadata
    settings: Settings

    @property
    def profile(self) -> sc.Profile:
        """The edition of the conventions this run checks."""
        return otel_profile(self.settings)


@pytest.fixture
def otel_run(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> OtelRun:
    """The instrumented shared model with the capture, metadata and settings it is checked by."""
    return OtelRun(
        otel_model, chatmodels_telemetry, chatmodels_provider_metadata, chatmodels_settings
    )
