"""The preflight: one invoke and one stream before the suites, so a provider that cannot answer
at all stops the run with one message naming the cause, not a hundred failures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._bounded import bounded
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ChatModel

__all__ = ["PROMPT", "preflight"]

PROMPT = "Say hello."

T = TypeVar("T")

#: Codes that mean no call can succeed, with the likely fix an operator should try.
_FATAL_FIXES: dict[ErrorCode, str] = {
    ErrorCode.AUTHENTICATION: "check the API key option (e.g. --chatmodels-option api_key=...)",
    ErrorCode.PERMISSION: "check that the API key may use this model",
    ErrorCode.MODEL_NOT_FOUND: "check the model name (--chatmodels-model)",
    ErrorCode.NETWORK: (
        "check the base URL (e.g. --chatmodels-option base_url=http://host:port/v1) "
        "and that the server is running"
    ),
    ErrorCode.INVALID_CONFIG: (
        "check the provider options (--chatmodels-option) and the model (--chatmodels-model)"
    ),
}
_TIMEOUT_FIX = (
    "check the base URL and that the server is up, or allow a slow first answer with "
    "--chatmodels-setting preflight_timeout=SECONDS"
)
_OTHER_FIX = "check the base URL, the model name and the API key"


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What one preflight call did: an error, a timeout, or nothing (it answered)."""

    op: str
    error: BaseException | None = None
    timed_out: bool = False

    @property
    def failed(self) -> bool:
        return self.timed_out or self.error is not None

    @property
    def code(self) -> ErrorCode | None:
        if isinstance(self.error, ChatModelError):
            return self.error.code
        return ErrorCode.TIMEOUT if self.timed_out else None

    def describe(self, timeout: float) -> str:
        if self.timed_out:
            return f"{self.op}() gave no answer within {timeout:g} s"
        error = self.error
        text = " ".join(str(error).split())
        text = text if len(text) <= 200 else text[:199] + "…"
        if isinstance(error, ChatModelError):
            return f"{self.op}() raised {type(error).__name__}(code={error.code.value!r}): {text}"
        return f"{self.op}() raised a bare {type(error).__name__}: {text}"


def _attempt(op: str, call: Callable[[], object], timeout: float) -> _Attempt:
    outcome = bounded(call, f"{op}()", timeout)
    return _Attempt(op, outcome.error, outcome.timed_out)


def _verdict(attempts: list[_Attempt], subject: Subject, timeout: float) -> str | None:
    """The one-line cause when the provider cannot answer at all, else None."""
    failed = [a for a in attempts if a.failed]
    fatal = next((a for a in failed if a.code in _FATAL_FIXES), None)
    if fatal is None and (not failed or len(failed) < len(attempts)):
        return None
    first = fatal or failed[0]
    code = first.code
    if code is ErrorCode.TIMEOUT:
        fix = _TIMEOUT_FIX
    else:
        fix = _FATAL_FIXES.get(code, _OTHER_FIX) if code is not None else _OTHER_FIX
    target = f"provider {subject.name!r}, model {_model_name(subject)!r}"
    base_url = subject.options.get("base_url")
    if base_url:
        target += f", base_url {base_url!r}"
    others = "; ".join(a.describe(timeout) for a in failed if a is not first)
    also = f". Also: {others}" if others else ""
    return f"{first.describe(timeout)}; {fix} ({target}){also}"


def _model_name(subject: Subject) -> str:
    try:
        return subject.model
    except Exception:  # the name itself may be what is wrong
        return subject.model_name or "default"


def preflight(subject: Subject, timeout: float) -> str | None:
    """Call the provider once with invoke and once with stream; the cause if it cannot answer.

    Returns None when at least one call answered and no error says every call will fail
    (authentication, model not found, network, invalid configuration).
    """
    creation = bounded(_model_maker(subject), "create_chat_model()", timeout)
    made = creation.value
    if made is None:
        attempt = _Attempt("create_chat_model", creation.error, creation.timed_out)
        return _verdict([attempt], subject, timeout)
    model, owned = made
    # The call's own timeout bounds a provider's retries too; only where it is declared.
    declared = subject.metadata.capabilities
    options = ChatOptions(timeout=timeout) if Capability.TIMEOUT in declared else None
    try:
        attempts = [_attempt("invoke", lambda: model.invoke(PROMPT, options), timeout)]
        # A fatal answer already names the cause; a second call would only wait for it again.
        if Capability.STREAMING in declared and attempts[0].code not in _FATAL_FIXES:
            stream = lambda: list(model.stream(PROMPT, options))  # noqa: E731
            attempts.append(_attempt("stream", stream, timeout))
        return _verdict(attempts, subject, timeout)
    finally:
        if owned:
            bounded(model.close, "close()", timeout)


def _model_maker(subject: Subject) -> Callable[[], tuple[ChatModel, bool]]:
    """A fresh model to probe (closed afterwards), or the lone model a fixture supplied."""

    def make() -> tuple[ChatModel, bool]:
        if subject.lone_model is not None:
            return subject.lone_model, False
        return subject.create_chat_model(), True

    return make
