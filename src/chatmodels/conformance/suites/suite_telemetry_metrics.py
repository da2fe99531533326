"""Telemetry suite, metrics: exact call and token counts, standard buckets, stream timings.

Every check reads the names, instruments and attributes of the edition of the conventions
the run checks (``otel_semconv``); metrics that follow another edition fail OTEL-017 only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from opentelemetry.sdk.metrics.export import Histogram, Sum

from chatmodels import _semconv as sc
from chatmodels.conformance import outcomes
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._telemetry_kit import (
    OtelRun,
    Reported,
    foreign_metrics,
    histogram_totals,
    kinds_for,
    require_profile_metrics,
    run_kind,
)
from chatmodels.errors import ChatModelError
from chatmodels.provider import ProviderMetadata

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model
otel_run = _telemetry_kit.otel_run


def _exercise(run: OtelRun, rounds: int | None = None) -> list[Reported]:
    """Make *rounds* (default: the ``otel_calls`` setting) calls of every declared kind."""
    seen: list[Reported] = []
    for _ in range(run.settings.int("otel_calls") if rounds is None else rounds):
        for kind in kinds_for(run.metadata):
            seen += run_kind(run.model, kind)
    return seen


def _point_attributes(capture: TelemetryCapture, spec: sc.MetricSpec) -> list[dict[str, object]]:
    points: Sequence[object] = (
        capture.number_points(spec.name)
        if spec.instrument == "counter"
        else capture.histogram_points(spec.name)
    )
    return [dict(getattr(p, "attributes", None) or {}) for p in points]


def _attribute_problems(
    capture: TelemetryCapture, spec: sc.MetricSpec, metadata: ProviderMetadata
) -> list[str]:
    wanted = {sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT, sc.GEN_AI_PROVIDER_NAME: metadata.name}
    problems = []
    for attrs in _point_attributes(capture, spec):
        missing = [key for key in spec.required_attributes if key not in attrs]
        wrong = [f"{k}={attrs[k]!r}" for k, v in wanted.items() if k in attrs and attrs[k] != v]
        if missing or wrong:
            problems.append(f"a {spec.name} point lacks {missing} / has {wrong} ({attrs})")
    return problems


# -- OTEL-010 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-010")
def test_duration_counts_every_call_once(otel_run: OtelRun) -> None:
    """The duration histogram counts every call, a failed one included with its error.type."""
    profile = otel_run.profile
    seen = _exercise(otel_run)
    with pytest.raises(ChatModelError):
        otel_run.model.invoke([])
    require_profile_metrics(otel_run.telemetry, profile)
    name = profile.duration.name
    points = otel_run.telemetry.histogram_points(name)
    counted = sum(p.count for p in points)
    calls = len(seen) + 1
    assert counted == calls, (
        f"{name} counted {counted} call(s) after {calls} calls ({len(seen)} succeeded, "
        f"1 failed); expected exactly one value per call ({profile.title})"
    )
    failed = sum(p.count for p in points if sc.ERROR_TYPE in (p.attributes or {}))
    assert failed == 1, (
        f"{failed} {name} value(s) carry {sc.ERROR_TYPE} after 1 failed call; expected 1"
    )
    problems = _attribute_problems(otel_run.telemetry, profile.duration, otel_run.metadata)
    assert not problems, "; ".join(problems)


# -- OTEL-011 ------------------------------------------------------------------------------


def _selects(token: sc.TokenMetric) -> Mapping[str, str]:
    """The attributes that tell this token type's points apart on an instrument shared by types."""
    if sc.GEN_AI_TOKEN_TYPE in token.spec.required_attributes:
        return {sc.GEN_AI_TOKEN_TYPE: token.token_type}
    return {}


def _token_problem(
    capture: TelemetryCapture, token: sc.TokenMetric, total: int, with_usage: int, calls: int
) -> str | None:
    """How the recorded values of *token* differ from what the calls reported, or None."""
    spec, selects = token.spec, _selects(token)
    label = spec.name + "".join(f" for {k}={v!r}" for k, v in selects.items())

    def mine(attributes: object) -> bool:
        attrs = dict(attributes or {})  # type: ignore[call-overload]
        return all(attrs.get(k) == v for k, v in selects.items())

    got_count, got_sum = histogram_totals(capture, spec.name, selects)
    if spec.instrument == "counter":  # read as recorded: the instrument type is OTEL-012's
        got = sum(p.value for p in capture.number_points(spec.name) if mine(p.attributes))
        got += got_sum
        if got != total:
            return f"{label} adds up to {got!r}; the {calls} calls reported {total}"
        return None
    if got_sum != total or not with_usage <= got_count <= calls:
        return (
            f"{label} holds sum {got_sum!r} over {got_count} value(s); the {calls} calls "
            f"reported {total} over {with_usage} (one value per call with usage, or per call)"
        )
    return None


@pytest.mark.requirement("OTEL-011")
def test_token_usage_sums_equal_reported_usage(otel_run: OtelRun) -> None:
    """Per token type, every token instrument of the edition adds up to the reported usage."""
    profile = otel_run.profile
    seen = _exercise(otel_run)
    require_profile_metrics(otel_run.telemetry, profile)
    with_usage = [s.usage for s in seen if s.usage is not None]
    totals = {
        sc.TOKEN_TYPE_INPUT: sum(u.input_tokens for u in with_usage),
        sc.TOKEN_TYPE_OUTPUT: sum(u.output_tokens for u in with_usage),
    }
    problems = []
    for token in profile.tokens:
        total = totals[token.token_type]
        problem = _token_problem(otel_run.telemetry, token, total, len(with_usage), len(seen))
        if problem:
            problems.append(problem)
    for spec in {t.spec.name: t.spec for t in profile.tokens}.values():
        problems += _attribute_problems(otel_run.telemetry, spec, otel_run.metadata)
    assert not problems, f"{profile.title}: " + "; ".join(problems)


# -- OTEL-012 ------------------------------------------------------------------------------

_INSTRUMENT_DATA = {"histogram": Histogram, "counter": Sum}


def _shape_problems(capture: TelemetryCapture, spec: sc.MetricSpec) -> list[str]:
    metric = capture.metrics()[spec.name]
    problems = []
    if metric.unit != spec.unit:
        problems.append(f"{spec.name} has unit {metric.unit!r}, expected {spec.unit!r}")
    data = metric.data
    if not isinstance(data, _INSTRUMENT_DATA[spec.instrument]) or (
        isinstance(data, Sum) and not data.is_monotonic
    ):
        problems.append(
            f"{spec.name} was recorded as a {type(data).__name__}"
            f"{' (not monotonic)' if isinstance(data, Sum) else ''}, expected a {spec.instrument}"
        )
    elif spec.instrument == "histogram":
        for point in capture.histogram_points(spec.name):
            if tuple(point.explicit_bounds) != spec.boundaries:
                problems.append(
                    f"{spec.name} has buckets {tuple(point.explicit_bounds)!r}, "
                    f"expected {spec.boundaries!r}"
                )
                break
    return problems


@pytest.mark.requirement("OTEL-012")
def test_units_and_buckets_are_the_conventions(otel_run: OtelRun) -> None:
    """Every GenAI metric has the edition's instrument type, unit and advisory boundaries."""
    profile = otel_run.profile
    _exercise(otel_run, 1)
    require_profile_metrics(otel_run.telemetry, profile)
    found = otel_run.telemetry.metrics()
    checked = [name for name in found if name in profile.metrics]
    assert profile.duration.name in checked, (
        f"no {profile.duration.name} was recorded; metrics seen: {sorted(found)}"
    )
    problems = []
    for name in checked:
        problems += _shape_problems(otel_run.telemetry, profile.metrics[name])
    assert not problems, f"{profile.title}: " + "; ".join(problems)


# -- OTEL-013 ------------------------------------------------------------------------------


def _counts(capture: TelemetryCapture, profile: sc.Profile) -> dict[str, int]:
    return {
        spec.name: histogram_totals(capture, spec.name)[0]
        for spec in profile.metrics.values()
        if spec.streaming_only
    }


@pytest.mark.requirement("OTEL-013")
def test_calls_that_do_not_stream_record_no_streaming_metrics(otel_run: OtelRun) -> None:
    """invoke, ainvoke and batches record nothing in the streaming histograms."""
    profile = otel_run.profile
    for kind in kinds_for(otel_run.metadata, streams=False):
        run_kind(otel_run.model, kind)
    require_profile_metrics(otel_run.telemetry, profile)
    recorded = {k: v for k, v in _counts(otel_run.telemetry, profile).items() if v}
    assert not recorded, (
        f"calls that did not stream recorded streaming metrics {recorded}; expected none"
    )


@pytest.mark.requirement("OTEL-013")
def test_streams_record_streaming_metrics(otel_run: OtelRun) -> None:
    """Each stream records one time to first chunk, and one time per chunk after the first."""
    profile = otel_run.profile
    seen: list[Reported] = []
    for kind in kinds_for(otel_run.metadata, streams=True) * 2:
        seen += run_kind(otel_run.model, kind)
    require_profile_metrics(otel_run.telemetry, profile)
    counts = _counts(otel_run.telemetry, profile)
    expected = {
        profile.time_to_first_chunk.name: sum(1 for s in seen if s.chunks),
        profile.time_per_output_chunk.name: sum(max(s.chunks - 1, 0) for s in seen),
    }
    wrong = {name: (counts.get(name), n) for name, n in expected.items() if counts.get(name) != n}
    assert not wrong, (
        f"after {len(seen)} streams of {[s.chunks for s in seen]} chunks, the streaming "
        f"histograms hold (count, expected): {wrong}"
    )


# -- OTEL-017 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-017")
def test_metrics_follow_the_edition_the_run_checks(otel_run: OtelRun) -> None:
    """Calls record the duration metric under the name of the edition the run checks."""
    profile = otel_run.profile
    _exercise(otel_run, 1)
    recorded = set(otel_run.telemetry.metrics())
    if profile.duration.name in recorded:
        return
    foreign = foreign_metrics(recorded, profile)
    if not foreign:
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}no GenAI metric was recorded at all, so no edition can be "
            f"told (metrics seen: {sorted(recorded)}; see OTEL-010)"
        )
    pytest.fail(
        f"the calls recorded {foreign} but no {profile.duration.name}: the metrics follow "
        f"another edition than {profile.title} (otel_semconv={profile.name}), which this run "
        "checks; expected that edition's names, or a run that checks the edition emitted "
        "(--chatmodels-setting otel_semconv=...)"
    )
