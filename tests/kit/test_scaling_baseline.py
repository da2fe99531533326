"""PERF-005's baseline speaks the provider's own protocol to the provider's own server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatmodels.conformance.faults import FaultServer
from chatmodels.conformance.perfstats import CallProfile
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._scaling_baseline import baseline_for
from chatmodels.providers.anthropic import AnthropicProvider
from chatmodels.providers.openai import OpenAIProvider
from chatmodels.providers.reference import ReferenceProvider
from chatmodels.providers.responses import ResponsesProvider


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def _subject(name: str, provider, options: dict[str, str]) -> Subject:
    return Subject(name, "test", options, "reference-echo", provider=provider)


class TestBaseline:
    @pytest.mark.parametrize(
        ("name", "make", "path"),
        [
            ("openai", OpenAIProvider, "/v1/chat/completions"),
            ("responses", ResponsesProvider, "/v1/responses"),
            ("anthropic", AnthropicProvider, "/v1/messages"),
        ],
    )
    def test_http_provider_baseline_posts_its_protocol(self, server, name, make, path):
        """An HTTP provider is compared with raw httpx posting to its own endpoint, which
        answers 2xx (a baseline in another protocol would fail or measure something else)."""
        options = {"base_url": server.url, "model": "reference-echo", "api_key": "k"}
        subject = _subject(name, make(options), options)
        server.reset_log()
        with baseline_for(subject, "hello", CallProfile(cpu=0.001, wait=0.01), 16) as baseline:
            baseline.call()
        assert path in baseline.what
        assert [(r.path, r.status) for r in server.requests] == [(path, 200)]

    @pytest.mark.parametrize(
        ("name", "make", "limit"),
        [
            ("openai", OpenAIProvider, "max_tokens"),
            ("responses", ResponsesProvider, "max_output_tokens"),
            ("anthropic", AnthropicProvider, "max_tokens"),
        ],
    )
    def test_http_baseline_asks_for_the_providers_call_defaults(self, server, name, make, limit):
        """A baseline asks for as long an answer as the provider (a real model rambles
        without max_tokens, and its calls then outlast the provider's)."""
        options = {
            "base_url": server.url,
            "model": "reference-echo",
            "default.max_tokens": "7",
            "default.temperature": "0",
        }
        subject = _subject(name, make(options), options)
        server.reset_log()
        with baseline_for(subject, "hello", CallProfile(cpu=0.001, wait=0.01), 16) as baseline:
            baseline.call()
        [request] = server.requests
        assert request.status == 200
        assert request.body[limit] == 7
        assert request.body["temperature"] == 0

    def test_in_process_provider_gets_the_reference_baseline(self):
        """A provider without a base_url is compared with the reference provider waiting."""
        subject = _subject("reference", ReferenceProvider({}), {})
        with baseline_for(subject, "hello", CallProfile(cpu=0.0005, wait=0.02), 16) as baseline:
            assert baseline.what.startswith("the reference provider waiting")
