"""Telemetry suite, metrics: exact call and token counts, standard buckets, stream timings."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint

from chatmodels import _semconv as sc
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._telemetry_kit import (
    Reported,
    kinds_for,
    run_kind,
)
from chatmodels.errors import ChatModelError
from chatmodels.provider import ChatModel, ProviderMetadata

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model


def _exercise(model: ChatModel, metadata: ProviderMetadata, rounds: int) -> list[Reported]:
    """Make *rounds* calls of every declared kind; batches count their items."""
    seen: list[Reported] = []
    for _ in range(rounds):
        for kind in kinds_for(metadata):
            seen += run_kind(model, kind)
    return seen


def _attribute_problems(
    name: str, points: Sequence[HistogramDataPoint], metadata: ProviderMetadata
) -> list[str]:
    spec = sc.METRICS[name]
    wanted = {sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT, sc.GEN_AI_PROVIDER_NAME: metadata.name}
    problems = []
    for point in points:
        attrs = dict(point.attributes or {})
        missing = [key for key in spec.required_attributes if key not in attrs]
        wrong = [f"{k}={attrs[k]!r}" for k, v in wanted.items() if k in attrs and attrs[k] != v]
        if missing or wrong:
            problems.append(f"a {name} point lacks {missing} / has {wrong} ({attrs})")
    return problems


# -- OTEL-010 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-010")
def test_duration_counts_every_call_once(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """The duration histogram counts every call, a failed one included with its error.type."""
    seen = _exercise(
        otel_model, chatmodels_provider_metadata, chatmodels_settings.int("otel_calls")
    )
    with pytest.raises(ChatModelError):
        otel_model.invoke([])
    name = sc.METRIC_OPERATION_DURATION.name
    points = chatmodels_telemetry.histogram_points(name)
    counted = sum(p.count for p in points)
    calls = len(seen) + 1
    assert counted == calls, (
        f"{name} counted {counted} call(s) after {calls} calls ({len(seen)} succeeded, "
        "1 failed); expected exactly one value per call"
    )
    failed = sum(p.count for p in points if sc.ERROR_TYPE in (p.attributes or {}))
    assert failed == 1, (
        f"{failed} {name} value(s) carry {sc.ERROR_TYPE} after 1 failed call; expected 1"
    )
    problems = _attribute_problems(name, points, chatmodels_provider_metadata)
    assert not problems, "; ".join(problems)


# -- OTEL-011 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-011")
def test_token_usage_sums_equal_reported_usage(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> None:
    """Per token type, the token histogram's sum and count equal the usage the calls reported."""
    seen = _exercise(
        otel_model, chatmodels_provider_metadata, chatmodels_settings.int("otel_calls")
    )
    with_usage = [s.usage for s in seen if s.usage is not None]
    expected = {
        sc.TOKEN_TYPE_INPUT: (sum(u.input_tokens for u in with_usage), len(with_usage)),
        sc.TOKEN_TYPE_OUTPUT: (sum(u.output_tokens for u in with_usage), len(with_usage)),
    }
    name = sc.METRIC_TOKEN_USAGE.name
    points = chatmodels_telemetry.histogram_points(name)
    for token_type, (total, count) in expected.items():
        mine = [p for p in points if (p.attributes or {}).get(sc.GEN_AI_TOKEN_TYPE) == token_type]
        got = (sum(p.sum for p in mine), sum(p.count for p in mine))
        assert got == (total, count), (
            f"{name} for {sc.GEN_AI_TOKEN_TYPE}={token_type!r} holds sum {got[0]!r} over "
            f"{got[1]} value(s); the {len(seen)} calls reported {total} over {count}"
        )
    problems = _attribute_problems(name, points, chatmodels_provider_metadata)
    assert not problems, "; ".join(problems)


# -- OTEL-012 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-012")
def test_units_and_buckets_are_the_conventions(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Every GenAI histogram has the conventions' unit and advisory bucket boundaries."""
    _exercise(otel_model, chatmodels_provider_metadata, 1)
    found = chatmodels_telemetry.metrics()
    checked = [name for name in found if name in sc.METRICS]
    assert sc.METRIC_OPERATION_DURATION.name in checked, (
        f"no {sc.METRIC_OPERATION_DURATION.name} was recorded; metrics seen: {sorted(found)}"
    )
    problems = []
    for name in checked:
        spec, metric = sc.METRICS[name], found[name]
        if metric.unit != spec.unit:
            problems.append(f"{name} has unit {metric.unit!r}, expected {spec.unit!r}")
        for point in chatmodels_telemetry.histogram_points(name):
            if tuple(point.explicit_bounds) != spec.boundaries:
                problems.append(
                    f"{name} has buckets {tuple(point.explicit_bounds)!r}, "
                    f"expected {spec.boundaries!r}"
                )
                break
    assert not problems, "; ".join(problems)


# -- OTEL-013 ------------------------------------------------------------------------------


def _counts(capture: TelemetryCapture) -> dict[str, int]:
    return {
        spec.name: sum(p.count for p in capture.histogram_points(spec.name))
        for spec in sc.METRICS.values()
        if spec.streaming_only
    }


@pytest.mark.requirement("OTEL-013")
def test_calls_that_do_not_stream_record_no_streaming_metrics(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """invoke, ainvoke and batches record nothing in the streaming histograms."""
    for kind in kinds_for(chatmodels_provider_metadata, streams=False):
        run_kind(otel_model, kind)
    recorded = {k: v for k, v in _counts(chatmodels_telemetry).items() if v}
    assert not recorded, (
        f"calls that did not stream recorded streaming metrics {recorded}; expected none"
    )


@pytest.mark.requirement("OTEL-013")
def test_streams_record_streaming_metrics(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Each stream records one time to first chunk, and one time per chunk after the first."""
    seen: list[Reported] = []
    for kind in kinds_for(chatmodels_provider_metadata, streams=True) * 2:
        seen += run_kind(otel_model, kind)
    counts = _counts(chatmodels_telemetry)
    expected = {
        sc.METRIC_TIME_TO_FIRST_CHUNK.name: sum(1 for s in seen if s.chunks),
        sc.METRIC_TIME_PER_OUTPUT_CHUNK.name: sum(max(s.chunks - 1, 0) for s in seen),
    }
    wrong = {name: (counts.get(name), n) for name, n in expected.items() if counts.get(name) != n}
    assert not wrong, (
        f"after {len(seen)} streams of {[s.chunks for s in seen]} chunks, the streaming "
        f"histograms hold (count, expected): {wrong}"
    )
