"""The fault hook (provider option ``fault_code``) of the bundled providers."""

from __future__ import annotations

import asyncio

import pytest

from chatmodels.errors import (
    RETRYABLE_CODES,
    UPSTREAM_CODES,
    ChatModelError,
    ErrorCode,
    InvalidConfigError,
)
from chatmodels.provider import HealthState
from chatmodels.providers.openai import OpenAIProvider
from chatmodels.providers.reference import ReferenceProvider

#: Nothing listens here: a call that reached the network would fail with code network.
_NOWHERE = "http://127.0.0.1:9/v1"


def _openai(code: ErrorCode | str, **options: object) -> OpenAIProvider:
    return OpenAIProvider({"base_url": _NOWHERE, "fault_code": code, **options})


class TestOpenAIFaultHook:
    @pytest.mark.parametrize("code", UPSTREAM_CODES, ids=lambda c: c.value)
    def test_every_call_fails_with_the_upstream_code(self, code: ErrorCode) -> None:
        """invoke, stream and ainvoke fail with *code*, retryable as the code says."""
        model = _openai(code, max_retries=0).create_chat_model("m")
        calls = {
            "invoke": lambda: model.invoke("hi"),
            "stream": lambda: list(model.stream("hi")),
            "ainvoke": lambda: asyncio.run(model.ainvoke("hi")),
        }
        with model:
            for name, call in calls.items():
                with pytest.raises(ChatModelError) as caught:
                    call()
                assert caught.value.code is code, (name, caught.value)
                assert caught.value.retryable is (code in RETRYABLE_CODES), (name, caught.value)
                assert caught.value.op == name

    def test_the_fault_goes_through_the_providers_retries(self) -> None:
        """A hooked 500 is retried like a real one, then surfaces as server_error."""
        model = _openai("server_error", max_retries=2, backoff_base=0).create_chat_model("m")
        with model, pytest.raises(ChatModelError) as caught:
            model.invoke("hi")
        assert caught.value.code is ErrorCode.SERVER_ERROR

    def test_health_is_unhealthy_while_the_upstream_fails(self) -> None:
        """The health check meets the same failing upstream."""
        with _openai("server_error").create_chat_model("m") as model:
            assert model.health_check().status is HealthState.UNHEALTHY

    @pytest.mark.parametrize("value", ["closed", "teapot", 429])
    def test_a_code_no_upstream_gives_is_refused(self, value: object) -> None:
        """The option names the bad value and the codes it takes."""
        with pytest.raises(InvalidConfigError, match="'fault_code' must be 'none' or one of"):
            _openai(value)  # type: ignore[arg-type]

    def test_none_turns_the_hook_off(self) -> None:
        """'none' is the default: calls go to the network."""
        assert _openai("none").settings.fault_code is None


class TestReferenceFaultHook:
    @pytest.mark.parametrize("code", UPSTREAM_CODES, ids=lambda c: c.value)
    def test_every_call_fails_with_the_code(self, code: ErrorCode) -> None:
        """The reference offers the same hook, with fault_rate 1 by default."""
        provider = ReferenceProvider({"fault_code": code.value, "latency": 0})
        with provider.create_chat_model() as model, pytest.raises(ChatModelError) as caught:
            model.invoke("hi")
        assert caught.value.code is code
