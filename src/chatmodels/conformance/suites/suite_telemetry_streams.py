"""Telemetry suite, streams: each stream span ends, however the stream stops, and is timed right."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from chatmodels import _semconv as sc
from chatmodels.conformance import outcomes
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._bounded import run_async
from chatmodels.conformance.suites._telemetry_kit import (
    PROMPT,
    OtelRun,
    aconsume,
    call_spans,
    consume,
    instrument_subject,
)
from chatmodels.errors import ChatModelError
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model
otel_run = _telemetry_kit.otel_run


def _ended_once(capture: TelemetryCapture, what: str) -> ReadableSpan:
    """The one call span *what* made, after checking no span is left open."""
    still_open = capture.open_spans()
    assert not still_open, (
        f"after {what}, {len(still_open)} span(s) never ended: "
        f"{[s.name for s in still_open]!r}; expected every started span ended"
    )
    spans = call_spans(capture)
    assert len(spans) == 1, (
        f"{what} ended {len(spans)} span(s) {[s.name for s in spans]!r}; expected exactly one"
    )
    return spans[0]


def _closer(stream: object, name: str) -> Any:
    close = getattr(stream, name, None)
    if not callable(close):
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}the stream {stream!r} has no {name}() to stop it early"
        )
    return close


@pytest.mark.requirement("OTEL-006")
def test_exhausted_stream_ends_its_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """A stream read to its end has ended its span."""
    stream = otel_model.stream(PROMPT)
    consume("stream", stream)
    _ended_once(chatmodels_telemetry, "reading a stream to its end")


@pytest.mark.requirement("OTEL-006")
@pytest.mark.capability("async")
def test_exhausted_async_stream_ends_its_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """An async stream read to its end has ended its span."""
    stream = otel_model.astream(PROMPT)
    run_async(lambda: aconsume("astream", stream), "astream()")
    _ended_once(chatmodels_telemetry, "reading an async stream to its end")


@pytest.mark.requirement("OTEL-006")
def test_stream_closed_early_ends_its_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """Closing a stream after its first chunk ends its span, while the caller still holds it."""
    stream: Iterator[Any] = otel_model.stream(PROMPT)
    close = _closer(stream, "close")
    next(stream)
    close()
    _ended_once(chatmodels_telemetry, "closing a stream after its first chunk")
    del stream  # held until now, so a finaliser cannot end the span in the provider's place


@pytest.mark.requirement("OTEL-006")
@pytest.mark.capability("async")
def test_async_stream_closed_early_ends_its_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """Closing an async stream after its first chunk ends its span."""
    stream: AsyncIterator[Any] = otel_model.astream(PROMPT)
    aclose = _closer(stream, "aclose")

    async def first_then_close(it: AsyncIterator[Any]) -> None:
        await it.__anext__()
        await aclose()

    closing = first_then_close(stream)
    run_async(lambda: closing, "astream() then aclose()")
    _ended_once(chatmodels_telemetry, "closing an async stream after its first chunk")
    del stream


@pytest.mark.requirement("OTEL-006")
def test_failed_stream_ends_its_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """A stream refused as invalid input has ended its span."""
    with pytest.raises(ChatModelError):
        consume("stream", otel_model.stream(()))
    _ended_once(chatmodels_telemetry, "a stream that failed")


@pytest.mark.requirement("OTEL-006")
def test_stream_failed_by_the_provider_ends_its_span(
    request: pytest.FixtureRequest,
    chatmodels_make_provider: Any,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_telemetry: TelemetryCapture,
) -> None:
    """A stream the provider fails (fault_code=server_error, when taken) has ended its span."""
    if "fault_code" not in chatmodels_provider_metadata.optional_options:
        pytest.skip(f"provider {chatmodels_provider_metadata.name!r} takes no 'fault_code' option")
    model = chatmodels_make_provider({"fault_code": "server_error"}).create_chat_model()
    try:
        instrumented = instrument_subject(request, model, chatmodels_telemetry)
        with pytest.raises(ChatModelError):
            consume("stream", instrumented.stream(PROMPT))
        _ended_once(chatmodels_telemetry, "a stream the provider failed")
    finally:
        model.close()


# -- OTEL-007 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-007")
def test_time_to_first_chunk_is_within_the_span(otel_run: OtelRun) -> None:
    """time_to_first_chunk, on spans and in its metric, is > 0 and at most the span's duration."""
    slack = otel_run.settings.float("otel_clock_slack")
    for _ in range(2):
        consume("stream", otel_run.model.stream(PROMPT))
        if Capability.ASYNC in otel_run.metadata.capabilities:
            run_async(lambda: aconsume("astream", otel_run.model.astream(PROMPT)), "astream()")
    longest = 0.0
    for span in call_spans(otel_run.telemetry):
        duration = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
        longest = max(longest, duration)
        value = (span.attributes or {}).get(sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
        if value is None:
            continue
        assert isinstance(value, float), (
            f"{sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK} is {value!r}; expected a float of seconds"
        )
        assert 0 < value <= duration + slack, (
            f"{sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK} is {value!r} on a span lasting "
            f"{duration:.6f}s; expected seconds in (0, {duration:.6f}]"
        )
    name = otel_run.profile.time_to_first_chunk.name
    for point in otel_run.telemetry.histogram_points(name):
        assert point.count == 0 or 0 < point.min <= point.max <= longest + slack, (
            f"{name} recorded values in [{point.min!r}, {point.max!r}] while the longest stream "
            f"span lasted {longest:.6f}s; expected seconds in (0, {longest:.6f}]"
        )
