"""Tests for chatmodels.telemetry: GenAI spans and metrics, checked with in-memory SDK exporters."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from chatmodels import _semconv as sc
from chatmodels.base import BaseChatModel
from chatmodels.errors import ChatModelError, InvalidInputError, RateLimitError
from chatmodels.messages import ChatChunk, ChatResult, Message, Usage
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ChatModel, ProviderMetadata
from chatmodels.telemetry import InstrumentedChatModel, error_type, instrument

MODEL = "fake-model"
RESPONSE_MODEL = "fake-model-2024"
METADATA = ProviderMetadata(
    "fake",
    capabilities={Capability.STREAMING, Capability.MAX_TOKENS, Capability.STOP_SEQUENCES}
    | {Capability.JSON_MODE},
)
BASE_ATTRIBUTES = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "fake",
    "gen_ai.request.model": MODEL,
}
METRIC_ATTRIBUTES = {**BASE_ATTRIBUTES, "gen_ai.response.model": RESPONSE_MODEL}


class Boom(Exception):
    """A provider failure that is not a ChatModelError."""


@dataclass
class Script:
    """What the fake model does, and what it saw."""

    fail: BaseException | None = None
    fail_at_chunk: int | None = None
    usage: Usage | None = field(default_factory=lambda: Usage(7, 3))
    threads: list[str] = field(default_factory=list)
    parents: list[Any] = field(default_factory=list)
    stream_closed: list[bool] = field(default_factory=list)
    tracer: trace.Tracer | None = None


class FakeChatModel(BaseChatModel):
    """A zero-latency model that follows its Script."""

    def __init__(self, script: Script) -> None:
        super().__init__(metadata=METADATA, model=MODEL)
        self.script = script

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        self.script.threads.append(threading.current_thread().name)
        self.script.parents.append(trace.get_current_span().get_span_context())
        if self.script.fail is not None:
            raise self.script.fail
        return ChatResult(
            Message.assistant("hello"), "stop", RESPONSE_MODEL, "resp-1", self.script.usage
        )

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        script = self.script
        chunks = [
            ChatChunk("he", model=RESPONSE_MODEL, response_id="resp-1"),
            ChatChunk("ll"),
            ChatChunk("o", finish_reason="stop", usage=script.usage),
        ]
        try:
            for index, chunk in enumerate(chunks):
                if script.tracer is not None:
                    with script.tracer.start_as_current_span(f"provider-read-{index}"):
                        pass
                if index == script.fail_at_chunk:
                    raise script.fail or Boom("stream broke")
                yield chunk
        finally:
            script.stream_closed.append(True)


class SlowAsyncModel(BaseChatModel):
    """An async-native model that never answers, to be cancelled."""

    def __init__(self) -> None:
        super().__init__(metadata=METADATA, model=MODEL)

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Telemetry:
    """Per-test SDK providers with in-memory exporters; nothing global."""

    exporter: InMemorySpanExporter
    tracer_provider: TracerProvider
    reader: InMemoryMetricReader
    meter_provider: MeterProvider

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def chat_spans(self) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name.startswith("chat")]

    def points(self, name: str) -> list[HistogramDataPoint]:
        data = self.reader.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)  # type: ignore[arg-type]
        return found


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    yield Telemetry(exporter, tracer_provider, reader, meter_provider)
    tracer_provider.shutdown()
    meter_provider.shutdown()


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def model(otel: Telemetry, script: Script) -> InstrumentedChatModel:
    return instrument(FakeChatModel(script), otel.tracer_provider, otel.meter_provider)


def only(items: list[Any]) -> Any:
    assert len(items) == 1, items
    return items[0]


class TestInvoke:
    def test_span_name_kind_attributes_and_status(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """A successful invoke emits one CLIENT span `chat {model}` with request and response."""
        model.invoke("hi")
        span = only(otel.spans())
        assert span.name == f"chat {MODEL}"
        assert span.kind is SpanKind.CLIENT
        assert span.status.status_code is StatusCode.UNSET
        assert dict(span.attributes or {}) == {
            **BASE_ATTRIBUTES,
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.response.id": "resp-1",
            "gen_ai.response.model": RESPONSE_MODEL,
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 3,
        }
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "chatmodels"
        assert span.instrumentation_scope.schema_url == "https://opentelemetry.io/schemas/1.41.1"

    def test_request_attributes_recorded_when_set(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """Set options appear as gen_ai.request.* attributes with the convention's types."""
        options = ChatOptions(
            temperature=0, top_p=0.5, max_tokens=20, stop=("END",), seed=4, response_format="json"
        )
        model.invoke("hi", options)
        model.invoke("hi", {"max_tokens": 9})
        first, second = otel.spans()
        attributes = dict(first.attributes or {})
        assert attributes["gen_ai.request.temperature"] == 0.0
        assert isinstance(attributes["gen_ai.request.temperature"], float)
        assert attributes["gen_ai.request.top_p"] == 0.5
        assert attributes["gen_ai.request.max_tokens"] == 20
        assert attributes["gen_ai.request.stop_sequences"] == ("END",)
        assert attributes["gen_ai.request.seed"] == 4
        assert attributes["gen_ai.output.type"] == "json"
        request_keys = {k for k in dict(second.attributes or {}) if k.startswith("gen_ai.request.")}
        assert request_keys == {"gen_ai.request.model", "gen_ai.request.max_tokens"}

    def test_unset_options_leave_no_request_attributes(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """Without options only the model is recorded among request attributes."""
        model.invoke("hi", ChatOptions())
        keys = set(dict(only(otel.spans()).attributes or {}))
        assert {k for k in keys if k.startswith("gen_ai.request.")} == {"gen_ai.request.model"}
        assert "gen_ai.output.type" not in keys

    def test_duration_and_token_metrics(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """One duration point and one token point per token type, with the advisory boundaries."""
        model.invoke("hi")
        duration = only(otel.points("gen_ai.client.operation.duration"))
        assert dict(duration.attributes) == METRIC_ATTRIBUTES
        assert duration.count == 1
        assert tuple(duration.explicit_bounds) == sc.DURATION_BOUNDARIES
        assert duration.explicit_bounds[:3] == (0.01, 0.02, 0.04)
        tokens = {
            p.attributes["gen_ai.token.type"]: p for p in otel.points(sc.METRIC_TOKEN_USAGE.name)
        }
        assert set(tokens) == {"input", "output"}
        assert (tokens["input"].sum, tokens["output"].sum) == (7, 3)
        assert dict(tokens["input"].attributes) == {
            **METRIC_ATTRIBUTES,
            "gen_ai.token.type": "input",
        }
        assert tuple(tokens["output"].explicit_bounds) == sc.TOKEN_BOUNDARIES
        assert tokens["output"].explicit_bounds[:3] == (1, 4, 16)
        assert otel.points(sc.METRIC_TIME_TO_FIRST_CHUNK.name) == []

    def test_no_usage_no_token_metric(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """When usage is unknown no token usage is recorded on the span or the metric."""
        script.usage = None
        model.invoke("hi")
        assert "gen_ai.usage.input_tokens" not in dict(only(otel.spans()).attributes or {})
        assert otel.points(sc.METRIC_TOKEN_USAGE.name) == []
        assert only(otel.points(sc.METRIC_OPERATION_DURATION.name)).count == 1

    def test_provider_work_is_a_child_of_the_chat_span(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """The chat span is current while the provider runs, so its HTTP spans nest under it."""
        model.invoke("hi")
        assert only(script.parents).span_id == only(otel.spans()).context.span_id


class TestErrors:
    def test_chat_model_error_sets_code_status_and_event(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """A ChatModelError is re-raised unchanged; the span is ERROR and error.type is its code."""
        error = RateLimitError("slow down")
        script.fail = error
        with pytest.raises(RateLimitError) as caught:
            model.invoke("hi")
        assert caught.value is error
        span = only(otel.spans())
        assert span.status.status_code is StatusCode.ERROR
        assert dict(span.attributes or {})["error.type"] == "rate_limit"
        event = only(list(span.events))
        assert event.name == "exception"
        assert dict(event.attributes or {})["exception.type"].endswith("RateLimitError")
        duration = only(otel.points(sc.METRIC_OPERATION_DURATION.name))
        assert dict(duration.attributes) == {**BASE_ATTRIBUTES, "error.type": "rate_limit"}
        assert otel.points(sc.METRIC_TOKEN_USAGE.name) == []

    def test_other_exception_uses_qualified_class_name(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """A foreign exception is classified by its fully-qualified class name."""
        script.fail = Boom("bad")
        with pytest.raises(Boom):
            model.invoke("hi")
        span = only(otel.spans())
        assert dict(span.attributes or {})["error.type"] == f"{Boom.__module__}.Boom"
        assert span.status.status_code is StatusCode.ERROR

    def test_validation_error_inside_the_span(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """Bad input raised by the wrapped model is recorded as invalid_input."""
        with pytest.raises(InvalidInputError):
            model.invoke([])
        span = only(otel.spans())
        assert dict(span.attributes or {})["error.type"] == "invalid_input"
        assert dict(span.attributes or {})["gen_ai.request.model"] == MODEL

    def test_error_type_of_builtins_and_cancellation(self) -> None:
        """Builtins drop their module; cancellation maps to 'cancelled'."""
        assert error_type(TimeoutError()) == "TimeoutError"
        assert error_type(asyncio.CancelledError()) == "cancelled"
        assert error_type(ChatModelError("x", code="network")) == "network"


class TestStream:
    def test_exhausted_stream_aggregates_onto_one_span(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """An exhausted stream ends its span once with the chunks' id, model, reasons and usage."""
        chunks = list(model.stream("hi"))
        assert "".join(c.delta for c in chunks) == "hello"
        span = only(otel.spans())
        attributes = dict(span.attributes or {})
        ttfc = attributes.pop("gen_ai.response.time_to_first_chunk")
        assert isinstance(ttfc, float)
        assert ttfc >= 0
        assert span.name == f"chat {MODEL}"
        assert span.kind is SpanKind.CLIENT
        assert span.status.status_code is StatusCode.UNSET
        assert attributes == {
            **BASE_ATTRIBUTES,
            "gen_ai.request.stream": True,
            "gen_ai.response.finish_reasons": ("stop",),
            "gen_ai.response.id": "resp-1",
            "gen_ai.response.model": RESPONSE_MODEL,
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 3,
        }

    def test_stream_metrics(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """A three-chunk stream records one first-chunk time and two per-chunk times."""
        list(model.stream("hi"))
        first = only(otel.points(sc.METRIC_TIME_TO_FIRST_CHUNK.name))
        per_chunk = only(otel.points(sc.METRIC_TIME_PER_OUTPUT_CHUNK.name))
        assert (first.count, per_chunk.count) == (1, 2)
        assert tuple(first.explicit_bounds) == sc.DURATION_BOUNDARIES
        assert tuple(per_chunk.explicit_bounds) == sc.DURATION_BOUNDARIES
        assert dict(first.attributes) == METRIC_ATTRIBUTES
        assert only(otel.points(sc.METRIC_OPERATION_DURATION.name)).count == 1
        assert len(otel.points(sc.METRIC_TOKEN_USAGE.name)) == 2

    def test_early_close_ends_span_as_cancelled(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """close() before the final chunk closes the provider and ends the span once, cancelled."""
        stream = model.stream("hi")
        next(stream)
        assert otel.spans() == []
        stream.close()  # type: ignore[attr-defined]
        stream.close()  # type: ignore[attr-defined]
        assert script.stream_closed == [True]
        span = only(otel.spans())
        assert span.status.status_code is StatusCode.UNSET
        assert dict(span.attributes or {})["error.type"] == "cancelled"
        assert list(span.events) == []
        duration = only(otel.points(sc.METRIC_OPERATION_DURATION.name))
        assert dict(duration.attributes)["error.type"] == "cancelled"

    def test_dropped_stream_ends_span(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """A stream abandoned by `break` and garbage-collected still ends its span."""
        stream = model.stream("hi")
        for _ in stream:
            break
        del stream
        gc.collect()
        assert dict(only(otel.spans()).attributes or {})["error.type"] == "cancelled"

    def test_never_iterated_stream_ends_span(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """A stream that is created and dropped unread does not leak an open span."""
        model.stream("hi")
        gc.collect()
        span = only(otel.spans())
        assert "gen_ai.response.time_to_first_chunk" not in dict(span.attributes or {})

    def test_close_after_final_chunk_is_success(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """Closing once the finish reason arrived is a completed call, not a cancellation."""
        stream = model.stream("hi")
        for chunk in stream:
            if chunk.finish_reason is not None:
                break
        stream.close()  # type: ignore[attr-defined]
        attributes = dict(only(otel.spans()).attributes or {})
        assert "error.type" not in attributes
        assert attributes["gen_ai.response.finish_reasons"] == ("stop",)

    def test_failure_mid_stream(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """A provider error mid-stream ends the span with ERROR, keeping what was seen."""
        script.fail, script.fail_at_chunk = RateLimitError("later"), 1
        stream = model.stream("hi")
        next(stream)
        with pytest.raises(RateLimitError):
            next(stream)
        with pytest.raises(StopIteration):
            next(stream)
        span = only(otel.spans())
        assert span.status.status_code is StatusCode.ERROR
        attributes = dict(span.attributes or {})
        assert attributes["error.type"] == "rate_limit"
        assert attributes["gen_ai.response.id"] == "resp-1"

    def test_validation_error_at_call(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """stream() that refuses its input raises at the call, with a failed span."""
        with pytest.raises(InvalidInputError):
            model.stream([])
        assert dict(only(otel.spans()).attributes or {})["error.type"] == "invalid_input"

    def test_span_is_current_while_provider_reads(self, otel: Telemetry, script: Script) -> None:
        """Spans the provider starts while producing chunks are children of the chat span."""
        script.tracer = otel.tracer_provider.get_tracer("provider")
        model = instrument(FakeChatModel(script), otel.tracer_provider, otel.meter_provider)
        list(model.stream("hi"))
        chat = only(otel.chat_spans())
        reads = [s for s in otel.spans() if s.name.startswith("provider-read")]
        assert len(reads) == 3
        assert {s.parent.span_id for s in reads if s.parent} == {chat.context.span_id}


class TestAsync:
    def test_ainvoke_span(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """ainvoke emits the same span as invoke."""
        result = asyncio.run(model.ainvoke("hi"))
        assert result.text == "hello"
        span = only(otel.spans())
        assert span.name == f"chat {MODEL}"
        assert dict(span.attributes or {})["gen_ai.usage.output_tokens"] == 3

    def test_ainvoke_cancelled(self, otel: Telemetry) -> None:
        """A cancelled ainvoke ends its span with status UNSET and error.type 'cancelled'."""
        model = instrument(SlowAsyncModel(), otel.tracer_provider, otel.meter_provider)

        async def run() -> None:
            task = asyncio.ensure_future(model.ainvoke("hi"))
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(run())
        span = only(otel.spans())
        assert span.status.status_code is StatusCode.UNSET
        assert dict(span.attributes or {})["error.type"] == "cancelled"
        assert list(span.events) == []

    def test_astream_exhausted_and_closed(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """An exhausted astream succeeds; an aclose()d one is cancelled; each ends one span."""

        async def run() -> None:
            texts = [c.delta async for c in model.astream("hi")]
            assert "".join(texts) == "hello"
            stream = model.astream("hi")
            await stream.__anext__()
            await stream.aclose()  # type: ignore[attr-defined]
            await stream.aclose()  # type: ignore[attr-defined]

        asyncio.run(run())
        done, closed = otel.spans()
        assert "error.type" not in dict(done.attributes or {})
        assert dict(done.attributes or {})["gen_ai.request.stream"] is True
        assert dict(closed.attributes or {})["error.type"] == "cancelled"
        assert only(otel.points(sc.METRIC_TIME_TO_FIRST_CHUNK.name)).count == 2

    def test_abatch_children_of_caller_span(
        self, model: InstrumentedChatModel, otel: Telemetry
    ) -> None:
        """Each abatch item gets its own span under the caller's span."""
        tracer = otel.tracer_provider.get_tracer("caller")

        async def run() -> None:
            with tracer.start_as_current_span("parent"):
                results = await model.abatch(["a", "b", "c"])
            assert all(isinstance(r, ChatResult) for r in results)

        asyncio.run(run())
        parent = only([s for s in otel.spans() if s.name == "parent"])
        chats = otel.chat_spans()
        assert len(chats) == 3
        assert {s.parent.span_id for s in chats if s.parent} == {parent.context.span_id}


class TestBatch:
    def test_items_are_children_across_the_thread_pool(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """batch items run on pool threads, yet each span's parent is the caller's span."""
        tracer = otel.tracer_provider.get_tracer("caller")
        with tracer.start_as_current_span("parent"):
            results = model.batch(["a", "b", "c", "d"], max_concurrency=4)
        assert len(results) == 4
        assert all(name.startswith("chatmodels-batch") for name in script.threads)
        parent = only([s for s in otel.spans() if s.name == "parent"])
        chats = otel.chat_spans()
        assert len(chats) == 4
        assert {s.parent.span_id for s in chats if s.parent} == {parent.context.span_id}
        assert {s.context.trace_id for s in chats} == {parent.context.trace_id}
        assert only(otel.points(sc.METRIC_OPERATION_DURATION.name)).count == 4

    def test_failed_item_keeps_its_error_and_span(
        self, model: InstrumentedChatModel, otel: Telemetry, script: Script
    ) -> None:
        """A failed item returns its error at its index and leaves an ERROR span."""
        script.fail = RateLimitError("no")
        results = model.batch(["a", "b"])
        assert all(isinstance(r, RateLimitError) for r in results)
        assert [s.status.status_code for s in otel.spans()] == [StatusCode.ERROR] * 2


class TestContent:
    def test_no_content_without_opt_in(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """Without capture_content no span carries message content."""
        model.invoke("secret prompt")
        list(model.stream("secret prompt"))
        for span in otel.spans():
            keys = set(dict(span.attributes or {}))
            assert not keys & {sc.GEN_AI_INPUT_MESSAGES, sc.GEN_AI_OUTPUT_MESSAGES}
            assert "secret" not in repr(dict(span.attributes or {}))

    def test_content_with_opt_in(self, otel: Telemetry, script: Script) -> None:
        """With capture_content the input and output messages are recorded as JSON."""
        model = instrument(
            FakeChatModel(script),
            otel.tracer_provider,
            otel.meter_provider,
            capture_content=True,
        )
        model.invoke([Message.user("what?")])
        list(model.stream("what?"))
        expected_in = [{"role": "user", "parts": [{"type": "text", "content": "what?"}]}]
        expected_out = [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": "hello"}],
                "finish_reason": "stop",
            }
        ]
        for span in otel.spans():
            attributes = dict(span.attributes or {})
            assert json.loads(attributes[sc.GEN_AI_INPUT_MESSAGES]) == expected_in
            assert json.loads(attributes[sc.GEN_AI_OUTPUT_MESSAGES]) == expected_out


class TestInstrument:
    def test_sets_no_global_provider(self, script: Script, otel: Telemetry) -> None:
        """instrument() leaves the global tracer and meter providers as they were."""
        tracer_before = trace.get_tracer_provider()
        meter_before = metrics.get_meter_provider()
        instrument(FakeChatModel(script)).invoke("hi")
        instrument(FakeChatModel(script), otel.tracer_provider, otel.meter_provider).invoke("hi")
        assert trace.get_tracer_provider() is tracer_before
        assert metrics.get_meter_provider() is meter_before
        assert len(otel.spans()) == 1

    def test_implements_the_protocol_by_delegation(
        self, model: InstrumentedChatModel, script: Script
    ) -> None:
        """The wrapper is a ChatModel whose metadata, model and close reach the wrapped model."""
        assert isinstance(model, ChatModel)
        assert model.metadata is METADATA
        assert model.model == MODEL
        assert model.health_check().ok
        with model as entered:
            assert entered is model
        assert model.wrapped.closed  # type: ignore[attr-defined]

    def test_rejects_non_models_and_double_wrapping(self, model: InstrumentedChatModel) -> None:
        """instrument() refuses objects that are not ChatModels and already-wrapped models."""
        with pytest.raises(TypeError, match="needs a ChatModel"):
            instrument(object())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="already instrumented"):
            instrument(model)


GENAI = "genai-0.1.0"


def _recorded(otel: Telemetry) -> set[str]:
    data = otel.reader.get_metrics_data()
    return {
        metric.name
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


class TestProfiles:
    @pytest.mark.parametrize("name", sorted(sc.PROFILES))
    def test_each_profile_emits_its_own_metric_names_only(
        self, otel: Telemetry, script: Script, name: str
    ) -> None:
        """A call and a stream record metrics named by the chosen edition and by no other."""
        model = instrument(
            FakeChatModel(script), otel.tracer_provider, otel.meter_provider, semconv=name
        )
        model.invoke("hi")
        list(model.stream("hi"))
        assert _recorded(otel) == set(sc.PROFILES[name].metrics)

    def test_default_is_semconv_1_41_1(self, model: InstrumentedChatModel, otel: Telemetry) -> None:
        """Without semconv=, instrument() emits what it emitted before profiles existed."""
        model.invoke("hi")
        assert sc.DEFAULT_PROFILE == "semconv-1.41.1"
        assert _recorded(otel) == {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"}

    def test_genai_records_duration_and_token_counters(
        self, otel: Telemetry, script: Script
    ) -> None:
        """genai-0.1.0: the inference duration, a counter and a histogram per token type."""
        model = instrument(
            FakeChatModel(script), otel.tracer_provider, otel.meter_provider, semconv=GENAI
        )
        model.invoke("hi")
        duration = only(otel.points("gen_ai.client.inference.duration"))
        assert (duration.count, dict(duration.attributes)) == (1, METRIC_ATTRIBUTES)
        assert tuple(duration.explicit_bounds) == sc.DURATION_BOUNDARIES
        unknown = {**METRIC_ATTRIBUTES, "gen_ai.token.modality": "unknown"}
        for kind, value in (("input", 7), ("output", 3)):
            counted = only(otel.points(f"gen_ai.client.inference.usage.{kind}_tokens"))
            assert (counted.value, dict(counted.attributes)) == (value, unknown)
            per_call = only(otel.points(f"gen_ai.client.inference.operation.{kind}_tokens"))
            assert (per_call.sum, per_call.count) == (value, 1)
            assert dict(per_call.attributes) == METRIC_ATTRIBUTES
            assert tuple(per_call.explicit_bounds) == sc.TOKEN_BOUNDARIES

    def test_genai_failure_and_stream_timings(self, otel: Telemetry, script: Script) -> None:
        """genai-0.1.0: a failure is a duration with error.type; a stream times its chunks."""
        model = instrument(
            FakeChatModel(script), otel.tracer_provider, otel.meter_provider, semconv=GENAI
        )
        list(model.stream("hi"))
        script.fail = RateLimitError("slow down")
        with pytest.raises(RateLimitError):
            model.invoke("hi")
        points = otel.points("gen_ai.client.inference.duration")
        assert sorted(dict(p.attributes).get("error.type", "") for p in points) == [
            "",
            "rate_limit",
        ]
        assert only(otel.points("gen_ai.client.inference.time_to_first_chunk")).count == 1
        assert only(otel.points("gen_ai.client.inference.time_per_output_chunk")).count == 2
        counted = otel.points("gen_ai.client.inference.usage.input_tokens")
        assert sorted(p.value for p in counted) == [0, 7]  # the failure's 0, the stream's 7
        assert {dict(p.attributes)["gen_ai.token.modality"] for p in counted} == {"unknown"}
        assert all("error.type" not in dict(p.attributes) for p in counted)
        per_call = {
            dict(p.attributes).get("error.type"): (p.sum, p.count)
            for p in otel.points("gen_ai.client.inference.operation.input_tokens")
        }
        assert per_call == {None: (7, 1), "rate_limit": (0, 1)}

    @pytest.mark.parametrize(("name", "recorded"), [("semconv-1.41.1", 0), (GENAI, 1)])
    def test_calls_without_usage_count_zero_tokens_in_genai_only(
        self, otel: Telemetry, script: Script, name: str, recorded: int
    ) -> None:
        """genai v0.1.0 records 0 tokens for a call without usage; semconv v1.41.1 nothing."""
        script.usage = None
        model = instrument(
            FakeChatModel(script), otel.tracer_provider, otel.meter_provider, semconv=name
        )
        model.invoke("hi")
        profile = sc.PROFILES[name]
        for token in profile.tokens:
            points = otel.points(token.spec.name)
            values = [getattr(p, "value", None) or getattr(p, "sum", 0) for p in points]
            assert sum(values) == 0
            assert len(points) == (recorded and 1), (token.spec.name, points)

    @pytest.mark.parametrize(("name", "url"), [("semconv-1.41.1", sc.SCHEMA_URL), (GENAI, None)])
    def test_scope_schema_url_is_the_editions(
        self, otel: Telemetry, script: Script, name: str, url: str | None
    ) -> None:
        """Spans carry the edition's schema URL; genai v0.1.0 publishes none yet."""
        model = instrument(
            FakeChatModel(script), otel.tracer_provider, otel.meter_provider, semconv=name
        )
        model.invoke("hi")
        assert only(otel.spans()).instrumentation_scope.schema_url == (url or "")

    def test_unknown_profile_is_refused(self, script: Script) -> None:
        """An unknown edition is named in the error with the known ones."""
        with pytest.raises(ValueError, match=r"unknown telemetry profile '0.1.0'; expected one of"):
            instrument(FakeChatModel(script), semconv="0.1.0")


class TestSemconvTable:
    def test_metric_table(self) -> None:
        """The table names the four client histograms with their units and boundaries."""
        assert sc.SEMCONV_VERSION == "1.41.1"
        assert {name: m.unit for name, m in sc.METRICS.items()} == {
            "gen_ai.client.operation.duration": "s",
            "gen_ai.client.token.usage": "{token}",
            "gen_ai.client.operation.time_to_first_chunk": "s",
            "gen_ai.client.operation.time_per_output_chunk": "s",
        }
        doubling = tuple(0.01 * 2**i for i in range(14))
        quadrupling = tuple(4**i for i in range(14))
        assert doubling == sc.DURATION_BOUNDARIES
        assert quadrupling == sc.TOKEN_BOUNDARIES
        assert [m.name for m in sc.METRICS.values() if m.streaming_only] == [
            "gen_ai.client.operation.time_to_first_chunk",
            "gen_ai.client.operation.time_per_output_chunk",
        ]

    def test_table_is_immutable(self) -> None:
        """Entries are frozen and the mapping refuses writes."""
        with pytest.raises(dataclasses.FrozenInstanceError):
            sc.METRIC_TOKEN_USAGE.unit = "1"  # type: ignore[misc]
        with pytest.raises(TypeError):
            sc.METRICS["x"] = sc.METRIC_TOKEN_USAGE  # type: ignore[index]

    def test_genai_table(self) -> None:
        """genai v0.1.0 renames the client metrics and counts tokens per type with counters."""
        genai = sc.PROFILES[GENAI]
        assert {name: (m.instrument, m.unit) for name, m in genai.metrics.items()} == {
            "gen_ai.client.inference.duration": ("histogram", "s"),
            "gen_ai.client.inference.time_to_first_chunk": ("histogram", "s"),
            "gen_ai.client.inference.time_per_output_chunk": ("histogram", "s"),
            "gen_ai.client.inference.usage.input_tokens": ("counter", "{token}"),
            "gen_ai.client.inference.usage.output_tokens": ("counter", "{token}"),
            "gen_ai.client.inference.operation.input_tokens": ("histogram", "{token}"),
            "gen_ai.client.inference.operation.output_tokens": ("histogram", "{token}"),
        }
        counters = [m for m in genai.metrics.values() if m.instrument == "counter"]
        assert all(m.boundaries == () for m in counters)
        assert all("gen_ai.token.modality" in m.required_attributes for m in counters)
        assert genai.attributes == sc.ATTRIBUTES

    def test_span_name(self) -> None:
        """Span names follow `{operation} {model}`, or the operation alone without a model."""
        assert sc.span_name("gpt-4") == "chat gpt-4"
        assert sc.span_name("") == "chat"
