"""Figures of the kit itself: what the library's OpenTelemetry wrapper costs one call.

The kit wraps a provider that brings no telemetry of its own with ``chatmodels.telemetry``; that
cost belongs to the kit and the OTel SDK, which a provider's author cannot change, so it is shown
in the report's own "kit figures" section and never held against a provider. The measurement is
short (a fraction of a second): interleaved rounds on a zero-latency reference model, timed on
``perfstats.UnloadedClock`` so other processes' load is taken out.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from chatmodels import _semconv as sc
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.outcomes import Figure
from chatmodels.conformance.perfstats import UnloadedClock, calibrate, time_calls
from chatmodels.messages import ChatResult, Usage
from chatmodels.providers.reference import ReferenceProvider

__all__ = ["hand_written_otel", "measure_kit_figures"]

PROMPT = "Say hello."
US = 1e6
#: Each timed sample lasts about this long; rounds continue until the budget is spent.
_SAMPLE_SECONDS = 0.002
_MIN_ROUNDS = 7


def hand_written_otel(
    capture: TelemetryCapture, sample: ChatResult, provider_name: str
) -> Callable[[], None]:
    """One span with the wrapper's attributes and three histogram records, written by hand."""
    scope = "chatmodels.conformance.reference-cost"
    tracer = capture.tracer_provider.get_tracer(scope)
    meter = capture.meter_provider.get_meter(scope)
    duration = meter.create_histogram(
        "perf.reference.duration",
        unit="s",
        explicit_bucket_boundaries_advisory=sc.DURATION_BOUNDARIES,
    )
    tokens = meter.create_histogram(
        "perf.reference.tokens",
        unit="{token}",
        explicit_bucket_boundaries_advisory=sc.TOKEN_BOUNDARIES,
    )
    usage = sample.usage or Usage(0, 0)
    finish = sample.finish_reason.value if sample.finish_reason is not None else "stop"
    metric_attrs: dict[str, AttributeValue] = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: provider_name,
        sc.GEN_AI_REQUEST_MODEL: sample.model or "model",
        sc.GEN_AI_RESPONSE_MODEL: sample.model or "model",
    }
    tokens_in = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
    tokens_out = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}
    span_attrs: dict[str, AttributeValue] = {
        **metric_attrs,
        sc.GEN_AI_RESPONSE_FINISH_REASONS: (finish,),
        sc.GEN_AI_RESPONSE_ID: sample.response_id or "response",
        sc.GEN_AI_USAGE_INPUT_TOKENS: usage.input_tokens,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: usage.output_tokens,
    }
    name = sc.span_name(sample.model or "model")

    def emit() -> None:
        with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=span_attrs):
            pass
        duration.record(0.001, metric_attrs)
        tokens.record(usage.input_tokens, tokens_in)
        tokens.record(usage.output_tokens, tokens_out)

    return emit


def measure_kit_figures(seconds: float = 0.3) -> tuple[Figure, ...]:
    """The library wrapper's cost per call, beside a bare span plus 3 histogram records."""
    capture = TelemetryCapture()
    model = ReferenceProvider({"latency": "0"}).create_chat_model()
    try:
        instrumented = capture.instrument(model)
        arms: tuple[Callable[[], object], ...] = (
            lambda: model.invoke(PROMPT),
            lambda: instrumented.invoke(PROMPT),
            hand_written_otel(capture, model.invoke(PROMPT), model.metadata.name),
        )
        loops = [calibrate(arm, _SAMPLE_SECONDS, max_loops=2000) for arm in arms]
        rounds: list[tuple[float, ...]] = []
        end = time.perf_counter() + seconds
        with UnloadedClock() as clock:
            while len(rounds) < _MIN_ROUNDS or time.perf_counter() < end:
                rounds.append(
                    tuple(time_calls(a, n, clock) for a, n in zip(arms, loops, strict=True))
                )
                capture.clear()
    finally:
        model.close()
        capture.shutdown()
    bare = statistics.median(r[0] for r in rounds)
    added = statistics.median(r[1] - r[0] for r in rounds)
    otel = statistics.median(r[2] for r in rounds)
    detail = f"median of {len(rounds)} interleaved rounds on a zero-latency reference model"
    return (
        Figure("library instrumentation cost per call", added * US, "us", detail=detail),
        Figure("bare span + 3 histogram records", otel * US, "us", detail=detail),
        Figure("instrumentation / bare OTel", added / otel if otel else 0.0, "x", detail=detail),
        Figure("zero-latency call, uninstrumented", bare * US, "us", detail=detail),
    )
