"""Tests of the fault-injecting OpenAI-compatible server, observed with raw httpx."""

from __future__ import annotations

import argparse
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatmodels.conformance.faults import (
    FAULT_HEADER,
    Fault,
    FaultError,
    FaultServer,
    parse_fault,
)
from chatmodels.conformance.faults.cli import add_serve_command, run_serve
from chatmodels.providers.reference import ReferenceProvider

BODY: dict[str, Any] = {
    "model": "reference-echo",
    "messages": [{"role": "user", "content": "hello fault server"}],
}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def client(server: FaultServer) -> Iterator[httpx.Client]:
    server.set_default(None)
    server.reset_log()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


class TestFault:
    def test_constructors_set_kind_and_parameters(self) -> None:
        """Each convenience constructor builds the fault kind it is named for."""
        assert Fault.status(429, retry_after=1) == Fault("status", status=429, retry_after=1)
        assert Fault.status(503).status == 503
        assert Fault.latency(0.5).delay == 0.5
        assert Fault.cut_stream(after_chunks=3).after_chunks == 3
        assert Fault.huge_body(size=10).size == 10
        kinds = [
            Fault.ok(),
            Fault.drip(0.1),
            Fault.malformed_json(),
            Fault.wrong_content_type(),
            Fault.reset(),
            Fault.empty_200(),
        ]
        assert [f.kind for f in kinds] == [
            "ok",
            "drip",
            "malformed_json",
            "wrong_content_type",
            "reset",
            "empty_200",
        ]

    def test_header_round_trips(self) -> None:
        """A fault written as a header value reads back as the same fault."""
        for fault in (Fault.status(429, retry_after=2.0), Fault.cut_stream(2), Fault.drip(0.25)):
            assert parse_fault(fault.header()) == fault

    @pytest.mark.parametrize(
        "bad",
        [
            {"kind": "explode"},
            {"kind": "status", "status": 42},
            {"kind": "latency", "delay": -1.0},
            {"kind": "cut_stream", "after_chunks": -1},
        ],
    )
    def test_bad_faults_are_refused(self, bad: dict[str, Any]) -> None:
        """An unknown kind or an out-of-range parameter raises FaultError naming it."""
        with pytest.raises(FaultError, match=r"Fault\."):
            Fault(**bad)

    def test_bad_header_parameter_is_refused(self) -> None:
        """A header parameter with an unknown name or a bad value raises FaultError."""
        with pytest.raises(FaultError, match="colour"):
            parse_fault("status;colour=red")
        with pytest.raises(FaultError, match="status"):
            parse_fault("status;status=abc")


class TestAnswers:
    def test_completion_matches_reference(self, client: httpx.Client) -> None:
        """A normal request gets the reference model's answer as a chat.completion."""
        data = client.post("/chat/completions", json=BODY).json()
        expected = ReferenceProvider({"latency": 0}).create_chat_model().invoke(BODY["messages"])
        choice = data["choices"][0]
        assert choice["message"]["content"] == expected.text
        assert choice["finish_reason"] == "stop"
        assert data["usage"]["prompt_tokens"] == expected.usage.input_tokens
        assert data["usage"]["total_tokens"] == expected.usage.total_tokens
        assert data["object"] == "chat.completion"
        assert data["model"] == "reference-echo"

    def test_stream_ends_with_usage_and_done(self, client: httpx.Client) -> None:
        """A stream request gets SSE chunks, a finish chunk, a usage chunk and [DONE]."""
        response = client.post("/chat/completions", json=STREAM_BODY)
        assert response.headers["content-type"].startswith("text/event-stream")
        payloads = sse_payloads(response.text)
        assert payloads[-1] == "[DONE]"
        events = [json.loads(p) for p in payloads[:-1]]
        text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
        assert text == "Reference answer to: hello fault server"
        assert events[-2]["choices"][0]["finish_reason"] == "stop"
        assert events[-1]["choices"] == []
        assert events[-1]["usage"]["completion_tokens"] > 0

    def test_models_and_health(self, server: FaultServer, client: httpx.Client) -> None:
        """GET /v1/models lists the reference models and GET /health answers ok."""
        models = client.get("/models").json()
        assert [m["id"] for m in models["data"]] == ["reference-echo", "reference-echo-alt"]
        health = client.get(server.url.removesuffix("/v1") + "/health")
        assert health.json() == {"status": "ok"}

    @pytest.mark.parametrize(
        ("raw", "needle"),
        [
            (b"{not json", "not valid JSON"),
            (json.dumps({**BODY, "messages": []}).encode(), "messages"),
            (
                json.dumps({**BODY, "messages": [{"role": "wizard", "content": "hi"}]}).encode(),
                "role",
            ),
            (json.dumps({**BODY, "temperature": 2.5}).encode(), "temperature"),
            (json.dumps({**BODY, "temperature": -0.1}).encode(), "temperature"),
            (json.dumps({**BODY, "max_tokens": 0}).encode(), "max_tokens"),
        ],
    )
    def test_invalid_requests_get_400(self, client: httpx.Client, raw: bytes, needle: str) -> None:
        """Requests a real server would refuse get 400 with an OpenAI-style error body."""
        response = client.post(
            "/chat/completions", content=raw, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert needle in response.json()["error"]["message"]

    def test_reference_input_errors_map_to_400(self, client: httpx.Client) -> None:
        """An InvalidInputError from the reference model becomes HTTP 400."""
        body = {**BODY, "messages": [{"role": "user", "content": ""}]}
        assert client.post("/chat/completions", json=body).status_code == 400

    def test_unknown_model_gets_404(self, client: httpx.Client) -> None:
        """A model the reference provider does not serve gets 404."""
        response = client.post("/chat/completions", json={**BODY, "model": "gpt-nope"})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "model_not_found"


class TestFaultKinds:
    def test_status_with_retry_after(self, server: FaultServer, client: httpx.Client) -> None:
        """A status fault answers that status, an error body and the Retry-After header."""
        server.script(Fault.status(429, retry_after=3))
        response = client.post("/chat/completions", json=BODY)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        assert "error" in response.json()

    def test_latency_delays_the_answer(self, server: FaultServer, client: httpx.Client) -> None:
        """A latency fault answers normally, no sooner than its delay."""
        server.script(Fault.latency(0.3))
        start = time.monotonic()
        response = client.post("/chat/completions", json=BODY)
        assert time.monotonic() - start >= 0.3
        assert response.json()["choices"][0]["finish_reason"] == "stop"

    def test_drip_spaces_stream_events(self, server: FaultServer, client: httpx.Client) -> None:
        """A drip fault sends each SSE event at least its delay after the previous one."""
        server.script(Fault.drip(0.05))
        arrivals = []
        start = time.monotonic()
        with client.stream("POST", "/chat/completions", json=STREAM_BODY) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    arrivals.append(time.monotonic())
        gaps = sorted(b - a for a, b in itertools.pairwise(arrivals))
        assert len(gaps) >= 4
        assert arrivals[-1] - start >= 0.05 * (len(arrivals) - 1)
        assert gaps[len(gaps) // 2] >= 0.025

    def test_malformed_json(self, server: FaultServer, client: httpx.Client) -> None:
        """A malformed_json fault answers 200 application/json that does not parse."""
        server.script(Fault.malformed_json())
        response = client.post("/chat/completions", json=BODY)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        with pytest.raises(ValueError):
            json.loads(response.content)

    def test_wrong_content_type(self, server: FaultServer, client: httpx.Client) -> None:
        """A wrong_content_type fault answers 200 text/html."""
        server.script(Fault.wrong_content_type())
        response = client.post("/chat/completions", json=STREAM_BODY)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")

    def test_cut_stream_stops_early(self, server: FaultServer, client: httpx.Client) -> None:
        """A cut_stream fault sends N events, then no finish reason and no [DONE]."""
        server.script(Fault.cut_stream(after_chunks=2))
        payloads = sse_payloads(client.post("/chat/completions", json=STREAM_BODY).text)
        assert len(payloads) == 2
        assert "[DONE]" not in payloads
        assert all(json.loads(p)["choices"][0]["finish_reason"] is None for p in payloads)

    def test_cut_body_is_incomplete(self, server: FaultServer, client: httpx.Client) -> None:
        """A cut_stream fault on a plain request closes before the announced length."""
        server.script(Fault.cut_stream())
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/chat/completions", json=BODY)

    def test_reset_aborts_the_connection(self, server: FaultServer, client: httpx.Client) -> None:
        """A reset fault drops the connection before any answer."""
        server.script(Fault.reset())
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/chat/completions", json=BODY)
        assert server.requests[-1].status is None

    def test_huge_body_is_valid(self, server: FaultServer, client: httpx.Client) -> None:
        """A huge_body fault answers a correct completion of at least the given size."""
        server.script(Fault.huge_body(size=3_000_000))
        response = client.post("/chat/completions", json=BODY)
        assert len(response.content) > 3_000_000
        assert response.json()["choices"][0]["message"]["content"].startswith("Reference")

    def test_empty_200(self, server: FaultServer, client: httpx.Client) -> None:
        """An empty_200 fault answers 200 with no body."""
        server.script(Fault.empty_200())
        response = client.post("/chat/completions", json=BODY)
        assert (response.status_code, response.content) == (200, b"")


class TestScripting:
    def test_plan_then_normal(self, server: FaultServer, client: httpx.Client) -> None:
        """Scripted faults apply to the next requests in order, then answers are normal."""
        server.script(Fault.status(500), Fault.status(503))
        codes = [client.post("/chat/completions", json=BODY).status_code for _ in range(3)]
        assert codes == [500, 503, 200]
        assert [r.fault for r in server.requests] == ["status", "status", "ok"]
        assert [r.status for r in server.requests] == [500, 503, 200]

    def test_header_scripts_one_request(self, client: httpx.Client) -> None:
        """The fault header applies to its own request only."""
        headers = {FAULT_HEADER: "status;status=429;retry_after=1"}
        first = client.post("/chat/completions", json=BODY, headers=headers)
        second = client.post("/chat/completions", json=BODY)
        assert (first.status_code, first.headers["retry-after"]) == (429, "1.0")
        assert second.status_code == 200

    def test_bad_header_gets_400(self, client: httpx.Client) -> None:
        """An unreadable fault header is the client's error: 400 naming the problem."""
        response = client.post("/chat/completions", json=BODY, headers={FAULT_HEADER: "boom"})
        assert response.status_code == 400
        assert "boom" in response.json()["error"]["message"]

    def test_default_applies_until_cleared(self, server: FaultServer, client: httpx.Client) -> None:
        """set_default plays a fault for every request until set back to None."""
        server.set_default(Fault.status(502))
        assert client.post("/chat/completions", json=BODY).status_code == 502
        assert client.post("/chat/completions", json=BODY).status_code == 502
        server.set_default(None)
        assert client.post("/chat/completions", json=BODY).status_code == 200

    def test_a_default_outage_takes_the_model_list_down(
        self, server: FaultServer, client: httpx.Client
    ) -> None:
        """A default status or reset is a whole-server outage; other faults leave /models up."""
        server.set_default(Fault.status(500))
        assert client.get("/models").status_code == 500
        server.set_default(Fault.reset())
        with pytest.raises(httpx.TransportError):
            client.get("/models")
        server.set_default(Fault.malformed_json())
        assert client.get("/models").status_code == 200
        server.set_default(None)
        assert client.get("/models").status_code == 200

    def test_log_counts_and_resets(self, server: FaultServer, client: httpx.Client) -> None:
        """The request log records every request with its body and stream flag."""
        client.post("/chat/completions", json=BODY)
        client.post("/chat/completions", json=STREAM_BODY)
        log = server.requests
        assert [(r.path, r.stream) for r in log] == [
            ("/v1/chat/completions", False),
            ("/v1/chat/completions", True),
        ]
        assert log[0].body == BODY
        assert log[0].time <= log[1].time
        server.reset_log()
        assert server.requests == []

    def test_random_faults_are_seeded(self) -> None:
        """With fault_rate > 0 the same seed plays the same faults in the same order."""
        faults = (Fault.status(500), Fault.status(503), Fault.ok())

        def codes() -> list[int]:
            with (
                FaultServer(fault_rate=0.7, fault_seed=7, random_faults=faults) as server,
                httpx.Client(base_url=server.url) as http,
            ):
                return [http.post("/chat/completions", json=BODY).status_code for _ in range(20)]

        first = codes()
        assert first == codes()
        assert len(set(first)) >= 2
        assert set(first) <= {500, 503, 200}


class TestLifecycle:
    def test_stop_leaves_nothing_behind(self) -> None:
        """stop() ends the server thread and closes the port."""
        baseline = threading.active_count()
        server = FaultServer().start()
        port = server.port
        assert threading.active_count() == baseline + 1
        with httpx.Client() as http:
            assert http.get(server.url + "/models").status_code == 200
        server.stop()
        server.stop()
        assert threading.active_count() == baseline
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        assert repr(server) == "<FaultServer stopped>"

    def test_non_loopback_host_is_refused(self) -> None:
        """The server refuses to listen anywhere but loopback."""
        with pytest.raises(FaultError, match="loopback"):
            FaultServer(host="0.0.0.0")

    def test_serve_command(self) -> None:
        """The serve subcommand parses its flags, refuses other hosts and stops by itself."""
        parser = argparse.ArgumentParser()
        add_serve_command(parser.add_subparsers())
        args = parser.parse_args(["serve", "--port", "0", "--duration", "0.2", "--seed", "3"])
        assert (args.host, args.seed, args.func) == ("127.0.0.1", 3, run_serve)
        baseline = threading.active_count()
        assert args.func(args) == 0
        assert threading.active_count() == baseline
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--host", "10.0.0.1"])
        with pytest.raises(SystemExit):
            parser.parse_args(["serve", "--fault-rate", "1.5"])
