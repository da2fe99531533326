"""OpenTelemetry instrumentation of any ChatModel, following the GenAI semantic conventions.

``instrument(model)`` returns a wrapper that emits one ``chat {model}`` CLIENT span per call
and the ``gen_ai.client.*`` metrics of one edition of the conventions (``semconv=``, a key of
``chatmodels._semconv.PROFILES``: ``"semconv-1.41.1"`` by default, or ``"genai-0.1.0"``).
It never sets a global provider: pass tracer and meter providers, or get the OTel API's global
ones, which are no-op proxies until the application installs real providers.

Choices the conventions leave open, documented here because the conformance kit checks them:

- ``error.type`` is the ``ChatModelError`` code (``"rate_limit"``), else the exception's
  fully-qualified class name (builtins without the ``builtins.`` prefix, e.g. ``"TimeoutError"``).
- A call the caller abandons (``asyncio.CancelledError``, a stream closed or dropped before its
  final chunk) ends its span with status UNSET, no exception event, and ``error.type`` set to
  ``"cancelled"`` on the span and the duration metric. A stream closed after its final chunk
  (the one carrying the finish reason) is a success.
- A stream's span starts at the ``stream()``/``astream()`` call, so validation errors and the
  time to first chunk are measured from the request; it ends exactly once, on exhaustion,
  failure, ``close()``/``aclose()``, or garbage collection.
- ``gen_ai.output.type`` is recorded only for a non-default format, i.e. ``"json"``.
- Token counts: semconv v1.41.1 records them only when the call reported usage; genai
  v0.1.0 records every call, 0 without usage or on failure (then with ``error.type`` on its
  token histograms, as on the duration; its counters take no ``error.type``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TypeVar

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from chatmodels import _semconv as sc
from chatmodels._batching import DEFAULT_MAX_CONCURRENCY, arun_batch, check_concurrency, run_batch
from chatmodels._closing import Closing
from chatmodels._telemetry_attributes import (
    Attributes,
    error_type,
    input_messages,
    output_messages,
    request_attributes,
    response_attributes,
)
from chatmodels._telemetry_streams import InstrumentedAsyncStream, InstrumentedStream, StreamState
from chatmodels.errors import ChatModelError
from chatmodels.messages import (
    ChatChunk,
    ChatResult,
    FinishReason,
    MessageLike,
    Usage,
)
from chatmodels.options import ChatOptions, OptionsLike, coerce_options
from chatmodels.provider import BatchResult, ChatModel, HealthStatus, ProviderMetadata

__all__ = ["InstrumentedChatModel", "instrument"]

try:
    _VERSION = version("chatmodels")
except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
    _VERSION = "0"

_CLIENT = SpanKind.CLIENT
_perf = time.perf_counter
_attach = otel_context.attach
_detach = otel_context.detach
_in_context = trace.set_span_in_context
#: Distinct response models remembered per wrapper; beyond it metric attributes are rebuilt.
_MAX_CACHED_MODELS = 64

_S = TypeVar("_S")
#: Metric attribute dicts for one response model: duration, then one per token instrument.
_MetricAttrs = tuple[Attributes, tuple[Attributes, ...]]
#: Records one value with attributes: ``Histogram.record`` or ``Counter.add``.
_Record = Callable[[float, Attributes], None]


def instrument(
    chat_model: ChatModel,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    *,
    capture_content: bool = False,
    semconv: str = sc.DEFAULT_PROFILE,
) -> InstrumentedChatModel:
    """Wrap *chat_model* so every call emits GenAI spans and metrics.

    Args:
        chat_model: Any ChatModel; its metadata name becomes ``gen_ai.provider.name``.
        tracer_provider: Where spans go; the OTel API's global (proxy) provider when None.
        meter_provider: Where metrics go; the OTel API's global (proxy) provider when None.
        capture_content: Record ``gen_ai.input.messages``/``gen_ai.output.messages``; these
            hold user data, so they are off unless asked for.
        semconv: The edition of the conventions to emit, a key of ``_semconv.PROFILES``.
    """
    profile = sc.profile_named(semconv)
    if not isinstance(chat_model, ChatModel):
        msg = f"instrument() needs a ChatModel, got {chat_model!r}"
        raise TypeError(msg)
    if isinstance(chat_model, InstrumentedChatModel):
        msg = f"{chat_model!r} is already instrumented; instrument the wrapped model instead"
        raise TypeError(msg)
    tracers = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
    meters = meter_provider if meter_provider is not None else metrics.get_meter_provider()
    return InstrumentedChatModel(
        chat_model,
        tracers.get_tracer(sc.INSTRUMENTATION_SCOPE, _VERSION, schema_url=profile.schema_url),
        meters.get_meter(sc.INSTRUMENTATION_SCOPE, _VERSION, schema_url=profile.schema_url),
        capture_content=capture_content,
        semconv=semconv,
    )


def _recorder(meter: metrics.Meter, spec: sc.MetricSpec) -> _Record:
    """Create the instrument *spec* describes and return how to record one value in it."""
    if spec.instrument == "counter":
        counter = meter.create_counter(spec.name, unit=spec.unit, description=spec.description)
        return counter.add
    histogram = meter.create_histogram(
        spec.name,
        unit=spec.unit,
        description=spec.description,
        explicit_bucket_boundaries_advisory=spec.boundaries,
    )
    return histogram.record


class InstrumentedChatModel(Closing):
    """A ChatModel that delegates to ``wrapped`` and reports each call to OpenTelemetry."""

    __slots__ = (
        "_base_metric",
        "_base_span",
        "_capture",
        "_duration",
        "_last_options",
        "_metric_cache",
        "_profile",
        "_span_name",
        "_tokens",
        "_tpoc",
        "_tracer",
        "_ttfc",
        "wrapped",
    )

    def __init__(
        self,
        wrapped: ChatModel,
        tracer: trace.Tracer,
        meter: metrics.Meter,
        *,
        capture_content: bool = False,
        semconv: str = sc.DEFAULT_PROFILE,
    ) -> None:
        self.wrapped = wrapped
        self._tracer = tracer
        self._capture = capture_content
        self._profile = profile = sc.profile_named(semconv)
        self._duration = _recorder(meter, profile.duration)
        self._ttfc = _recorder(meter, profile.time_to_first_chunk)
        self._tpoc = _recorder(meter, profile.time_per_output_chunk)
        made: dict[str, _Record] = {}  # one instrument per name, however many counts it holds
        for token in profile.tokens:
            if token.spec.name not in made:
                made[token.spec.name] = _recorder(meter, token.spec)
        self._tokens = tuple(
            (made[token.spec.name], token.token_type == sc.TOKEN_TYPE_INPUT)
            for token in profile.tokens
        )
        model = wrapped.model
        self._span_name = sc.span_name(model)
        base: Attributes = {
            sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
            sc.GEN_AI_PROVIDER_NAME: wrapped.metadata.name,
            sc.GEN_AI_REQUEST_MODEL: model,
        }
        # A model that knows its endpoint may expose it; the ChatModel protocol does not.
        address = getattr(wrapped, "server_address", None)
        if isinstance(address, str) and address:
            base[sc.SERVER_ADDRESS] = address
            port = getattr(wrapped, "server_port", None)
            if isinstance(port, int) and not isinstance(port, bool):
                base[sc.SERVER_PORT] = port
        self._base_metric = base
        self._base_span = base
        self._metric_cache: dict[str, _MetricAttrs] = {}
        self._last_options: tuple[object, Attributes] = (None, base)

    # -- attribute building ------------------------------------------------------------

    def _span_attributes(self, options: OptionsLike) -> Attributes:
        if options is None:
            return self._base_span
        last = self._last_options
        if options is last[0]:
            return last[1]
        try:
            attrs = request_attributes(self._base_span, coerce_options(options))
        except ChatModelError:
            return self._base_span  # the wrapped call raises the same error inside the span
        if isinstance(options, ChatOptions):  # immutable, so safe to remember by identity
            self._last_options = (options, attrs)
        return attrs

    def _metric_attributes(self, response_model: str | None) -> _MetricAttrs:
        key = response_model or ""
        cached = self._metric_cache.get(key)
        if cached is not None:
            return cached
        duration = dict(self._base_metric)
        if key:
            duration[sc.GEN_AI_RESPONSE_MODEL] = key
        made = (duration, tuple({**duration, **t.attributes} for t in self._profile.tokens))
        if len(self._metric_cache) < _MAX_CACHED_MODELS:
            self._metric_cache[key] = made
        return made

    # -- span lifecycle ----------------------------------------------------------------

    def _start(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike, *, stream: bool = False
    ) -> Span:
        attrs = self._span_attributes(options)
        if stream or self._capture:
            attrs = dict(attrs)
            if stream:
                attrs[sc.GEN_AI_REQUEST_STREAM] = True
            if self._capture:
                captured = input_messages(messages)
                if captured is not None:
                    attrs[sc.GEN_AI_INPUT_MESSAGES] = captured
        return self._tracer.start_span(self._span_name, kind=_CLIENT, attributes=attrs)

    def _succeed(self, span: Span, result: ChatResult, started: float) -> None:
        output = output_messages(result.message, result.finish_reason) if self._capture else None
        self._end_ok(
            span,
            started,
            result.finish_reason,
            result.response_id,
            result.model,
            result.usage,
            output,
        )

    def _end_ok(
        self,
        span: Span,
        started: float,
        finish: FinishReason | None,
        response_id: str | None,
        model: str | None,
        usage: Usage | None,
        output: str | None,
    ) -> None:
        elapsed = _perf() - started
        if span.is_recording():
            span.set_attributes(response_attributes(finish, response_id, model, usage, output))
        span.end()
        duration, token_attributes = self._metric_attributes(model)
        self._duration(elapsed, duration)
        if usage is not None:
            for (record, is_input), attrs in zip(self._tokens, token_attributes, strict=True):
                record(usage.input_tokens if is_input else usage.output_tokens, attrs)
        elif self._profile.tokens_for_every_call:
            for (record, _), attrs in zip(self._tokens, token_attributes, strict=True):
                record(0, attrs)

    def _fail(
        self, span: Span, exc: BaseException, started: float, response_model: str | None = None
    ) -> None:
        elapsed = _perf() - started
        kind = error_type(exc)
        span.set_attribute(sc.ERROR_TYPE, kind)
        if kind != sc.ERROR_TYPE_CANCELLED or isinstance(exc, ChatModelError):
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        span.end()
        base, token_attributes = self._metric_attributes(response_model)
        self._duration(elapsed, {**base, sc.ERROR_TYPE: kind})
        if self._profile.tokens_for_every_call:
            tokens = zip(self._tokens, token_attributes, self._profile.tokens, strict=True)
            for (record, _), attrs, token in tokens:
                failed = token.spec.instrument == "histogram"
                record(0, {**attrs, sc.ERROR_TYPE: kind} if failed else attrs)

    # -- the ChatModel interface -------------------------------------------------------

    @property
    def metadata(self) -> ProviderMetadata:
        """The metadata of the wrapped model's provider."""
        return self.wrapped.metadata

    @property
    def model(self) -> str:
        """The model name requests are sent for."""
        return self.wrapped.model

    def invoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation inside a ``chat {model}`` span."""
        span = self._start(messages, options)
        token = _attach(_in_context(span))
        started = _perf()
        try:
            result = self.wrapped.invoke(messages, options)
        except BaseException as exc:
            self._fail(span, exc, started)
            raise
        finally:
            _detach(token)
        self._succeed(span, result, started)
        return result

    async def ainvoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation without blocking the loop, inside a ``chat {model}`` span."""
        span = self._start(messages, options)
        token = _attach(_in_context(span))
        started = _perf()
        try:
            result = await self.wrapped.ainvoke(messages, options)
        except BaseException as exc:
            self._fail(span, exc, started)
            raise
        finally:
            _detach(token)
        self._succeed(span, result, started)
        return result

    def stream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> Iterator[ChatChunk]:
        """Stream the answer; the span covers the call until the stream ends or is closed."""
        inner, state = self._open_stream(self.wrapped.stream, messages, options)
        return InstrumentedStream(inner, state)

    def astream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> AsyncIterator[ChatChunk]:
        """Stream the answer asynchronously; the span ends exactly once, however it stops."""
        inner, state = self._open_stream(self.wrapped.astream, messages, options)
        return InstrumentedAsyncStream(inner, state)

    def _open_stream(
        self,
        call: Callable[[Sequence[MessageLike] | str, OptionsLike], _S],
        messages: Sequence[MessageLike] | str,
        options: OptionsLike,
    ) -> tuple[_S, StreamState]:
        span = self._start(messages, options, stream=True)
        ctx = _in_context(span)
        token = _attach(ctx)
        started = _perf()
        try:
            inner = call(messages, options)
        except BaseException as exc:
            self._fail(span, exc, started)
            raise
        finally:
            _detach(token)
        return inner, StreamState(self, span, ctx, started)

    def batch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations; each item gets a span under the caller's current span."""
        limit = check_concurrency(max_concurrency, DEFAULT_MAX_CONCURRENCY)
        return run_batch(lambda item: self.invoke(item, options), list(inputs), limit)

    async def abatch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations concurrently; each item gets its own span."""
        limit = check_concurrency(max_concurrency, DEFAULT_MAX_CONCURRENCY)
        return await arun_batch(lambda item: self.ainvoke(item, options), list(inputs), limit)

    def health_check(self) -> HealthStatus:
        """Probe the wrapped model; probes are not traced."""
        return self.wrapped.health_check()

    def close(self) -> None:
        """Close the wrapped model."""
        self.wrapped.close()

    async def aclose(self) -> None:
        """Close the wrapped model from async code."""
        await self.wrapped.aclose()

    def __repr__(self) -> str:
        return f"<InstrumentedChatModel {self.wrapped!r}>"
