"""The cost instrument() adds to an invoke, compared side by side with hand-written OTel calls.

Budget: (instrumented invoke - bare invoke) <= 1.3 x (a bare ``start_as_current_span`` with the
same attributes + the same three histogram records). Both sides run on the same SDK providers in
one process, in interleaved rounds; the medians are compared, so machine load cancels out.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from chatmodels import _semconv as sc
from chatmodels.base import BaseChatModel
from chatmodels.messages import ChatResult, Message, Usage
from chatmodels.options import ChatOptions
from chatmodels.provider import ProviderMetadata
from chatmodels.telemetry import instrument

BUDGET = 1.3
ROUNDS = 15
RESULT = ChatResult(Message.assistant("hi"), "stop", "zero-1", "resp-1", Usage(3, 2))
MESSAGES = [Message.user("hello")]


class ZeroLatencyModel(BaseChatModel):
    """Answers instantly, so only the wrapper's own cost is measured."""

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        return RESULT


@dataclass
class Contenders:
    """The three callables timed side by side, and the exporter to drain between rounds."""

    bare: Callable[[], object]
    instrumented: Callable[[], object]
    hand_written: Callable[[], object]
    exporter: InMemorySpanExporter


def build_contenders() -> tuple[Contenders, Callable[[], None]]:
    """Build the three callables on shared SDK providers; return them and a shutdown."""
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    bare = ZeroLatencyModel(metadata=ProviderMetadata("zero"), model="zero")
    instrumented = instrument(bare, tracer_provider, meter_provider)

    tracer = tracer_provider.get_tracer("hand-written")
    meter = meter_provider.get_meter("hand-written")
    duration = meter.create_histogram(
        "hand.duration", unit="s", explicit_bucket_boundaries_advisory=sc.DURATION_BOUNDARIES
    )
    tokens = meter.create_histogram(
        "hand.tokens", unit="{token}", explicit_bucket_boundaries_advisory=sc.TOKEN_BOUNDARIES
    )
    metric_attrs = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "zero",
        sc.GEN_AI_REQUEST_MODEL: "zero",
        sc.GEN_AI_RESPONSE_MODEL: "zero-1",
    }
    input_attrs = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_INPUT}
    output_attrs = {**metric_attrs, sc.GEN_AI_TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT}
    span_attrs = {
        sc.GEN_AI_OPERATION_NAME: "chat",
        sc.GEN_AI_PROVIDER_NAME: "zero",
        sc.GEN_AI_REQUEST_MODEL: "zero",
        sc.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        sc.GEN_AI_RESPONSE_ID: "resp-1",
        sc.GEN_AI_RESPONSE_MODEL: "zero-1",
        sc.GEN_AI_USAGE_INPUT_TOKENS: 3,
        sc.GEN_AI_USAGE_OUTPUT_TOKENS: 2,
    }

    def hand_written() -> None:
        with tracer.start_as_current_span("chat zero", kind=SpanKind.CLIENT, attributes=span_attrs):
            pass
        duration.record(0.001, metric_attrs)
        tokens.record(3, input_attrs)
        tokens.record(2, output_attrs)

    def shutdown() -> None:
        tracer_provider.shutdown()
        meter_provider.shutdown()

    contenders = Contenders(
        bare=lambda: bare.invoke(MESSAGES),
        instrumented=lambda: instrumented.invoke(MESSAGES),
        hand_written=hand_written,
        exporter=exporter,
    )
    return contenders, shutdown


def per_call(func: Callable[[], object], loops: int) -> float:
    """Seconds per call of *func* over *loops* calls."""
    start = time.perf_counter()
    for _ in range(loops):
        func()
    return (time.perf_counter() - start) / loops


def calibrate(func: Callable[[], object], target: float = 0.02) -> int:
    """Pick a loop count so one timing of *func* lasts about *target* seconds."""
    loops = 16
    while per_call(func, loops) * loops < target:
        loops *= 2
    return loops


@dataclass
class Overhead:
    """Median seconds per call of the added cost and of the hand-written reference."""

    added: float
    reference: float
    bare: float

    @property
    def ratio(self) -> float:
        return self.added / self.reference


def measure(contenders: Contenders, rounds: int = ROUNDS) -> Overhead:
    """Time the three contenders in interleaved rounds and take medians."""
    loops = calibrate(contenders.instrumented)
    for func in (contenders.bare, contenders.instrumented, contenders.hand_written):
        per_call(func, loops // 4)  # warm caches and the SDK's lazily built state
    added: list[float] = []
    reference: list[float] = []
    bare_times: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for index in range(rounds):
            contenders.exporter.clear()
            # Alternate the order so drift within a round favours neither side.
            if index % 2:
                hand = per_call(contenders.hand_written, loops)
                bare = per_call(contenders.bare, loops)
                inst = per_call(contenders.instrumented, loops)
            else:
                bare = per_call(contenders.bare, loops)
                inst = per_call(contenders.instrumented, loops)
                hand = per_call(contenders.hand_written, loops)
            added.append(inst - bare)
            reference.append(hand)
            bare_times.append(bare)
    finally:
        if gc_was_enabled:
            gc.enable()
        contenders.exporter.clear()
    return Overhead(
        statistics.median(added), statistics.median(reference), statistics.median(bare_times)
    )


@pytest.fixture
def contenders() -> Iterator[Contenders]:
    built, shutdown = build_contenders()
    yield built
    shutdown()


# A ratio of sub-millisecond medians: under `-n 2` beside subprocess-heavy tests it drifts past
# the budget (1.38x and 1.53x seen); it passes alone, so it runs with the slow tests.
@pytest.mark.slow
class TestOverhead:
    def test_instrumentation_within_budget(self, contenders: Contenders) -> None:
        """instrument() adds at most 1.3x the cost of the equivalent hand-written OTel calls."""
        result = measure(contenders)
        if result.ratio > BUDGET:  # one retry absorbs a burst of load on a shared machine
            result = measure(contenders)
        assert result.added > 0
        assert result.ratio <= BUDGET, (
            f"instrument() adds {result.added * 1e6:.1f}us per invoke, "
            f"{result.ratio:.2f}x the hand-written {result.reference * 1e6:.1f}us; "
            f"expected <= {BUDGET}x"
        )

    def test_contenders_emit_the_same_telemetry(self, contenders: Contenders) -> None:
        """Both sides produce one span with the same attributes, so the comparison is fair."""
        contenders.instrumented()
        contenders.hand_written()
        instrumented, hand = contenders.exporter.get_finished_spans()
        assert dict(instrumented.attributes or {}) == dict(hand.attributes or {})
        assert instrumented.name == hand.name
        assert instrumented.kind is hand.kind
