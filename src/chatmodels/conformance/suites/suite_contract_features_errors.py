"""Contract suite, part two: error shape (ERR) and health checks (HEALTH)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE
from chatmodels.conformance.suites._bounded import (
    CallOutcome,
    abounded,
    aread_stream,
    bounded,
    read_stream,
)
from chatmodels.conformance.suites._contract_features_support import (
    PLAIN_PROMPT,
    error_chain,
    error_problem,
    leaks,
)
from chatmodels.errors import RETRYABLE_CODES, ChatModelError
from chatmodels.provider import (
    Capability,
    ChatModel,
    HealthState,
    HealthStatus,
    Provider,
    ProviderMetadata,
)

#: Bad inputs every entry point must refuse with a ChatModelError (or answer).
BAD_INPUTS: tuple[tuple[str, Any, Any], ...] = (
    ("an empty conversation", [], None),
    ("an unknown role", [{"role": "robot", "content": "hi"}], None),
    ("an empty user message", [{"role": "user", "content": ""}], None),
    ("a message without content", [{"role": "user"}], None),
    ("a message without role", [{"content": "hi"}], None),
    ("a tool message without tool_call_id", [{"role": "tool", "content": "42"}], None),
    ("a message with an unknown key", [{"role": "user", "content": "hi", "mood": "x"}], None),
    ("non-text content", [{"role": "user", "content": 123}], None),
    ("a None message", [None], None),
    ("a number for messages", 42, None),
    ("a negative temperature", PLAIN_PROMPT, {"temperature": -1}),
    ("max_tokens=0", PLAIN_PROMPT, {"max_tokens": 0}),
    ("an unknown option", PLAIN_PROMPT, {"no_such_option": 1}),
    ("an unknown extra option", PLAIN_PROMPT, {"extra": {"no_such_extra_option": 1}}),
    ("options that are a string", PLAIN_PROMPT, "fast"),
    ("tool_choice naming no offered tool", PLAIN_PROMPT, {"tool_choice": "no_such_tool"}),
    ("an empty tool name", PLAIN_PROMPT, {"tools": [{"name": ""}]}),
    ("response_format 'xml'", PLAIN_PROMPT, {"response_format": "xml"}),
    ("stop that is a number", PLAIN_PROMPT, {"stop": 5}),
    ("tools that is a number", PLAIN_PROMPT, {"tools": 5}),
    ("a tool with unknown keys", PLAIN_PROMPT, {"tools": [{"nom": "x"}]}),
    ("tool_calls that is a number", [{"role": "assistant", "tool_calls": 5}], None),
    ("a malformed tool call", [{"role": "assistant", "tool_calls": [{"bad": 1}]}], None),
)

Call = Callable[[ChatModel, Any, Any, str], CallOutcome[Any]]


def _invoke(m: ChatModel, msgs: Any, opts: Any, what: str) -> CallOutcome[Any]:
    return bounded(lambda: m.invoke(msgs, opts), what)


def _ainvoke(m: ChatModel, msgs: Any, opts: Any, what: str) -> CallOutcome[Any]:
    return abounded(lambda: m.ainvoke(msgs, opts), what)


def _stream(m: ChatModel, msgs: Any, opts: Any, what: str) -> CallOutcome[Any]:
    return bounded(lambda: read_stream(m.stream(msgs, opts)), what)


def _astream(m: ChatModel, msgs: Any, opts: Any, what: str) -> CallOutcome[Any]:
    return abounded(lambda: aread_stream(m.astream(msgs, opts)), what)


def _batch(m: ChatModel, msgs: Any, opts: Any, what: str) -> CallOutcome[Any]:
    return bounded(lambda: m.batch([msgs], opts), what)


ENTRY_POINTS: dict[str, tuple[Call, Capability | None]] = {
    "invoke": (_invoke, None),
    "ainvoke": (_ainvoke, Capability.ASYNC),
    "stream": (_stream, Capability.STREAMING),
    "astream": (_astream, Capability.STREAMING),
    "batch": (_batch, Capability.BATCH),
}


def _raised(outcome: CallOutcome[Any]) -> list[BaseException]:
    """The exceptions a call produced: raised, or held at a batch index."""
    if outcome.error is not None:
        return [outcome.error]
    if isinstance(outcome.value, list):
        return [item for item in outcome.value if isinstance(item, BaseException)]
    return []


def provoke(model: ChatModel, metadata: ProviderMetadata) -> list[tuple[str, BaseException]]:
    """Feed every bad input to every declared entry point; return what each raised."""
    found: list[tuple[str, BaseException]] = []
    for entry, (call, capability) in ENTRY_POINTS.items():
        if capability is not None and not metadata.supports(capability):
            continue
        for label, messages, options in BAD_INPUTS:
            where = f"{entry}() with {label}"
            outcome = call(model, messages, options, where)
            if not outcome.finished:
                raise AssertionError(outcome.hang_message())
            found.extend((where, exc) for exc in _raised(outcome))
    return found


@pytest.mark.requirement("ERR-001")
def test_bad_input_raises_only_chat_model_errors(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Bad messages and options raise ChatModelErrors with op and code from every entry point."""
    problems = [
        f"{where} {problem}"
        for where, exc in provoke(chatmodels_chat_model, chatmodels_provider_metadata)
        if (problem := error_problem(exc)) is not None
    ]
    assert not problems, f"{len(problems)} bad error(s): " + "; ".join(problems[:5])


def _retryable_problems(errors: list[tuple[str, BaseException]]) -> list[str]:
    return [
        f"{where} raised code {exc.code.value!r} with retryable={exc.retryable!r}; expected "
        f"{exc.code in RETRYABLE_CODES!r}"
        for where, exc in errors
        if isinstance(exc, ChatModelError) and exc.retryable != (exc.code in RETRYABLE_CODES)
    ]


@pytest.mark.requirement("ERR-002")
def test_retryable_matches_code_on_bad_input(
    chatmodels_chat_model: ChatModel, chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """Every error provoked by bad input is retryable exactly when its code is retryable."""
    errors = provoke(chatmodels_chat_model, chatmodels_provider_metadata)
    assert errors, "no bad input raised an error; expected at least an empty conversation to fail"
    problems = _retryable_problems(errors)
    assert not problems, "; ".join(problems[:5])


@pytest.mark.requirement("ERR-002")
def test_retryable_matches_code_on_closed_and_timeout(
    chatmodels_make_chat_model: Callable[..., ChatModel],
    chatmodels_provider_metadata: ProviderMetadata,
) -> None:
    """A timed-out call and a call after close raise errors retryable as their codes say."""
    model = chatmodels_make_chat_model()
    errors: list[tuple[str, BaseException]] = []
    if chatmodels_provider_metadata.supports(Capability.TIMEOUT):
        outcome = _invoke(model, PLAIN_PROMPT, {"timeout": 1e-6}, "invoke() with timeout=1e-6")
        errors.extend(("invoke() with timeout=1e-6", e) for e in _raised(outcome))
    bounded(model.close, "close()")
    outcome = _invoke(model, PLAIN_PROMPT, None, "invoke() after close")
    errors.extend(("invoke() after close", e) for e in _raised(outcome))
    if not errors:
        pytest.skip("neither a tiny timeout nor a call after close raised an error")
    problems = _retryable_problems(errors)
    assert not problems, "; ".join(problems)


_CANARY = "sk-conformance-canary-5e2b9d71"


def _secret_leaks(
    model: ChatModel,
    provider: Provider,
    name: str,
    make_provider: Callable[..., Provider],
) -> list[str]:
    found = [
        f"repr({what})"
        for what, obj in (("provider", provider), ("model", model))
        if _CANARY in repr(obj)
    ]
    errors = provoke(model, model.metadata)
    errors.extend(
        ("invoke() with an unknown option", e)
        for e in _raised(_invoke(model, PLAIN_PROMPT, {"bogus": 1}, "invoke() with bogus=1"))
    )
    try:
        make_provider({name: _CANARY, "conformance_no_such_option": "1"})
    except ChatModelError as exc:
        errors.append(("re-creating the provider with an unknown option", exc))
    except pytest.skip.Exception:
        pass
    for where, error in errors:
        for link in error_chain(error):
            if leaks(_CANARY, str(link), repr(link)):
                found.append(f"the {type(link).__name__} raised by {where}")
    return found


@pytest.mark.requirement("ERR-003")
def test_errors_and_reprs_hide_secret_options(
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_make_provider: Callable[..., Provider],
    chatmodels_chat_model: ChatModel,
) -> None:
    """With each declared secret option set to a canary, no error or repr shows the canary."""
    names = chatmodels_provider_metadata.secret_options
    if not names:
        pytest.skip(f"provider {chatmodels_provider_metadata.name!r} declares no secret_options")
    found: list[str] = []
    for name in names:
        try:
            provider = chatmodels_make_provider({name: _CANARY})
            model = provider.create_chat_model(chatmodels_chat_model.model)
        except ChatModelError as exc:
            if any(leaks(_CANARY, str(e), repr(e)) for e in error_chain(exc)):
                found.append(f"the error creating the provider with {name}=<canary>")
                continue
            pytest.skip(f"cannot create the provider with {name}=<canary>: {exc}")
        try:
            found.extend(
                f"{where} (option {name!r})"
                for where in _secret_leaks(model, provider, name, chatmodels_make_provider)
            )
        finally:
            bounded(model.close, "close()")
    assert not found, (
        "the secret option's value appears in "
        + "; ".join(found[:5])
        + "; expected secrets never to be printed"
    )


def _health(
    target: ChatModel | Provider, timeout: float, what: str
) -> tuple[CallOutcome[Any], str]:
    name = f"{what}.health_check()"
    return bounded(target.health_check, name, timeout), name


@pytest.fixture(params=["model", "provider"])
def health_target(
    request: pytest.FixtureRequest, chatmodels_chat_model: ChatModel
) -> tuple[ChatModel | Provider, str]:
    """The model, or the provider, whose health check is probed."""
    if request.param == "model":
        return chatmodels_chat_model, "model"
    provider: Provider = request.getfixturevalue("chatmodels_provider_under_test")
    return provider, "provider"


@pytest.mark.requirement("HEALTH-001")
def test_health_check_answers_within_its_timeout(
    health_target: tuple[ChatModel | Provider, str], chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """health_check returns (or raises) within metadata.health_timeout."""
    target, what = health_target
    timeout = chatmodels_provider_metadata.health_timeout
    outcome, label = _health(target, timeout, what)
    assert outcome.finished, (
        f"{label} did not answer within health_timeout={timeout:g}s; expected a HealthStatus"
    )
    assert outcome.error is None, (
        f"{label} raised {outcome.error!r}; expected a HealthStatus, UNHEALTHY on failure"
    )


@pytest.mark.requirement("HEALTH-002")
def test_health_check_gives_a_well_formed_status(
    health_target: tuple[ChatModel | Provider, str], chatmodels_provider_metadata: ProviderMetadata
) -> None:
    """health_check returns a HealthStatus with a HealthState and a float latency >= 0."""
    target, what = health_target
    outcome, label = _health(target, chatmodels_provider_metadata.health_timeout, what)
    if not outcome.finished or outcome.error is not None:
        pytest.skip(f"{INCONCLUSIVE}{label} gave no status to check; see HEALTH-001")
    status = outcome.value
    assert isinstance(status, HealthStatus), f"{label} returned {status!r}; expected a HealthStatus"
    assert isinstance(status.status, HealthState), (
        f"{label} returned status {status.status!r}; expected a HealthState member"
    )
    latency = status.latency
    well_formed = isinstance(latency, float) and math.isfinite(latency) and latency >= 0
    assert well_formed, f"{label} returned latency {latency!r}; expected a finite float >= 0 (s)"
