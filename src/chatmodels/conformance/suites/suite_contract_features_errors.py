"""Contract suite, part two: error shape (ERR), bad input and upstream failures alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
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
from chatmodels.conformance.suites._fault_hook import HookedModels, hooked_models
from chatmodels.errors import RETRYABLE_CODES, ChatModelError, ErrorCode
from chatmodels.provider import (
    Capability,
    ChatModel,
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


@dataclass(frozen=True, slots=True)
class UpstreamFailures:
    """What each entry point raised on models whose upstream fails, one model per code."""

    hooked: HookedModels
    #: (call, upstream code, what it raised); None when the call answered instead of failing.
    raised: list[tuple[str, ErrorCode, BaseException | None]]


@pytest.fixture(scope="module")
def upstream_failures(
    chatmodels_subject: Subject, chatmodels_settings: Settings
) -> Iterator[UpstreamFailures]:
    """Every declared entry point called once per upstream code through the fault hook."""
    hooked = hooked_models(chatmodels_subject, "ERR-001 and ERR-002")
    metadata = chatmodels_subject.metadata
    raised: list[tuple[str, ErrorCode, BaseException | None]] = []
    try:
        for code, model in hooked.models.items():
            for entry, (call, capability) in ENTRY_POINTS.items():
                if capability is not None and not metadata.supports(capability):
                    continue
                where = f"{entry}() with fault_code={code.value!r}"
                outcome = call(model, PLAIN_PROMPT, None, where)
                if not outcome.finished:
                    raise AssertionError(outcome.hang_message())
                errors: list[BaseException | None] = [*_raised(outcome)]
                raised.extend((where, code, exc) for exc in errors or [None])
        yield UpstreamFailures(hooked, raised)
    finally:
        hooked.close(chatmodels_settings.float("call_timeout"))


@pytest.mark.requirement("ERR-001")
def test_upstream_failures_raise_chat_model_errors_with_their_code(
    upstream_failures: UpstreamFailures,
) -> None:
    """An upstream failing with each code raises a ChatModelError of that code everywhere."""
    problems = []
    for where, code, exc in upstream_failures.raised:
        if exc is None:
            problems.append(f"{where} answered; expected the upstream's {code.value!r} error")
        elif (problem := error_problem(exc)) is not None:
            problems.append(f"{where} {problem}")
        elif isinstance(exc, ChatModelError) and exc.code is not code:
            problems.append(f"{where} raised code {exc.code.value!r}; expected {code.value!r}")
    assert not problems, f"{len(problems)} upstream error(s) not structured: " + "; ".join(
        problems[:5]
    )
    upstream_failures.hooked.skip_if_incomplete()


@pytest.mark.requirement("ERR-002")
def test_retryable_matches_code_on_upstream_failures(
    upstream_failures: UpstreamFailures,
) -> None:
    """An upstream failure's error is retryable exactly when its code is retryable."""
    errors = [(where, exc) for where, _, exc in upstream_failures.raised if exc is not None]
    problems = _retryable_problems(errors)
    assert not problems, "; ".join(problems[:5])
    upstream_failures.hooked.skip_if_incomplete()


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
