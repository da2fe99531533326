"""Deliberately broken instrumentations, one failure mode each, for the telemetry catch tests.

Two shapes, matching the two ways the suite exercises a provider:

- ``*Capture`` classes replace the ``chatmodels_telemetry`` fixture's capture: their
  ``instrument()`` returns the library's instrumentation broken in one way, through a tracer,
  span or meter shim, or an ``InstrumentedChatModel`` subclass.
- ``*Provider`` classes are reference providers declaring ``telemetry``, whose chat models
  bring their own (broken, or in one case correct) ``instrumented()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from chatmodels import _semconv as sc
from chatmodels._telemetry_streams import InstrumentedStream
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.errors import ChatModelError
from chatmodels.messages import ChatChunk, ChatResult, MessageLike
from chatmodels.options import OptionsLike
from chatmodels.provider import BatchResult, Capability, ChatModel
from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceChatModel, ReferenceProvider
from chatmodels.telemetry import InstrumentedChatModel, instrument
from scaffold import catching

Attributes = dict[str, Any]


# -- shims: the library's instrumentation with one thing changed on the way out ---------------


class ShimSpan:
    """A span whose attribute writes and status go through the capture's hooks first."""

    def __init__(self, span: Any, owner: ShimCapture) -> None:
        self._span = span
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._span, name)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        self._span.set_attributes(self._owner.attributes(dict(attributes)))

    def set_attribute(self, key: str, value: Any) -> None:
        self.set_attributes({key: value})

    def set_status(self, status: Any, description: str | None = None) -> None:
        if self._owner.keeps_status:
            self._span.set_status(status, description)


class ShimTracer:
    """A tracer whose spans get the capture's name, kind and attributes."""

    def __init__(self, tracer: trace.Tracer, owner: ShimCapture) -> None:
        self._tracer = tracer
        self._owner = owner

    def start_span(
        self,
        name: str,
        context: Any = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> ShimSpan:
        owner = self._owner
        span = self._tracer.start_span(
            owner.span_name(name),
            context,
            owner.span_kind(kind),
            owner.attributes(dict(attributes or {})),
            **kwargs,
        )
        return ShimSpan(span, owner)


class ShimHistogram:
    """A histogram whose records go through the capture's ``record`` hook."""

    def __init__(self, histogram: Any, name: str, owner: ShimCapture) -> None:
        self._histogram = histogram
        self._name = name
        self._owner = owner

    def record(self, value: float, attributes: Mapping[str, Any] | None = None) -> None:
        for v, attrs in self._owner.record(self._name, value, dict(attributes or {})):
            self._histogram.record(v, attrs)


class ShimCounter:
    """A counter whose additions go through the capture's ``record`` hook."""

    def __init__(self, sink: Any, name: str, owner: ShimCapture) -> None:
        self._sink = sink  # the SDK counter's add, or a histogram's record
        self._name = name
        self._owner = owner

    def add(self, value: float, attributes: Mapping[str, Any] | None = None) -> None:
        for v, attrs in self._owner.record(self._name, value, dict(attributes or {})):
            self._sink(v, attrs)


class ShimMeter:
    """A meter whose instruments get the capture's boundaries, kind and record hook."""

    def __init__(self, meter: metrics.Meter, owner: ShimCapture) -> None:
        self._meter = meter
        self._owner = owner

    def create_histogram(
        self,
        name: str,
        unit: str = "",
        description: str = "",
        explicit_bucket_boundaries_advisory: Sequence[float] | None = None,
    ) -> ShimHistogram:
        histogram = self._meter.create_histogram(
            name,
            unit=unit,
            description=description,
            explicit_bucket_boundaries_advisory=self._owner.boundaries(
                explicit_bucket_boundaries_advisory
            ),
        )
        return ShimHistogram(histogram, name, self._owner)

    def create_counter(self, name: str, unit: str = "", description: str = "") -> Any:
        if self._owner.counters_as_histograms:
            histogram = self._meter.create_histogram(name, unit=unit, description=description)
            return ShimCounter(histogram.record, name, self._owner)
        counter = self._meter.create_counter(name, unit=unit, description=description)
        return ShimCounter(counter.add, name, self._owner)


class ShimCapture(TelemetryCapture):
    """A capture whose instrument() builds the library's wrapper over shims; hooks change it."""

    wrapper: ClassVar[type[InstrumentedChatModel]] = InstrumentedChatModel
    capture_content: ClassVar[bool] = False
    keeps_status: ClassVar[bool] = True
    counters_as_histograms: ClassVar[bool] = False

    def instrument(self, chat_model: ChatModel, **kwargs: Any) -> ChatModel:
        tracers = kwargs.pop("tracer_provider", None) or self.tracer_provider
        meters = kwargs.pop("meter_provider", None) or self.meter_provider
        tracer = tracers.get_tracer(sc.INSTRUMENTATION_SCOPE, schema_url=sc.SCHEMA_URL)
        meter = meters.get_meter(sc.INSTRUMENTATION_SCOPE, schema_url=sc.SCHEMA_URL)
        kwargs.setdefault("capture_content", self.capture_content)
        return self.wrapper(chat_model, ShimTracer(tracer, self), ShimMeter(meter, self), **kwargs)  # type: ignore[arg-type]

    def span_name(self, name: str) -> str:
        return name

    def span_kind(self, kind: SpanKind) -> SpanKind:
        return kind

    def attributes(self, attrs: Attributes) -> Attributes:
        return attrs

    def record(self, name: str, value: float, attrs: Attributes) -> list[tuple[float, Attributes]]:
        return [(value, attrs)]

    def boundaries(self, boundaries: Sequence[float] | None) -> Sequence[float] | None:
        return boundaries


def _renamed(attrs: Attributes, old: str, new: str) -> Attributes:
    if old in attrs:
        attrs[new] = attrs.pop(old)
    return attrs


# -- OTEL-001 ------------------------------------------------------------------------------


@catching("OTEL-001", only="OTEL-001,OTEL-002,OTEL-008")
class MisnamedSpansCapture(ShimCapture):
    """Names spans after the library instead of 'chat {model}'."""

    def span_name(self, name: str) -> str:
        return "chatmodels.invoke"


@catching("OTEL-001", only="OTEL-001,OTEL-002")
class InternalSpansCapture(ShimCapture):
    """Starts inference spans with kind INTERNAL."""

    def span_kind(self, kind: SpanKind) -> SpanKind:
        return SpanKind.INTERNAL


# -- OTEL-002 ------------------------------------------------------------------------------


@catching("OTEL-002", only="OTEL-001,OTEL-002,OTEL-003,OTEL-010")
class SaysGenAiSystemCapture(ShimCapture):
    """Uses the deprecated gen_ai.system key instead of gen_ai.provider.name."""

    def attributes(self, attrs: Attributes) -> Attributes:
        return _renamed(attrs, sc.GEN_AI_PROVIDER_NAME, "gen_ai.system")


@catching(
    "OTEL-002",
    also={"OTEL-003", "OTEL-009"},
    because="strings are also not the values the caller got, on the span and per concurrent caller",
    only="OTEL-002,OTEL-003,OTEL-009",
)
class UsageAsStringsCapture(ShimCapture):
    """Records token counts as strings."""

    def attributes(self, attrs: Attributes) -> Attributes:
        for key in (sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS):
            if key in attrs:
                attrs[key] = str(attrs[key])
        return attrs


# -- OTEL-003 / OTEL-004 ----------------------------------------------------------------------


@catching("OTEL-003", only="OTEL-002,OTEL-003,OTEL-011")
class SwapsUsageCapture(ShimCapture):
    """Puts input tokens under the output key and back on spans (metrics stay right)."""

    def attributes(self, attrs: Attributes) -> Attributes:
        inp, out = sc.GEN_AI_USAGE_INPUT_TOKENS, sc.GEN_AI_USAGE_OUTPUT_TOKENS
        if inp in attrs and out in attrs:
            attrs[inp], attrs[out] = attrs[out], attrs[inp]
        return attrs


@catching("OTEL-004", only="OTEL-002,OTEL-004,OTEL-009")
class TopPAsTopKCapture(ShimCapture):
    """Records the request's top_p under gen_ai.request.top_k."""

    def attributes(self, attrs: Attributes) -> Attributes:
        return _renamed(attrs, sc.GEN_AI_REQUEST_TOP_P, "gen_ai.request.top_k")


# -- OTEL-005 ------------------------------------------------------------------------------


@catching("OTEL-005", only="OTEL-005,OTEL-006,OTEL-010")
class NoErrorStatusCapture(ShimCapture):
    """Records the exception event but never sets status ERROR."""

    keeps_status = False


class _MarksSuccessOk(InstrumentedChatModel):
    def _end_ok(self, span: Any, *args: Any) -> None:
        span.set_status(Status(StatusCode.OK))
        super()._end_ok(span, *args)


@catching("OTEL-005", only="OTEL-005,OTEL-006")
class MarksSuccessOkCapture(ShimCapture):
    """Sets status OK on successful calls, where the conventions leave it UNSET."""

    wrapper = _MarksSuccessOk


# -- OTEL-006 / OTEL-007 ----------------------------------------------------------------------


class _LeakyStream(InstrumentedStream):
    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    def __del__(self) -> None:
        pass


class _EndsNoSpanOnClose(InstrumentedChatModel):
    def stream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> Iterator[ChatChunk]:
        inner, state = self._open_stream(self.wrapped.stream, messages, options)
        return _LeakyStream(inner, state)


@catching("OTEL-006", only="OTEL-006,OTEL-007,OTEL-013")
class EndsNoSpanOnEarlyCloseCapture(ShimCapture):
    """Closes the provider's stream on close() but never ends the span."""

    wrapper = _EndsNoSpanOnClose


@catching("OTEL-007", only="OTEL-006,OTEL-007,OTEL-013")
class TimeToFirstChunkInMsCapture(ShimCapture):
    """Reports time to first chunk in milliseconds, on spans and in the metric."""

    def attributes(self, attrs: Attributes) -> Attributes:
        key = sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK
        if key in attrs:
            attrs[key] = attrs[key] * 1000.0
        return attrs

    def record(self, name: str, value: float, attrs: Attributes) -> list[tuple[float, Attributes]]:
        if name == sc.METRIC_TIME_TO_FIRST_CHUNK.name:
            value *= 1000.0
        return [(value, attrs)]


# -- OTEL-008 / OTEL-009 ----------------------------------------------------------------------


class _BatchOnBareThreads(InstrumentedChatModel):
    def batch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        def one(item: Sequence[MessageLike] | str) -> ChatResult | ChatModelError:
            try:
                return self.invoke(item, options)
            except ChatModelError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=4) as pool:  # no copy_context(): the parent is lost
            return list(pool.map(one, inputs))


@catching("OTEL-008", only="OTEL-001,OTEL-005,OTEL-008")
class LosesParentInBatchCapture(ShimCapture):
    """Runs batch items on pool threads without the caller's context."""

    wrapper = _BatchOnBareThreads


class _SharedRequestAttributes(InstrumentedChatModel):
    def _start(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike, *, stream: bool = False
    ) -> Any:
        self.request_attributes = self._span_attributes(options)  # one slot for every caller
        attrs = {sc.GEN_AI_REQUEST_STREAM: True} if stream else {}
        return self._tracer.start_span(self._span_name, kind=SpanKind.CLIENT, attributes=attrs)

    def _end_ok(self, span: Any, *args: Any) -> None:
        span.set_attributes(self.request_attributes)
        super()._end_ok(span, *args)


@catching("OTEL-009", only="OTEL-002,OTEL-004,OTEL-009")
class SharedRequestAttributesCapture(ShimCapture):
    """Keeps the current request's attributes on the instance, written at the span's end."""

    wrapper = _SharedRequestAttributes


# -- OTEL-010 .. OTEL-014 ------------------------------------------------------------------


@catching("OTEL-010", only="OTEL-010,OTEL-011,OTEL-012")
class DropsFailedDurationsCapture(ShimCapture):
    """Records durations of successful calls only."""

    def record(self, name: str, value: float, attrs: Attributes) -> list[tuple[float, Attributes]]:
        if name == sc.METRIC_OPERATION_DURATION.name and sc.ERROR_TYPE in attrs:
            return []
        return [(value, attrs)]


@catching("OTEL-011", only="OTEL-010,OTEL-011,OTEL-012")
class DoubleCountsTokensCapture(ShimCapture):
    """Records every token count twice."""

    def record(self, name: str, value: float, attrs: Attributes) -> list[tuple[float, Attributes]]:
        times = 2 if name == sc.METRIC_TOKEN_USAGE.name else 1
        return [(value, attrs)] * times


@catching("OTEL-012", only="OTEL-010,OTEL-012,OTEL-013")
class DefaultBucketsCapture(ShimCapture):
    """Creates the histograms without the conventions' advisory boundaries."""

    def boundaries(self, boundaries: Sequence[float] | None) -> Sequence[float] | None:
        return None


class TokenCountersAsHistogramsCapture(ShimCapture):
    """Records genai v0.1.0 token usage counters as histograms under the counters' names."""

    counters_as_histograms = True


class _TimesFirstChunkOfInvoke(InstrumentedChatModel):
    def _succeed(self, span: Any, result: ChatResult, started: float) -> None:
        self._ttfc(0.001, self._metric_attributes(result.model)[0])
        super()._succeed(span, result, started)


@catching("OTEL-013", only="OTEL-007,OTEL-012,OTEL-013")
class StreamingMetricsOnInvokeCapture(ShimCapture):
    """Records a time to first chunk for calls that did not stream."""

    wrapper = _TimesFirstChunkOfInvoke


@catching("OTEL-014", only="OTEL-002,OTEL-014")
class CapturesContentCapture(ShimCapture):
    """Captures prompts and answers without being asked."""

    capture_content = True


# -- OTEL-016 ------------------------------------------------------------------------------


@catching("OTEL-016", only="OTEL-015,OTEL-016")
class SetsGlobalTracerCapture(ShimCapture):
    """Installs its tracer provider as the process's global one when instrumenting."""

    def instrument(self, chat_model: ChatModel, **kwargs: Any) -> ChatModel:
        trace.set_tracer_provider(self.tracer_provider)
        return super().instrument(chat_model, **kwargs)


# -- providers that bring their own instrumentation ---------------------------------------

TELEMETRY_METADATA = dataclasses.replace(
    REFERENCE_METADATA, capabilities=REFERENCE_METADATA.capabilities | {Capability.TELEMETRY}
)


class _NoHookModel(ReferenceChatModel):
    pass


class _SelfInstrumentedModel(ReferenceChatModel):
    def instrumented(self, tracer_provider: Any, meter_provider: Any) -> ChatModel:
        """Report to exactly the given providers, through the library's instrumentation."""
        return instrument(self, tracer_provider, meter_provider)


class _SdkOnlySpans(InstrumentedChatModel):
    def _end_ok(self, span: Any, *args: Any) -> None:
        dict(span.attributes)  # only SDK spans have attributes to read
        super()._end_ok(span, *args)


class _AssumesSdkModel(ReferenceChatModel):
    def instrumented(self, tracer_provider: Any, meter_provider: Any) -> ChatModel:
        tracer = tracer_provider.get_tracer(sc.INSTRUMENTATION_SCOPE)
        return _SdkOnlySpans(self, tracer, meter_provider.get_meter(sc.INSTRUMENTATION_SCOPE))


class _SetsGlobalMeterModel(ReferenceChatModel):
    def instrumented(self, tracer_provider: Any, meter_provider: Any) -> ChatModel:
        metrics.set_meter_provider(meter_provider)
        return instrument(self, tracer_provider, meter_provider)


class _EmitsOneEdition(ReferenceChatModel):
    semconv: ClassVar[str] = sc.DEFAULT_PROFILE

    def instrumented(self, tracer_provider: Any, meter_provider: Any) -> ChatModel:
        """Report with the library's instrumentation, always in the same edition."""
        return instrument(self, tracer_provider, meter_provider, semconv=self.semconv)


class _EmitsSemconv(_EmitsOneEdition):
    semconv = "semconv-1.41.1"


class _EmitsGenAi(_EmitsOneEdition):
    semconv = "genai-0.1.0"


class _TelemetryProvider(ReferenceProvider):
    metadata = TELEMETRY_METADATA


class SelfInstrumentedProvider(_TelemetryProvider):
    """Declares telemetry and keeps the instrumented() protocol correctly."""

    chat_model_class = _SelfInstrumentedModel


class NoInstrumentedMethodProvider(_TelemetryProvider):
    """Declares telemetry but its models have no instrumented() method."""

    chat_model_class = _NoHookModel


@catching("OTEL-015", only="OTEL-001,OTEL-015")
class AssumesSdkSpansProvider(_TelemetryProvider):
    """Its instrumentation reads span.attributes, which no-op spans lack."""

    chat_model_class = _AssumesSdkModel


@catching("OTEL-016", only="OTEL-015,OTEL-016")
class SetsGlobalMeterProvider(_TelemetryProvider):
    """Installs the meter provider it is given as the global one."""

    chat_model_class = _SetsGlobalMeterModel


class EmitsSemconvProvider(_TelemetryProvider):
    """Its own instrumentation emits semconv v1.41.1 names, whichever edition the run checks."""

    chat_model_class = _EmitsSemconv


class EmitsGenAiProvider(_TelemetryProvider):
    """Its own instrumentation emits genai v0.1.0 names, whichever edition the run checks."""

    chat_model_class = _EmitsGenAi
