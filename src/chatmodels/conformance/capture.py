"""In-memory OpenTelemetry capture for one test: SDK providers that never touch the globals."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.metrics import MeterProvider as MeterProviderAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    HistogramDataPoint,
    InMemoryMetricReader,
    Metric,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import TracerProvider as TracerProviderAPI

from chatmodels.di import Container
from chatmodels.provider import ChatModel

__all__ = ["TelemetryCapture"]


class _OpenSpanTracker(SpanProcessor):
    """Remember spans that started and have not ended, to catch leaked stream spans."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, Span] = {}
        self.started = 0

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self._open[span.context.span_id] = span
            self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is not None:
            with self._lock:
                self._open.pop(context.span_id, None)

    def open_spans(self) -> list[Span]:
        with self._lock:
            return list(self._open.values())


class TelemetryCapture:
    """Tracer and meter providers with in-memory exporters, carried by a Container."""

    def __init__(self) -> None:
        self.span_exporter = InMemorySpanExporter()
        self._tracker = _OpenSpanTracker()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self._tracker)
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.span_exporter))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.container = Container(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider
        )

    def instrument(
        self,
        chat_model: ChatModel,
        *,
        tracer_provider: TracerProviderAPI | None = None,
        meter_provider: MeterProviderAPI | None = None,
        **kwargs: Any,
    ) -> ChatModel:
        """Wrap *chat_model* with the library's instrumentation, wired to this capture.

        Other providers may be passed instead, e.g. the API's no-op ones.
        """
        from chatmodels.telemetry import instrument

        return instrument(
            chat_model,
            tracer_provider=tracer_provider or self.container.tracer_provider,
            meter_provider=meter_provider or self.container.meter_provider,
            **kwargs,
        )

    def spans(self) -> tuple[ReadableSpan, ...]:
        """Every finished span, in end order."""
        return tuple(self.span_exporter.get_finished_spans())

    def open_spans(self) -> list[Span]:
        """Spans that started and never ended."""
        return self._tracker.open_spans()

    @property
    def started_spans(self) -> int:
        """How many spans started since the capture was made."""
        return self._tracker.started

    def metrics(self) -> dict[str, Metric]:
        """The collected metrics by name (collecting flushes nothing: cumulative)."""
        data = self.metric_reader.get_metrics_data()
        found: dict[str, Metric] = {}
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    found[metric.name] = metric
        return found

    def histogram_points(self, name: str) -> Sequence[HistogramDataPoint]:
        """The histogram data points of metric *name*; empty when it was never recorded."""
        metric = self.metrics().get(name)
        if metric is None:
            return ()
        return [p for p in metric.data.data_points if isinstance(p, HistogramDataPoint)]

    def number_points(self, name: str) -> Sequence[NumberDataPoint]:
        """The counter (sum) data points of metric *name*; empty when it was never recorded."""
        metric = self.metrics().get(name)
        if metric is None:
            return ()
        return [p for p in metric.data.data_points if isinstance(p, NumberDataPoint)]

    def clear(self) -> None:
        """Forget finished spans (metrics are cumulative and stay)."""
        self.span_exporter.clear()

    def shutdown(self) -> None:
        """Stop the providers; the capture is unusable afterwards."""
        self.container.close()
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
