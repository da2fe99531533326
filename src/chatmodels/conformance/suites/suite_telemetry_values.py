"""Telemetry suite, metric values: each call's recorded timings agree with its own span.

Calls are made one at a time, so the growth of a cumulative histogram's sum is exactly the
value that call recorded, and the newest call span is that call's.
"""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from chatmodels import _semconv as sc
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._evidence import inconclusive
from chatmodels.conformance.suites._telemetry_kit import (
    OtelRun,
    call_spans,
    histogram_totals,
    kinds_for,
    require_profile_metrics,
    run_kind,
)
from chatmodels.provider import ChatModel

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model
otel_run = _telemetry_kit.otel_run


def _seconds(span: ReadableSpan) -> float:
    return ((span.end_time or 0) - (span.start_time or 0)) / 1e9


def _one_call(
    model: ChatModel, kind: str, capture: TelemetryCapture, specs: tuple[sc.MetricSpec, ...]
) -> tuple[ReadableSpan | None, list[tuple[sc.MetricSpec, int, float]]]:
    """Make one call; return its span and, per metric, the values it added and their sum."""
    before = [histogram_totals(capture, spec.name) for spec in specs]
    capture.clear()
    run_kind(model, kind)
    spans = call_spans(capture)
    after = [histogram_totals(capture, spec.name) for spec in specs]
    added = [
        (spec, n1 - n0, s1 - s0)
        for spec, (n0, s0), (n1, s1) in zip(specs, before, after, strict=True)
    ]
    return (spans[-1] if len(spans) == 1 else None), added


@pytest.mark.requirement("OTEL-018")
def test_recorded_timings_agree_with_the_span(otel_run: OtelRun) -> None:
    """Per call, the duration (and a stream's time to first chunk) is the span's, within slack."""
    profile = otel_run.profile
    slack = otel_run.settings.float("otel_metric_slack")
    specs = (profile.duration, profile.time_to_first_chunk)
    kinds = [k for k in kinds_for(otel_run.metadata) if "batch" not in k]
    problems: list[str] = []
    judged = 0
    for kind in kinds:
        span, added = _one_call(otel_run.model, kind, otel_run.telemetry, specs)
        if span is None:
            continue  # OTEL-001 judges a call without exactly one span
        took = _seconds(span)
        for spec, count, value in added:
            if count != 1:
                continue  # OTEL-010 and OTEL-013 judge how many values a call records
            judged += 1
            too_long = value > took + slack
            if too_long or value < 0 or (spec is profile.duration and value < took - slack):
                problems.append(
                    f"{kind}() recorded {spec.name}={value:.6g} {spec.unit} for a call whose "
                    f"span lasted {took:.6g}s"
                )
    require_profile_metrics(otel_run.telemetry, profile)
    assert not problems, (
        "; ".join(problems) + f"; expected each value within otel_metric_slack={slack:g}s of "
        f"the span's duration ({profile.title})"
    )
    if not judged:
        inconclusive("no call recorded exactly one duration beside exactly one span")
