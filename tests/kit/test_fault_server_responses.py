"""Tests of the fault server's ``/v1/responses``, observed with raw httpx and judged by the
Open Responses schema the kit ships."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatmodels.conformance._responses_schema import event_problems, response_problems
from chatmodels.conformance.faults import (
    FAULT_HEADER,
    RESPONSES_WIRE_DEFECTS,
    Fault,
    FaultError,
    FaultServer,
)

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Look up the weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TEXT: dict[str, Any] = {"model": "reference-echo", "input": "Say hello in three words."}
TOOL: dict[str, Any] = {
    "model": "reference-echo",
    "input": [{"type": "message", "role": "user", "content": "Weather in Paris?"}],
    "tools": [WEATHER],
    "tool_choice": {"type": "function", "name": "get_weather"},
}


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


@pytest.fixture
def client(server: FaultServer) -> Iterator[httpx.Client]:
    server.set_default(None)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def events(response: httpx.Response) -> list[dict[str, Any]]:
    found = []
    for line in response.text.splitlines():
        if line.startswith("data: "):
            found.append(json.loads(line[len("data: ") :]))
    return found


def stream(client: httpx.Client, body: dict[str, Any], fault: str = "") -> list[dict[str, Any]]:
    headers = {FAULT_HEADER: fault} if fault else {}
    answer = client.post("/responses", json={**body, "stream": True}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/event-stream")
    return events(answer)


class TestAnswers:
    @pytest.mark.parametrize("body", [TEXT, TOOL], ids=["text", "tool"])
    def test_whole_answer_matches_the_spec(self, client, body):
        """A whole answer is a response object the spec's schema accepts, with usage."""
        answer = client.post("/responses", json=body).json()
        assert [str(p) for p in response_problems(answer)] == []
        assert answer["status"] == "completed"
        assert answer["usage"]["total_tokens"] > 0

    def test_unknown_model_gets_404_in_the_envelope(self, client):
        """A model the server does not serve is a 404 with the error envelope, as on the other
        endpoints, not a 500."""
        answer = client.post("/responses", json={**TEXT, "model": "no-such-model"})
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "model_not_found"

    def test_structured_answer_fits_and_echo_validates(self, client):
        """A json_schema request gets JSON fitting the schema; the echoed format follows the
        spec, whose response object keeps no schema."""
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        shape = {"type": "json_schema", "name": "n", "schema": schema, "strict": True}
        answer = client.post("/responses", json={**TEXT, "text": {"format": shape}}).json()
        assert [str(p) for p in response_problems(answer)] == []
        assert answer["text"]["format"]["schema"] is None
        value = json.loads(answer["output"][0]["content"][0]["text"])
        assert isinstance(value["n"], int)

    def test_text_answer_is_the_reference_answer(self, client):
        """The text is the reference model's answer to the same prompt."""
        answer = client.post("/responses", json=TEXT).json()
        item = answer["output"][0]
        assert item["content"][0]["text"] == "Reference answer to: Say hello in three words."

    @pytest.mark.parametrize("body", [TEXT, TOOL], ids=["text", "tool"])
    def test_stream_events_match_the_spec(self, client, body):
        """Every event validates, numbers rise from 0, and response.completed alone ends it."""
        seen = stream(client, body)
        assert [str(p) for e in seen for p in event_problems(e)] == []
        assert [e["sequence_number"] for e in seen] == list(range(len(seen)))
        assert [e["type"] for e in seen][-1] == "response.completed"

    def test_streamed_arguments_add_up(self, client):
        """Argument deltas concatenate to the done event's and the whole answer's arguments."""
        seen = stream(client, TOOL)
        joined = "".join(
            e["delta"] for e in seen if e["type"] == "response.function_call_arguments.delta"
        )
        done = next(e for e in seen if e["type"] == "response.function_call_arguments.done")
        whole = client.post("/responses", json=TOOL).json()["output"][0]["arguments"]
        assert joined == done["arguments"] == whole
        assert json.loads(joined) == {"city": "Weather in Paris?"}

    def test_length_limit_is_incomplete(self, client):
        """An answer cut by max_output_tokens is status incomplete, reason max_output_tokens."""
        answer = client.post("/responses", json={**TEXT, "max_output_tokens": 2}).json()
        assert answer["status"] == "incomplete"
        assert answer["incomplete_details"] == {"reason": "max_output_tokens"}

    def test_bad_request_names_the_field(self, client):
        """A request without input is refused with 400 naming input and what was expected."""
        answer = client.post("/responses", json={"model": "reference-echo"})
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["param"] == "input"
        assert "string or a list of items" in error["message"]


class TestFaults:
    @pytest.mark.parametrize(
        ("fault", "status"), [("failed_stream", "failed"), ("incomplete", "incomplete")]
    )
    def test_protocol_faults_end_the_stream(self, client, fault, status):
        """failed_stream and incomplete end a valid stream with response.failed / .incomplete."""
        seen = stream(client, TEXT, fault)
        assert seen[-1]["type"] == f"response.{status}"
        assert seen[-1]["response"]["status"] == status
        assert [str(p) for e in seen for p in event_problems(e)] == []

    def test_failed_whole_answer_carries_the_error(self, client):
        """Without a stream, failed_stream answers a response whose status is failed."""
        headers = {FAULT_HEADER: Fault.failed_stream().header()}
        answer = client.post("/responses", json=TEXT, headers=headers).json()
        assert answer["status"] == "failed"
        assert answer["error"]["code"] == "server_error"

    def test_chat_completions_refuses_a_responses_fault(self, client):
        """/v1/chat/completions answers 400 to a fault only /v1/responses plays."""
        body = {"model": "reference-echo", "messages": [{"role": "user", "content": "hi"}]}
        answer = client.post("/chat/completions", json=body, headers={FAULT_HEADER: "incomplete"})
        assert answer.status_code == 400
        assert "applies to /v1/responses only" in answer.json()["error"]["message"]

    def test_responses_refuses_a_chat_defect(self, client):
        """/v1/responses answers 400 to a chat-completions wire defect, listing its own."""
        headers = {FAULT_HEADER: Fault.wire("no_done").header()}
        answer = client.post("/responses", json=TEXT, headers=headers)
        assert answer.status_code == 400
        assert "short_call_arguments" in answer.json()["error"]["message"]

    def test_cut_stream_drops_the_terminal_event(self, client):
        """cut_stream sends the first events, then closes without a terminal one."""
        seen = stream(client, TEXT, Fault.cut_stream(after_chunks=3).header())
        assert [e["type"] for e in seen] == [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
        ]

    def test_status_fault_uses_the_error_envelope(self, client):
        """A scripted 429 answers the error envelope with Retry-After."""
        headers = {FAULT_HEADER: Fault.status(429, retry_after=2).header()}
        answer = client.post("/responses", json=TEXT, headers=headers)
        assert answer.status_code == 429
        assert answer.headers["retry-after"] == "2.0"
        assert answer.json()["error"]["type"] == "rate_limit_exceeded"

    def test_responses_defects_are_wire_faults(self):
        """Each Responses defect builds a wire Fault; an unknown one is refused by name."""
        for defect in RESPONSES_WIRE_DEFECTS:
            assert Fault.wire(defect).defect == defect
        with pytest.raises(FaultError, match="short_call_arguments"):
            Fault.wire("no_such_defect")


class TestDefects:
    def test_shuffled_sequence_breaks_only_the_order(self, client):
        """shuffled_sequence keeps every event valid but two numbers run backwards."""
        seen = stream(client, TEXT, "wire;defect=shuffled_sequence")
        numbers = [e["sequence_number"] for e in seen]
        assert numbers != sorted(numbers)
        assert sorted(numbers) == list(range(len(seen)))
        assert [str(p) for e in seen for p in event_problems(e)] == []

    def test_two_terminals_sends_failed_then_completed(self, client):
        """two_terminals sends response.failed, then response.completed."""
        kinds = [e["type"] for e in stream(client, TEXT, "wire;defect=two_terminals")]
        assert kinds[-2:] == ["response.failed", "response.completed"]

    def test_delta_before_added_moves_the_opening(self, client):
        """delta_before_added sends a text delta before its item's output_item.added."""
        kinds = [e["type"] for e in stream(client, TEXT, "wire;defect=delta_before_added")]
        assert kinds.index("response.output_text.delta") < kinds.index("response.output_item.added")

    def test_short_call_arguments_no_longer_add_up(self, client):
        """short_call_arguments drops a character from the argument deltas only."""
        seen = stream(client, TOOL, "wire;defect=short_call_arguments")
        joined = "".join(
            e["delta"] for e in seen if e["type"] == "response.function_call_arguments.delta"
        )
        done = next(e for e in seen if e["type"] == "response.function_call_arguments.done")
        assert joined + "}" == done["arguments"]
