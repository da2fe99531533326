"""Telemetry suite, context: parenting, concurrency without bleeding, no-op providers, globals."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import NoOpTracerProvider

from chatmodels import _semconv as sc
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.suites import _telemetry_kit
from chatmodels.conformance.suites._bounded import call_limit, run_async
from chatmodels.conformance.suites._telemetry_kit import (
    PROMPT,
    OtelRun,
    Reported,
    aconsume,
    arun_kind,
    call_spans,
    consume,
    instrument_subject,
    kinds_for,
    run_kind,
    suite_tracer,
)
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

#: The shared model, instrumented into each test's capture (a fixture).
otel_model = _telemetry_kit.otel_model
otel_run = _telemetry_kit.otel_run

# -- OTEL-008 ------------------------------------------------------------------------------


def _assert_children(capture: TelemetryCapture, parent_ids: list[int], what: str) -> None:
    spans = call_spans(capture)
    assert spans, f"{what} ended no call span; expected one per call"
    orphans = [
        f"{s.name!r} (parent {None if s.parent is None else format(s.parent.span_id, '016x')})"
        for s in spans
        if s.parent is None or s.parent.span_id not in parent_ids
    ]
    wanted = ", ".join(format(i, "016x") for i in parent_ids)
    assert not orphans, (
        f"{what}: {len(orphans)} of {len(spans)} call span(s) are not children of the "
        f"caller's current span {wanted}: {orphans}"
    )


@pytest.mark.requirement("OTEL-008")
def test_sync_and_batch_calls_are_children_of_the_current_span(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """invoke, stream and batch items made under a span are its children."""
    tracer = suite_tracer(chatmodels_telemetry)
    with tracer.start_as_current_span("caller") as parent:
        for kind in kinds_for(chatmodels_provider_metadata):
            if kind in ("invoke", "stream", "batch"):
                run_kind(otel_model, kind)
    parent_id = parent.get_span_context().span_id
    _assert_children(chatmodels_telemetry, [parent_id], "sync calls and batch items")


@pytest.mark.requirement("OTEL-008")
@pytest.mark.capability("async")
def test_async_calls_are_children_of_the_current_span(
    otel_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """ainvoke, astream and abatch items awaited under a span are its children."""
    tracer = suite_tracer(chatmodels_telemetry)

    async def calls() -> int:
        with tracer.start_as_current_span("async caller") as parent:
            for kind in kinds_for(chatmodels_provider_metadata):
                if kind in ("ainvoke", "astream", "abatch"):
                    await arun_kind(otel_model, kind, PROMPT, None)
        return parent.get_span_context().span_id

    parent_id: int = run_async(calls, "async calls under a span")
    _assert_children(chatmodels_telemetry, [parent_id], "async calls and abatch items")


@pytest.mark.requirement("OTEL-008")
def test_thread_pool_calls_are_children_of_each_workers_span(
    otel_model: ChatModel, chatmodels_telemetry: TelemetryCapture
) -> None:
    """Calls made on pool threads are children of the span current on their own thread."""
    tracer = suite_tracer(chatmodels_telemetry)

    def work(index: int) -> int:
        with tracer.start_as_current_span(f"worker {index}") as parent:
            otel_model.invoke(PROMPT)
        return parent.get_span_context().span_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(work, i) for i in range(4)]
        parent_ids = [f.result(timeout=call_limit()) for f in futures]
    _assert_children(chatmodels_telemetry, parent_ids, "calls on a thread pool")
    parents = sorted(s.parent.span_id for s in call_spans(chatmodels_telemetry) if s.parent)
    assert parents == sorted(parent_ids), (
        "each worker made one call, but call spans hang under "
        f"{[format(p, '016x') for p in parents]}; expected one under each worker's span"
    )


# -- OTEL-009 ------------------------------------------------------------------------------

Call = tuple[ChatOptions, Reported]


def _options(index: int, count: int, metadata: ProviderMetadata) -> ChatOptions:
    """Options unique to call *index*: its temperature names it."""
    max_tokens = 16 + index if Capability.MAX_TOKENS in metadata.capabilities else None
    return ChatOptions(temperature=round((index + 1) / (count + 1), 6), max_tokens=max_tokens)


def _bleeding(capture: TelemetryCapture, calls: list[Call], what: str) -> None:
    spans = call_spans(capture)
    assert len(spans) == len(calls), (
        f"{len(calls)} {what} ended {len(spans)} spans; expected one each"
    )
    ids = {s.context.span_id for s in spans if s.context is not None}
    assert len(ids) == len(spans), f"{what} share span ids; expected a distinct span per call"
    problems: list[str] = []
    for options, seen in calls:
        mine = [
            s
            for s in spans
            if (s.attributes or {}).get(sc.GEN_AI_REQUEST_TEMPERATURE) == options.temperature
        ]
        if len(mine) != 1:
            problems.append(
                f"{len(mine)} spans carry the temperature {options.temperature} of one call"
            )
            continue
        attrs = mine[0].attributes or {}
        own: dict[str, object] = {}
        if options.max_tokens is not None:
            own[sc.GEN_AI_REQUEST_MAX_TOKENS] = options.max_tokens
        if seen.response_id:
            own[sc.GEN_AI_RESPONSE_ID] = seen.response_id
        if seen.usage is not None:
            own[sc.GEN_AI_USAGE_OUTPUT_TOKENS] = seen.usage.output_tokens
        problems += [
            f"the span of the call with temperature {options.temperature} has {k}="
            f"{attrs.get(k)!r}, but that call's own value is {v!r}"
            for k, v in own.items()
            if attrs.get(k) != v
        ]
    assert not problems, f"attributes bled between {what}: " + "; ".join(problems[:5])


@pytest.mark.requirement("OTEL-009")
def test_concurrent_threads_keep_their_own_attributes(otel_run: OtelRun) -> None:
    """Threads calling at once each get a span with their own request and response values."""
    count = otel_run.settings.int("otel_threads")
    streams = Capability.STREAMING in otel_run.metadata.capabilities
    gate = threading.Barrier(count)
    calls: list[Call | None] = [None] * count

    def call(index: int) -> None:
        options = _options(index, count, otel_run.metadata)
        gate.wait(timeout=call_limit())
        if streams and index % 2:
            calls[index] = (options, consume("stream", otel_run.model.stream(PROMPT, options)))
        else:
            calls[index] = (options, run_kind(otel_run.model, "invoke", PROMPT, options)[0])

    with ThreadPoolExecutor(max_workers=count) as pool:
        for future in [pool.submit(call, i) for i in range(count)]:
            future.result(timeout=call_limit())
    _bleeding(otel_run.telemetry, [c for c in calls if c is not None], "concurrent threads")


@pytest.mark.requirement("OTEL-009")
@pytest.mark.capability("async")
def test_concurrent_tasks_keep_their_own_attributes(otel_run: OtelRun) -> None:
    """asyncio tasks calling at once each get a span with their own values."""
    count = otel_run.settings.int("otel_threads")
    streams = Capability.STREAMING in otel_run.metadata.capabilities

    async def call(index: int) -> Call:
        options = _options(index, count, otel_run.metadata)
        if streams and index % 2:
            return options, await aconsume("astream", otel_run.model.astream(PROMPT, options))
        return options, (await arun_kind(otel_run.model, "ainvoke", PROMPT, options))[0]

    async def all_calls() -> list[Call]:
        return list(await asyncio.gather(*(call(i) for i in range(count))))

    _bleeding(
        otel_run.telemetry,
        run_async(all_calls, f"{count} concurrent asyncio tasks"),
        "concurrent asyncio tasks",
    )


# -- OTEL-015 ------------------------------------------------------------------------------


def _answers(model: ChatModel, metadata: ProviderMetadata) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kind in kinds_for(metadata):
        seen = run_kind(model, kind)[0]
        found[kind] = (seen.text, seen.finish, seen.usage)
    return found


@pytest.mark.requirement("OTEL-015")
def test_noop_providers_record_nothing_and_change_no_answer(
    request: pytest.FixtureRequest,
    chatmodels_chat_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """Under the API's no-op providers every call works, answers alike and records nothing."""
    warm = instrument_subject(request, chatmodels_chat_model, chatmodels_telemetry)
    warm.invoke(PROMPT)  # an instrumentation that caches its first tracer would reuse it below
    started = chatmodels_telemetry.started_spans
    quiet = instrument_subject(
        request,
        chatmodels_chat_model,
        chatmodels_telemetry,
        tracer_provider=NoOpTracerProvider(),
        meter_provider=NoOpMeterProvider(),
    )
    got = _answers(quiet, chatmodels_provider_metadata)
    recorded = chatmodels_telemetry.started_spans - started
    assert recorded == 0, (
        f"with no-op providers, {recorded} span(s) were still recorded to the SDK; expected none"
    )
    if Capability.DETERMINISTIC in chatmodels_provider_metadata.capabilities:
        plain = _answers(chatmodels_chat_model, chatmodels_provider_metadata)
        differ = {k: (got[k], plain[k]) for k in plain if got[k] != plain[k]}
        assert not differ, (
            "answers under no-op telemetry differ from the uninstrumented model's "
            f"(instrumented, plain): {differ}"
        )
    else:
        assert all(isinstance(v[0], str) for v in got.values())


# -- OTEL-016 ------------------------------------------------------------------------------


def _globals() -> tuple[object, object]:
    return trace.get_tracer_provider(), metrics.get_meter_provider()


#: What the OTel API logs when a global provider is set a second time; the only public trace
#: of an attempt once an earlier call has set the global for good.
_OVERRIDE_LOG = "Overriding of current"


def _setter_call(stack: traceback.StackSummary) -> str:
    """The OTel function called and the line outside OTel and logging that called it."""
    api = "a global setter"
    for frame in reversed(stack):
        path = frame.filename.replace("\\", "/")
        if "/opentelemetry/" in path:
            api = f"{frame.name}()"
        elif not path.endswith(("/logging/__init__.py", __file__)):
            return f"{api} from {frame.name}() at {Path(frame.filename).name}:{frame.lineno}"
    return api


class _OverrideAttempts(logging.Handler):
    """Names the call behind repeated attempts to set a global provider, once per call site."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.step = ""
        self.found: dict[str, tuple[str, str, int]] = {}  # call -> first step, log, count

    def emit(self, record: logging.LogRecord) -> None:
        if _OVERRIDE_LOG in record.getMessage():
            call = _setter_call(traceback.extract_stack())
            step, said, count = self.found.get(call, (self.step, record.getMessage(), 0))
            self.found[call] = (step, said, count + 1)

    def problems(self) -> list[str]:
        """One sentence per call site: what it called, first when, and how often OTel refused."""
        return [
            f"{call} tried to set a global provider again, first while {step}; OTel refused "
            f"{count} time{'s' if count > 1 else ''} ({said!r})"
            for call, (step, said, count) in self.found.items()
        ]


def _call_instrumented(instrumented: Callable[[], ChatModel], kind: str) -> None:
    run_kind(instrumented(), kind)


@pytest.mark.requirement("OTEL-016")
def test_global_providers_are_never_set(
    request: pytest.FixtureRequest,
    chatmodels_make_chat_model: Callable[..., ChatModel],
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_provider_metadata: ProviderMetadata,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Making, instrumenting and calling a model leaves the global OTel providers alone."""
    attempts = _OverrideAttempts()
    changed: list[str] = []
    model: ChatModel | None = None

    def step(what: str, action: Callable[[], object]) -> None:
        attempts.step = what
        current = _globals()
        action()
        for name, old, new in zip(("tracer", "meter"), current, _globals(), strict=True):
            if old is not new:
                changed.append(f"{what} changed the global {name} provider from {old!r} to {new!r}")

    def make() -> None:
        nonlocal model
        model = chatmodels_make_chat_model()

    otel_logger = logging.getLogger("opentelemetry")
    otel_logger.addHandler(attempts)
    try:
        with caplog.at_level(logging.WARNING, logger="opentelemetry"):
            step("making the model", make)
            assert model is not None
            made = model
            for kind in kinds_for(chatmodels_provider_metadata):
                instrumented = functools.partial(
                    instrument_subject, request, made, chatmodels_telemetry
                )
                step(
                    f"instrumenting the model and calling {kind}()",
                    functools.partial(_call_instrumented, instrumented, kind),
                )
            step(
                "instrumenting with no-op providers and calling invoke()",
                lambda: instrument_subject(
                    request,
                    made,
                    chatmodels_telemetry,
                    tracer_provider=NoOpTracerProvider(),
                    meter_provider=NoOpMeterProvider(),
                ).invoke(PROMPT),
            )
    finally:
        otel_logger.removeHandler(attempts)
    problems = changed + attempts.problems()
    assert not problems, "; ".join(problems) + "; expected the application's globals left alone"
