"""Telemetry suite, spans: one CLIENT span per call, its attributes, status, streams and privacy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from chatmodels import _semconv as sc
from chatmodels.conformance import outcomes
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._bounded import call_within, run_async
from chatmodels.conformance.suites._telemetry_kit import (
    ASYNC_KINDS,
    KINDS,
    Reported,
    attribute_type_problems,
    call_spans,
    instrument_subject,
    kinds_for,
    run_kind,
)
from chatmodels.errors import ChatModelError
from chatmodels.options import ChatOptions, ResponseFormat
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model

ALL_KINDS = list(KINDS)
#: An input every provider must refuse: a conversation with no message.
INVALID_INPUT: tuple[Any, ...] = ()


@pytest.fixture(params=ALL_KINDS)
def kind(request: pytest.FixtureRequest, chatmodels_provider_metadata: ProviderMetadata) -> str:
    """A calling style, skipped as unsupported when the provider does not declare it."""
    name: str = request.param
    if name not in kinds_for(chatmodels_provider_metadata):
        needs = ", ".join(sorted(c.value for c in KINDS[name]))
        pytest.skip(f"{outcomes.UNSUPPORTED}{name} needs capabilities {needs}")
    return name


def _spans_of(capture: TelemetryCapture, reported: list[Reported], what: str) -> list[ReadableSpan]:
    spans = call_spans(capture)
    names = [s.name for s in spans]
    assert len(spans) == len(reported), (
        f"{what} made {len(reported)} call(s) but {len(spans)} span(s) ended: {names!r}; "
        "expected exactly one span per call"
    )
    return spans


def _by_response(spans: list[ReadableSpan], reported: list[Reported]) -> list[tuple[Reported, Any]]:
    """Pair each call with its span, by response id when the calls have distinct ones."""
    ids = [r.response_id for r in reported]
    if len(reported) == 1 or None in ids or len(set(ids)) != len(ids):
        return list(zip(reported, sorted(spans, key=lambda s: s.start_time or 0), strict=True))
    found = {(s.attributes or {}).get(sc.GEN_AI_RESPONSE_ID): s for s in spans}
    return [(r, found.get(r.response_id)) for r in reported]


# -- OTEL-001 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-001")
def test_each_call_gives_one_chat_client_span(
    kind: str,
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
) -> None:
    """Each call, batch items included, ends one span named 'chat {model}' of kind CLIENT."""
    reported = run_kind(otel_model, kind)
    spans = _spans_of(chatmodels_telemetry, reported, kind)
    expected = sc.span_name(otel_model.model)
    for span in spans:
        assert span.name == expected, (
            f"{kind} span is named {span.name!r}; expected {expected!r} ('{sc.SPAN_NAME_FORMAT}')"
        )
        assert span.kind.name == sc.SPAN_KIND, (
            f"{kind} span {span.name!r} has kind {span.kind.name}; expected {sc.SPAN_KIND}"
        )


# -- OTEL-002 ------------------------------------------------------------------------------


def _conditional_problems(span: ReadableSpan, kind: str, seed: int) -> list[str]:
    attrs = span.attributes or {}
    problems = []
    if attrs.get(sc.GEN_AI_REQUEST_SEED) != seed:
        problems.append(f"{sc.GEN_AI_REQUEST_SEED} is {attrs.get(sc.GEN_AI_REQUEST_SEED)!r}")
    streamed = attrs.get(sc.GEN_AI_REQUEST_STREAM)
    if "stream" in kind and streamed is not True:
        problems.append(f"{sc.GEN_AI_REQUEST_STREAM} is {streamed!r} on a stream (expected True)")
    if "stream" not in kind and streamed not in (None, False):
        problems.append(f"{sc.GEN_AI_REQUEST_STREAM} is {streamed!r} on a call that did not stream")
    if sc.SERVER_ADDRESS in attrs and sc.SERVER_PORT not in attrs:
        problems.append(f"{sc.SERVER_ADDRESS} is set without {sc.SERVER_PORT}")
    if sc.ERROR_TYPE in attrs:
        problems.append(f"{sc.ERROR_TYPE}={attrs[sc.ERROR_TYPE]!r} on a successful call")
    return problems


@pytest.mark.requirement("OTEL-002")
def test_required_attributes_are_present_and_typed(
    kind: str,
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Required and conditionally required attributes hold the call's values, typed right."""
    seed = 7
    reported = run_kind(otel_model, kind, options=ChatOptions(seed=seed))
    expected = {
        sc.GEN_AI_OPERATION_NAME: sc.OPERATION_CHAT,
        sc.GEN_AI_PROVIDER_NAME: chatmodels_provider_metadata.name,
        sc.GEN_AI_REQUEST_MODEL: otel_model.model,
    }
    required = [a.name for a in sc.ATTRIBUTES if a.requirement is sc.Requirement.REQUIRED]
    for span in _spans_of(chatmodels_telemetry, reported, kind):
        attrs = dict(span.attributes or {})
        problems = [f"{name} is missing" for name in required if name not in attrs]
        problems += [
            f"{key} is {attrs.get(key)!r}, expected {value!r}"
            for key, value in expected.items()
            if attrs.get(key) != value
        ]
        problems += _conditional_problems(span, kind, seed)
        problems += [f"{p} has the wrong type" for p in attribute_type_problems(span)]
        assert not problems, f"{kind} span {span.name!r}: " + "; ".join(problems)


@pytest.mark.requirement("OTEL-002")
@pytest.mark.capability("json_mode")
def test_json_output_type_is_recorded(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """A call asking for JSON records gen_ai.output.type 'json'."""
    reported = run_kind(
        otel_model, "invoke", options=ChatOptions(response_format=ResponseFormat.JSON)
    )
    (span,) = _spans_of(chatmodels_telemetry, reported, "invoke")
    value = (span.attributes or {}).get(sc.GEN_AI_OUTPUT_TYPE)
    assert value == sc.OUTPUT_TYPE_JSON, (
        f"{sc.GEN_AI_OUTPUT_TYPE} is {value!r} on a JSON-mode call; "
        f"expected {sc.OUTPUT_TYPE_JSON!r}"
    )


# -- OTEL-003 ------------------------------------------------------------------------------


def _response_problems(attrs: dict[str, Any], seen: Reported) -> list[str]:
    wanted: dict[str, object] = {}
    if seen.usage is not None:
        wanted[sc.GEN_AI_USAGE_INPUT_TOKENS] = seen.usage.input_tokens
        wanted[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = seen.usage.output_tokens
    if seen.finish is not None:
        wanted[sc.GEN_AI_RESPONSE_FINISH_REASONS] = (seen.finish.value,)
    if seen.response_id:
        wanted[sc.GEN_AI_RESPONSE_ID] = seen.response_id
    if seen.model:
        wanted[sc.GEN_AI_RESPONSE_MODEL] = seen.model
    problems = []
    for key, value in wanted.items():
        got = attrs.get(key)
        if isinstance(got, list):
            got = tuple(got)
        if got != value:
            problems.append(f"{key} is {attrs.get(key)!r}; the caller got {value!r}")
    return problems


@pytest.mark.requirement("OTEL-003")
def test_response_attributes_equal_the_result(
    kind: str,
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
) -> None:
    """Usage, finish reasons, response id and model on the span equal what the caller received."""
    reported = run_kind(otel_model, kind)
    spans = _spans_of(chatmodels_telemetry, reported, kind)
    for seen, span in _by_response(spans, reported):
        assert span is not None, f"no {kind} span carries response id {seen.response_id!r}"
        problems = _response_problems(dict(span.attributes or {}), seen)
        assert not problems, f"{kind} span {span.name!r}: " + "; ".join(problems)


# -- OTEL-004 ------------------------------------------------------------------------------


@pytest.mark.requirement("OTEL-004")
@pytest.mark.parametrize("kind", ["invoke", "stream", "ainvoke"], indirect=True)
def test_request_parameters_are_recorded(
    kind: str,
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """The temperature, top_p, max_tokens and stop sequences of the call are on its span."""
    caps = chatmodels_provider_metadata.capabilities
    options = ChatOptions(
        temperature=0.25,
        top_p=0.75,
        max_tokens=64 if Capability.MAX_TOKENS in caps else None,
        stop=("zq-never-said",) if Capability.STOP_SEQUENCES in caps else (),
    )
    wanted: dict[str, object] = {
        sc.GEN_AI_REQUEST_TEMPERATURE: 0.25,
        sc.GEN_AI_REQUEST_TOP_P: 0.75,
    }
    if options.max_tokens is not None:
        wanted[sc.GEN_AI_REQUEST_MAX_TOKENS] = options.max_tokens
    if options.stop:
        wanted[sc.GEN_AI_REQUEST_STOP_SEQUENCES] = options.stop
    reported = run_kind(otel_model, kind, options=options)
    (span,) = _spans_of(chatmodels_telemetry, reported, kind)
    attrs = dict(span.attributes or {})
    problems = [
        f"{key} is {attrs.get(key)!r}, the call sent {value!r}"
        for key, value in wanted.items()
        if (tuple(v) if isinstance(v := attrs.get(key), list) else v) != value
    ]
    assert not problems, f"{kind} span {span.name!r}: " + "; ".join(problems)


# -- OTEL-005 ------------------------------------------------------------------------------


def _error_problems(span: ReadableSpan, exc: BaseException | None) -> list[str]:
    problems = []
    if span.status.status_code is not StatusCode.ERROR:
        problems.append(f"status is {span.status.status_code.name}, expected ERROR")
    value = (span.attributes or {}).get(sc.ERROR_TYPE)
    allowed: set[str] = set()
    if exc is not None:
        cls = type(exc)
        allowed = {cls.__qualname__, f"{cls.__module__}.{cls.__qualname__}"}
        if isinstance(exc, ChatModelError):
            allowed.add(exc.code.value)
    if not isinstance(value, str) or not value or (allowed and value not in allowed):
        expected = f"one of {sorted(allowed)!r}" if allowed else "a non-empty string"
        problems.append(f"{sc.ERROR_TYPE} is {value!r}, expected {expected}")
    return problems


def _fail_once(model: ChatModel, kind: str) -> list[BaseException | None]:
    """Make *kind* fail on an empty conversation; return the error each call raised."""
    if "batch" in kind:
        items = (
            run_async(lambda: model.abatch([INVALID_INPUT] * 2), "abatch()")
            if kind in ASYNC_KINDS
            else call_within(lambda: model.batch([INVALID_INPUT] * 2), "batch()")
        )
        assert all(isinstance(i, ChatModelError) for i in items), (
            f"{kind} of empty conversations gave {items!r}; expected a ChatModelError per item"
        )
        return [i if isinstance(i, ChatModelError) else None for i in items]
    with pytest.raises(ChatModelError) as caught:
        run_kind(model, kind, INVALID_INPUT)
    return [caught.value]


@pytest.mark.requirement("OTEL-005")
def test_failed_call_sets_error_type_and_status(
    kind: str, otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """A call refused as invalid input ends its span with status ERROR and its error.type."""
    errors = _fail_once(otel_model, kind)
    spans = call_spans(chatmodels_telemetry)
    assert len(spans) == len(errors), (
        f"{len(errors)} failed {kind} call(s) ended {len(spans)} span(s); expected one each"
    )
    for span, exc in zip(spans, errors, strict=True):
        problems = _error_problems(span, exc)
        assert not problems, f"failed {kind} span {span.name!r}: " + "; ".join(problems)


@pytest.fixture
def faulty_model(
    request: pytest.FixtureRequest,
    chatmodels_make_provider: Any,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_telemetry: TelemetryCapture,
) -> Iterator[ChatModel]:
    """A model made with ``fault_code=server_error``, when the provider takes that option."""
    if "fault_code" not in chatmodels_provider_metadata.optional_options:
        pytest.skip(f"provider {chatmodels_provider_metadata.name!r} takes no 'fault_code' option")
    try:
        provider = chatmodels_make_provider({"fault_code": "server_error"})
    except ChatModelError as exc:
        pytest.skip(f"the provider refused fault_code=server_error: {exc}")
    model = provider.create_chat_model()
    try:
        yield instrument_subject(request, model, chatmodels_telemetry)
    finally:
        model.close()


@pytest.mark.requirement("OTEL-005")
def test_provider_failure_sets_error_type_and_status(
    faulty_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """A call the provider fails ends its span with status ERROR and the error's type."""
    with pytest.raises(ChatModelError) as caught:
        faulty_model.invoke("This call is made to fail.")
    (span,) = call_spans(chatmodels_telemetry)
    problems = _error_problems(span, caught.value)
    assert not problems, f"failed invoke span {span.name!r}: " + "; ".join(problems)


@pytest.mark.requirement("OTEL-005")
def test_successful_calls_leave_status_unset(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Successful calls of every kind end their spans with status UNSET."""
    for kind in kinds_for(chatmodels_provider_metadata):
        run_kind(otel_model, kind)
    wrong = [
        f"{s.name!r}: {s.status.status_code.name}"
        for s in call_spans(chatmodels_telemetry)
        if s.status.status_code is not StatusCode.UNSET
    ]
    assert not wrong, f"successful calls ended with status {wrong}; expected UNSET"


# -- OTEL-014 ------------------------------------------------------------------------------


def _mentions(value: object, canary: str) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_mentions(v, canary) for v in value)
    return canary in str(value)


@pytest.mark.requirement("OTEL-014")
def test_content_is_not_captured_by_default(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """No span attribute, event or metric attribute holds the prompt or the answer."""
    canary = f"canary-{uuid.uuid4().hex}"
    for kind in kinds_for(chatmodels_provider_metadata):
        run_kind(otel_model, kind, f"Please repeat this word: {canary}")
    leaks = []
    for span in call_spans(chatmodels_telemetry):
        leaks += [
            f"span attribute {k}"
            for k, v in (span.attributes or {}).items()
            if _mentions(v, canary)
        ]
        for event in span.events:
            attrs = event.attributes or {}
            if canary in event.name or any(_mentions(v, canary) for v in attrs.values()):
                leaks.append(f"span event {event.name!r}")
        leaks += [
            f"span attribute {k}"
            for k in (sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES)
            if k in (span.attributes or {})
        ]
    for name, metric in chatmodels_telemetry.metrics().items():
        for point in metric.data.data_points:
            if any(_mentions(v, canary) for v in (point.attributes or {}).values()):
                leaks.append(f"metric {name} attributes")
    assert not leaks, (
        f"message content was captured without opting in: {sorted(set(leaks))}; expected "
        "prompts and answers kept out of telemetry by default"
    )
