"""Requirements that rely on side signals check them first: a missing signal is inconclusive."""

from __future__ import annotations

import pytest

from chatmodels.conformance.suites._evidence import unrepeatable, usage_unusable
from chatmodels.messages import ChatResult, Message, Usage

_SMALL_LOAD = [
    arg
    for value in (
        "conc_threads=8",
        "conc_calls_per_thread=2",
        "conc_async_tasks=16",
        "conc_timeout=20",
    )
    for arg in ("--chatmodels-setting", value)
]


def _result(input_tokens: int | None, text: str = "hi") -> ChatResult:
    usage = None if input_tokens is None else Usage(input_tokens, 1)
    return ChatResult(Message.assistant(text), "stop", "m", "r", usage)


class TestUsageEvidence:
    def test_growing_usage_is_usable(self) -> None:
        """Input tokens that grow with the input are evidence."""
        assert usage_unusable(lambda prompt: _result(len(prompt.split()))) is None

    @pytest.mark.parametrize("tokens", [0, 7])
    def test_constant_usage_is_not(self, tokens: int) -> None:
        """Constant or zero usage cannot tell requests apart, and the reason quotes both counts."""
        reason = usage_unusable(lambda prompt: _result(tokens))
        assert reason is not None
        assert f"billed {tokens} input tokens" in reason
        assert "does not grow" in reason

    def test_missing_usage_is_not(self) -> None:
        """No usage at all is named as such."""
        assert "reported no usage" in (usage_unusable(lambda prompt: _result(None)) or "")

    def test_a_failing_probe_is_framed(self) -> None:
        """A probe that raises says what it raised instead of crashing the check."""

        def fail(prompt: str) -> ChatResult:
            raise KeyError(prompt[:5])

        assert "raised a bare KeyError" in (usage_unusable(fail) or "")


class TestDeterminismEvidence:
    def test_the_same_answer_twice_is_usable(self) -> None:
        """Two equal answers alone confirm that answers can be compared."""
        assert unrepeatable(_result(3), lambda: _result(3), "invoke", repr) is None

    def test_different_answers_alone_are_not(self) -> None:
        """Answers that vary alone make comparison meaningless, and the reason shows both."""
        reason = unrepeatable(_result(3, "a"), lambda: _result(3, "b"), "invoke", lambda r: r)
        assert reason is not None
        assert "differently on two calls alone" in reason


class TestVerdictsOnMissingEvidence:
    def test_constant_usage_is_inconclusive_not_failed(self, run_conformance) -> None:
        """Constant usage fails USAGE-002 only; BATCH-001 and CONC-002 are inconclusive."""
        run = run_conformance(
            "broken_evidence:ConstantUsage",
            "--chatmodels-requirements",
            "BATCH-001,CONC-002,USAGE-002",
            *_SMALL_LOAD,
        )
        assert run.statuses == {
            "BATCH-001": "inconclusive",
            "CONC-002": "inconclusive",
            "USAGE-002": "failed",
        }, run.messages
        for requirement in ("BATCH-001", "CONC-002"):
            assert any("does not grow" in m for m in run.messages[requirement]), run.messages
        assert not any("another caller" in m for m in run.messages["CONC-002"])

    def test_truncated_stream_is_stream_001_not_cross_talk(self, run_conformance) -> None:
        """A stream that loses its last delta fails STREAM-001; CONC-002 compares it like with
        like (a stream alone) and passes."""
        run = run_conformance(
            "broken_evidence:DropsLastDelta",
            "--chatmodels-requirements",
            "STREAM-001,CONC-002",
            *_SMALL_LOAD,
        )
        assert run.statuses == {"STREAM-001": "failed", "CONC-002": "passed"}, run.messages

    def test_reference_passes_with_its_evidence(self, run_conformance) -> None:
        """The reference's usage grows and it is deterministic: BATCH-001 and CONC-002 pass."""
        run = run_conformance(None, "--chatmodels-requirements", "BATCH-001,CONC-002", *_SMALL_LOAD)
        assert run.statuses == {"BATCH-001": "passed", "CONC-002": "passed"}, run.messages
