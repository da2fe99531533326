"""Raw wire capture of the openai provider: recorded only when asked, as sent and received."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator

import pytest

from chatmodels import InvalidResponseError, ToolSpec
from chatmodels.conformance._wire_schema import SCHEMA_PATH, generate_schema, schema_problems
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.providers._http_capture import CapturingTransport, WireRecorder, redact_headers
from chatmodels.providers.openai import OpenAIProvider

SECRET = "sk-capture-DO-NOT-LEAK-42"
WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def _tool_options() -> dict[str, object]:
    return {"tools": [WEATHER], "tool_choice": "required"}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _provider(server: FaultServer, **options: str) -> OpenAIProvider:
    base = {"base_url": server.url, "model": "reference-echo", "api_key": SECRET}
    return OpenAIProvider({**base, "max_retries": "0", **options})


class TestCapture:
    def test_nothing_is_recorded_without_a_recorder(self, server: FaultServer) -> None:
        """A provider with no recorder builds plain clients: no capturing transport at all."""
        with _provider(server).create_chat_model() as model:
            model.invoke("hi")
            with model._clients.sync_client("test") as client:  # type: ignore[attr-defined]
                assert not isinstance(client._transport, CapturingTransport)

    def test_a_stream_is_recorded_event_by_event(self, server: FaultServer) -> None:
        """Method, path, status, request body and each SSE data payload are kept in order."""
        recorder = WireRecorder()
        provider = _provider(server)
        provider.record_wire(recorder)
        with provider.create_chat_model() as model:
            chunks = list(model.stream("hello there"))
        (exchange,) = recorder.since(0)
        assert (exchange.method, exchange.path, exchange.status) == (
            "POST",
            "/v1/chat/completions",
            200,
        )
        assert json.loads(exchange.request_body)["stream"] is True
        events = exchange.events()
        assert events[-1].data == "[DONE]"
        assert [json.loads(e.data)["object"] for e in events[:-1]] == ["chat.completion.chunk"] * (
            len(events) - 1
        )
        assert all(a.at <= b.at for a, b in itertools.pairwise(events))
        assert exchange.complete
        assert chunks

    def test_secret_headers_are_redacted(self, server: FaultServer) -> None:
        """The API key never reaches the record; other headers stay readable."""
        recorder = WireRecorder()
        provider = _provider(server, headers="X-Trace:abc\nX-Api-Key:sekrit")
        provider.record_wire(recorder)
        with provider.create_chat_model() as model:
            model.invoke("hi")
        (exchange,) = recorder.since(0)
        text = json.dumps(exchange.to_json())
        assert SECRET not in text
        assert "sekrit" not in text
        assert exchange.request_headers["authorization"] == "***"
        assert exchange.request_headers["x-trace"] == "abc"
        assert redact_headers({"Cookie": "c", "Accept": "a"}) == {"Cookie": "***", "Accept": "a"}

    def test_async_calls_are_recorded(self, server: FaultServer) -> None:
        """The async client records through the async transport."""
        recorder = WireRecorder()
        provider = _provider(server)
        provider.record_wire(recorder)

        async def run() -> None:
            async with provider.create_chat_model() as model:
                await model.ainvoke("hi")
                _ = [c async for c in model.astream("hi")]

        asyncio.run(run())
        assert [e.status for e in recorder.since(0)] == [200, 200]
        assert recorder.since(0)[1].events()[-1].data == "[DONE]"

    def test_drain_keeps_the_rest_of_a_stream_the_client_gave_up_on(
        self, server: FaultServer
    ) -> None:
        """With drain set, an answer the provider rejects midway is still recorded whole."""
        recorder = WireRecorder()
        recorder.drain = True
        provider = _provider(server)
        provider.record_wire(recorder)
        server.set_default(Fault.wire("no_tool_index"))
        try:
            with (
                provider.create_chat_model() as model,
                pytest.raises(InvalidResponseError),
            ):
                list(
                    model.stream(
                        "weather in Paris", {"tools": [WEATHER], "tool_choice": "required"}
                    )
                )
        finally:
            server.set_default(None)
        (exchange,) = recorder.since(0)
        assert exchange.events()[-1].data == "[DONE]"


class TestNoSilentRewriting:
    def test_object_arguments_are_an_invalid_response(self, server: FaultServer) -> None:
        """Tool-call arguments sent as an object raise invalid_response, not a quiet '{}'."""
        server.set_default(Fault.wire("object_arguments"))
        try:
            with (
                _provider(server).create_chat_model() as model,
                pytest.raises(InvalidResponseError, match="expected a JSON string"),
            ):
                model.invoke("weather in Paris", _tool_options())
        finally:
            server.set_default(None)


class TestSchema:
    def test_shipped_schema_matches_the_installed_openai(self) -> None:
        """The shipped schema is what the installed openai package's types derive."""
        pytest.importorskip("openai")
        shipped = json.loads(SCHEMA_PATH.read_text())
        fresh = generate_schema()
        if shipped["openai_version"] != fresh["openai_version"]:
            pytest.skip("openai differs from the version the schema was generated from")
        assert shipped == json.loads(json.dumps(fresh))

    def test_a_missing_tool_index_names_its_path(self) -> None:
        """A chunk without a tool-call index is reported at that field's path."""
        chunk = {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"arguments": "{}"}}]}}],
        }
        problems = [str(p) for p in schema_problems(chunk, "chat.completion.chunk")]
        assert problems == ["choices[0].delta.tool_calls[0].index: missing"]
