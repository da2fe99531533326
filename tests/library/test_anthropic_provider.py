"""The anthropic provider against the fault server's /v1/messages, and that endpoint itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatmodels import ChatOptions, ErrorCode, InvalidConfigError, Message, ToolCall
from chatmodels.conformance.faults import Fault, FaultServer
from chatmodels.errors import ChatModelError
from chatmodels.messages import merge_chunks
from chatmodels.provider import Capability
from chatmodels.providers._http_capture import WireRecorder
from chatmodels.providers.anthropic import AnthropicProvider
from chatmodels.registry import new_registry_provider

SECRET = "sk-ant-test-DO-NOT-LEAK-123456"


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture(autouse=True)
def _clean(server: FaultServer) -> Iterator[None]:
    server.set_default(None)
    server.reset_log()
    yield
    server.set_default(None)


def make_provider(server: FaultServer, **options: Any) -> AnthropicProvider:
    base = {"base_url": server.url, "model": "reference-echo", "api_key": SECRET}
    return AnthropicProvider({**base, "backoff_base": 0, **options})


def posts(server: FaultServer) -> list[Any]:
    return [r for r in server.requests if r.path == "/v1/messages"]


class TestOptions:
    def test_registered_and_declares_its_protocol(self) -> None:
        """The entry point names the provider; it declares anthropic_compatible, not openai."""
        provider = new_registry_provider("anthropic", {"base_url": "http://127.0.0.1:1/v1"})
        assert provider.metadata.supports(Capability.ANTHROPIC_COMPATIBLE)
        assert not provider.metadata.supports(Capability.OPENAI_COMPATIBLE)

    def test_defaults_to_anthropic(self) -> None:
        """Without base_url the provider talks to Anthropic's API, with version 2023-06-01."""
        settings = AnthropicProvider({}).settings
        assert (settings.base_url, settings.anthropic_version) == (
            "https://api.anthropic.com/v1",
            "2023-06-01",
        )

    @pytest.mark.parametrize(
        ("name", "value"),
        [("max_output_tokens", "0"), ("timeout", "soon"), ("base_url", "ftp://x")],
    )
    def test_bad_options_name_the_option(self, name: str, value: str) -> None:
        """A bad value raises InvalidConfigError naming the option and the value."""
        with pytest.raises(InvalidConfigError, match=name) as info:
            AnthropicProvider({name: value})
        assert repr(value) in str(info.value)

    def test_key_and_version_headers_and_no_leak(self, server: FaultServer) -> None:
        """The key goes out as x-api-key beside anthropic-version; no repr or capture shows it."""
        provider = make_provider(server, anthropic_version="2099-01-01")
        recorder = WireRecorder()
        provider.record_wire(recorder)
        with provider.create_chat_model() as chat:
            chat.invoke("hi")
            shown = [repr(provider), repr(chat), repr(provider.settings)]
        (exchange,) = recorder.since(0)
        assert exchange.request_headers["anthropic-version"] == "2099-01-01"
        assert exchange.request_headers["x-api-key"] == "***"
        assert "authorization" not in {k.lower() for k in exchange.request_headers}
        assert not any(SECRET in text for text in [*shown, json.dumps(exchange.to_json())])


class TestCalls:
    def test_tool_round_trip(self, server: FaultServer) -> None:
        """A tool answer goes back as a tool_result block and the model answers it."""
        call = ToolCall("toolu_1", "get_weather", '{"city": "Oslo"}')
        history = [
            Message.system("be brief"),
            Message.user("weather?"),
            Message.assistant("", (call,)),
            Message.tool("sunny", "toolu_1"),
        ]
        with make_provider(server).create_chat_model() as chat:
            result = chat.invoke(history)
        body = posts(server)[-1].body
        assert body["system"] == "be brief"
        assert [turn["role"] for turn in body["messages"]] == ["user", "assistant", "user"]
        tool_use = body["messages"][1]["content"][0]
        assert (tool_use["type"], tool_use["input"]) == ("tool_use", {"city": "Oslo"})
        assert body["messages"][2]["content"][0]["type"] == "tool_result"
        assert result.text

    def test_max_tokens_always_sent(self, server: FaultServer) -> None:
        """Messages requires max_tokens: the option's default goes when a call sets none."""
        with make_provider(server, max_output_tokens="77").create_chat_model() as chat:
            chat.invoke("hi")
            chat.invoke("hi", ChatOptions(max_tokens=5))
        assert [r.body["max_tokens"] for r in posts(server)] == [77, 5]

    def test_overloaded_529_is_retried(self, server: FaultServer) -> None:
        """HTTP 529 overloaded_error is a retryable server_error: retried, then answered."""
        server.script(Fault.status(529), Fault.status(529))
        with make_provider(server, max_retries=2).create_chat_model() as chat:
            assert chat.invoke("hi").text == "Reference answer to: hi"
        assert [r.status for r in posts(server)] == [529, 529, 200]

    def test_error_event_mid_stream_is_raised_not_retried(self, server: FaultServer) -> None:
        """An error event after content raises a retryable server_error; no silent retry."""
        server.set_default(Fault.failed_stream())
        with (
            make_provider(server, max_retries=2).create_chat_model() as chat,
            pytest.raises(ChatModelError) as info,
        ):
            list(chat.stream("hi"))
        assert (info.value.code, info.value.retryable) == (ErrorCode.SERVER_ERROR, True)
        assert "overloaded_error" in str(info.value)
        assert len(posts(server)) == 1

    def test_cut_stream_is_invalid(self, server: FaultServer) -> None:
        """A stream that ends before message_stop is invalid_response, never a short answer."""
        server.set_default(Fault.cut_stream(after_chunks=3))
        with (
            make_provider(server, max_retries=0).create_chat_model() as chat,
            pytest.raises(ChatModelError) as info,
        ):
            merge_chunks(chat.stream("hello there"))
        assert info.value.code in (ErrorCode.INVALID_RESPONSE, ErrorCode.NETWORK)

    def test_incomplete_is_length(self, server: FaultServer) -> None:
        """stop_reason max_tokens is finish reason length, streamed or not."""
        server.set_default(Fault.incomplete())
        with make_provider(server).create_chat_model() as chat:
            assert chat.invoke("hi").finish_reason.value == "length"
            assert merge_chunks(chat.stream("hi")).finish_reason.value == "length"


class TestEndpoint:
    def test_refusals_use_the_messages_envelope(self, server: FaultServer) -> None:
        """A request without max_tokens is a 400 invalid_request_error in Messages' envelope."""
        body = {"model": "reference-echo", "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(f"{server.url}/messages", json=body)
        assert response.status_code == 400
        error = response.json()
        assert (error["type"], error["error"]["type"]) == ("error", "invalid_request_error")
        assert "max_tokens" in error["error"]["message"]

    def test_status_faults_name_their_type(self, server: FaultServer) -> None:
        """A scripted 529 answers overloaded_error, with Retry-After when asked."""
        server.set_default(Fault.status(529, retry_after=2))
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(f"{server.url}/messages", json=body)
        assert response.status_code == 529
        assert response.json()["error"]["type"] == "overloaded_error"
        assert response.headers["retry-after"] == "2"

    def test_chat_defect_is_refused_here(self, server: FaultServer) -> None:
        """A chat-completions wire defect is a 400 naming the Messages defects."""
        server.set_default(Fault.wire("no_choice_index"))
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        response = httpx.post(f"{server.url}/messages", json=body)
        assert response.status_code == 400
        assert "start_not_first" in response.json()["error"]["message"]
