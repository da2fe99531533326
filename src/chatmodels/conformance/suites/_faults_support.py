"""Helpers of the faults suite: a FaultServer, fresh models pointed at it, and bounded calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from chatmodels.conformance.faults import Fault, FaultServer, RequestRecord
from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._bounded import CallOutcome, bounded, call_within, contained
from chatmodels.errors import RETRYABLE_CODES, ChatModelError, ErrorCode, InvalidConfigError
from chatmodels.messages import ChatChunk, ChatResult, MessageLike, merge_chunks
from chatmodels.options import OptionsLike
from chatmodels.provider import Capability, ChatModel, Provider, ProviderMetadata

__all__ = [
    "PROBE_MODEL",
    "PROTOCOL_PATHS",
    "FaultOutcome",
    "Prompt",
    "acall",
    "assert_no_problems",
    "content_problem",
    "FaultKit",
    "call_kinds",
    "comparable",
    "error_problem",
    "fault_kit",
    "fault_server",
    "sync_call",
    "unbounded_call",
]

#: The model the fault server answers for; the openai provider needs it named.
PROBE_MODEL = "reference-echo"

#: The endpoint of the fault server each protocol capability is served on. A FAULT requirement
#: runs once per protocol the provider declares and passes only if it passes on each.
PROTOCOL_PATHS = {
    "openai_compatible": "/v1/chat/completions",
    "anthropic_compatible": "/v1/messages",
    "responses_compatible": "/v1/responses",
}

Prompt = Sequence[MessageLike] | str
MakeProvider = Callable[..., Provider]


@dataclass(frozen=True, slots=True)
class FaultOutcome:
    """How one call against the fault server ended: a result (streams merged), or its exception."""

    kind: str
    result: ChatResult | None
    error: BaseException | None
    elapsed: float
    chunks: int = 0

    @property
    def ok(self) -> bool:
        """Tell whether the call returned (a stream: ran to its end) without raising."""
        return self.error is None

    def describe(self) -> str:
        """A short view for assertion messages."""
        took = f"after {self.elapsed:.3f}s"
        if self.error is not None:
            return f"{self.kind} raised {describe_raised(self.error)} {took}"
        if self.result is None:
            return f"{self.kind} ended after {self.chunks} chunks with no finish reason {took}"
        text = self.result.message.content
        shown = text if len(text) <= 60 else text[:57] + "..."
        what = f"{self.chunks} chunks" if self.kind.endswith("stream") else "a result"
        return f"{self.kind} returned {what} with text {shown!r} {took}"


def call_kinds(metadata: ProviderMetadata) -> tuple[str, ...]:
    """The calling styles to try: the async twins always, streams when declared."""
    kinds: tuple[str, ...] = ("invoke", "ainvoke")
    if metadata.supports(Capability.STREAMING):
        kinds += ("stream", "astream")
    return kinds


def comparable(result: ChatResult) -> tuple[Any, ...]:
    """What must match the fault-free answer: text, tool calls and finish reason."""
    calls = tuple((c.name, c.arguments) for c in result.message.tool_calls)
    return (result.message.content, calls, result.finish_reason)


def _merged(chunks: list[ChatChunk]) -> ChatResult | None:
    """Fold a stream; None when it ended without a finish reason (no valid result)."""
    try:
        return merge_chunks(chunks)
    except ChatModelError:
        return None


async def _acall(
    model: ChatModel, kind: str, prompt: Prompt, options: OptionsLike
) -> tuple[ChatResult | None, int]:
    if kind == "ainvoke":
        return await model.ainvoke(prompt, options), 0
    chunks = [chunk async for chunk in model.astream(prompt, options)]
    return _merged(chunks), len(chunks)


def _call(
    model: ChatModel, kind: str, prompt: Prompt, options: OptionsLike
) -> tuple[ChatResult | None, int]:
    if kind == "invoke":
        return model.invoke(prompt, options), 0
    chunks = list(model.stream(prompt, options))
    return _merged(chunks), len(chunks)


def _hung(outcome: CallOutcome[Any]) -> AssertionError:
    msg = (
        f"{outcome.hang_message()} against the fault server (is a timeout missing or a retry "
        "loop unbounded?)"
    )
    return AssertionError(msg)


def _outcome(kind: str, outcome: CallOutcome[tuple[ChatResult | None, int]]) -> FaultOutcome:
    if outcome.timed_out:
        raise _hung(outcome)
    if outcome.error is not None:
        return FaultOutcome(kind, None, contained(outcome.error, f"{kind}()"), outcome.elapsed)
    result, chunks = outcome.value or (None, 0)
    return FaultOutcome(kind, result, None, outcome.elapsed, chunks)


async def acall(
    model: ChatModel, kind: str, prompt: Prompt, options: OptionsLike, bound: float
) -> FaultOutcome:
    """Make one async call inside a load on the running loop; the load's own loop thread is
    bounded by ``_bounded`` as a whole, and *bound* cuts this call short cooperatively."""

    async def guarded() -> FaultOutcome:
        # Caught inside wait_for: a ChatTimeoutError is a TimeoutError, not the bound firing.
        start = time.perf_counter()
        try:
            result, chunks = await _acall(model, kind, prompt, options)
        except Exception as exc:  # the verdict is the test's; any exception is an outcome
            return FaultOutcome(kind, None, exc, time.perf_counter() - start)
        return FaultOutcome(kind, result, None, time.perf_counter() - start, chunks)

    try:
        return await asyncio.wait_for(guarded(), bound)
    except asyncio.TimeoutError:
        msg = (
            f"{kind}() did not return within {bound:g} s against the fault server; expected it "
            "to return or raise ChatModelError (is a timeout missing or a retry loop unbounded?)"
        )
        raise AssertionError(msg) from None


def unbounded_call(model: ChatModel, kind: str, prompt: Prompt) -> FaultOutcome:
    """Make one sync call on this thread: for a load whose threads are bounded as a whole."""
    start = time.perf_counter()
    try:
        result, chunks = _call(model, kind, prompt, None)
    except BaseException as exc:  # contained: the verdict is the test's
        return FaultOutcome(kind, None, contained(exc, f"{kind}()"), time.perf_counter() - start)
    return FaultOutcome(kind, result, None, time.perf_counter() - start, chunks)


def sync_call(
    model: ChatModel, kind: str, prompt: Prompt, options: OptionsLike, bound: float
) -> FaultOutcome:
    """Make one sync call (invoke or stream) on a watchdog thread of ``_bounded``."""
    return _outcome(kind, bounded(lambda: _call(model, kind, prompt, options), f"{kind}()", bound))


def error_problem(
    outcome: FaultOutcome,
    codes: Sequence[ErrorCode],
    fault: str,
    *,
    check_retryable: bool = True,
) -> str | None:
    """Say what is wrong with how *outcome* reported *fault*, or None when it is right."""
    expected = " or ".join(repr(c.value) for c in codes)
    error = outcome.error
    if error is None:
        return f"{fault}: {outcome.describe()}; expected ChatModelError(code={expected})"
    if not isinstance(error, ChatModelError):
        return (
            f"{fault}: {outcome.kind} raised {describe_raised(error)}; "
            f"expected ChatModelError(code={expected})"
        )
    if error.code not in codes:
        return f"{fault}: {outcome.kind} raised code {error.code.value!r}; expected {expected}"
    retryable = error.code in RETRYABLE_CODES
    if check_retryable and error.retryable is not retryable:
        return (
            f"{fault}: {outcome.kind} raised {error.code.value!r} with retryable="
            f"{error.retryable!r}; expected retryable={retryable!r} for that code"
        )
    return None


def content_problem(outcome: FaultOutcome, expected: tuple[Any, ...], fault: str) -> str | None:
    """Say how a call that survived *fault* returned other than the fault-free answer."""
    if not outcome.ok:
        return None
    if outcome.result is None:
        return f"{fault}: {outcome.describe()}; a success must carry a complete answer"
    got = comparable(outcome.result)
    if got != expected:
        return (
            f"{fault}: {outcome.kind} succeeded with (text, tool calls, finish) {got!r}; "
            f"the fault-free answer is {expected!r}"
        )
    return None


def assert_no_problems(problems: Sequence[str], what: str) -> None:
    """Fail with every problem listed, or pass when there is none."""
    if problems:
        shown = "\n  ".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        msg = f"{len(problems)} {what}:\n  {shown}{more}"
        raise AssertionError(msg)


class FaultKit:
    """Make models of the provider under test that talk to the fault server, and call them."""

    def __init__(
        self,
        server: FaultServer,
        make_provider: MakeProvider,
        metadata: ProviderMetadata,
        settings: Settings,
        protocol: str = "openai_compatible",
    ) -> None:
        self.server = server
        self.protocol = protocol
        self.metadata = metadata
        self.settings = settings
        self.bound = settings.float("call_timeout")
        self._make_provider = make_provider
        self._models: list[ChatModel] = []
        self._baselines: dict[tuple[str, bool], tuple[Any, ...]] = {}
        self._baseline_model: ChatModel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def declared(self) -> frozenset[str]:
        """Every option name the provider declares."""
        m = self.metadata
        return frozenset((*m.required_options, *m.optional_options, *m.secret_options))

    def provider(self, base_url: str | None = None, /, **options: object) -> Provider:
        """Re-create the provider on *base_url* (the fault server) with the declared *options*."""
        url = base_url or self.server.url
        wanted: dict[str, object] = {
            "model": PROBE_MODEL,
            "deterministic": "true",
            "timeout": self.settings.float("fault_client_timeout"),
        }
        wanted.update(options)
        chosen = {k: str(v) for k, v in wanted.items() if k in self.declared}
        try:
            return self._make_provider({**chosen, "base_url": url})
        except InvalidConfigError:
            return self._make_provider({"base_url": url})

    def model(self, base_url: str | None = None, /, **options: object) -> ChatModel:
        """A fresh model on the fault server, closed when the test ends."""
        model = self.provider(base_url, **options).create_chat_model(PROBE_MODEL)
        self._models.append(model)
        return model

    def call(
        self, model: ChatModel, kind: str, prompt: Prompt, options: OptionsLike = None
    ) -> FaultOutcome:
        """Make one bounded call of *kind* (invoke, ainvoke, stream or astream)."""
        if not kind.startswith("a"):
            return self._spoken(sync_call(model, kind, prompt, options, self.bound))
        # One loop per test, as an application has: async clients are made once, not per call.
        # It runs on a watchdog thread; a call that hangs there takes the loop with it.
        loop = self._loop = self._loop or asyncio.new_event_loop()
        outcome = bounded(
            lambda: loop.run_until_complete(_acall(model, kind, prompt, options)),
            f"{kind}()",
            self.bound,
        )
        if outcome.timed_out:
            self._loop = None
        return self._spoken(_outcome(kind, outcome))

    def _spoken(self, outcome: FaultOutcome) -> FaultOutcome:
        """Fail when the call went to another protocol's endpoint than the one being tested."""
        ours = PROTOCOL_PATHS[self.protocol]
        others = set(PROTOCOL_PATHS.values()) - {ours}
        strays = sorted({r.path for r in self.server.requests if r.path in others})
        if strays:
            msg = (
                f"the provider declares {self.protocol!r}, but its {outcome.kind}() went to "
                f"{', '.join(strays)} instead of {ours}; a declared protocol must be spoken"
            )
            raise AssertionError(msg)
        return outcome

    def baseline(self, prompt: Prompt, kind: str) -> tuple[Any, ...]:
        """The fault-free answer to *prompt* in *kind*'s family; ask before scripting faults."""
        streamed = kind.endswith("stream")
        key = (repr(prompt), streamed)
        if key not in self._baselines:
            self.server.set_default(None)
            if self._baseline_model is None:
                self._baseline_model = self.model()
            outcome = self.call(self._baseline_model, "stream" if streamed else "invoke", prompt)
            if outcome.result is None:
                msg = f"the fault-free call failed, so no fault can be judged: {outcome.describe()}"
                raise AssertionError(msg)
            self._baselines[key] = comparable(outcome.result)
        return self._baselines[key]

    def posts(self) -> list[RequestRecord]:
        """The requests on this protocol's endpoint the server has seen since the last reset."""
        path = PROTOCOL_PATHS[self.protocol]
        return [r for r in self.server.requests if r.method == "POST" and r.path == path]

    def play(self, fault: Fault | None) -> None:
        """Play *fault* on every request from now on, with a fresh request log."""
        self.server.set_default(fault)
        self.server.reset_log()

    def close(self) -> None:
        """Close every model made, and restore normal answers."""
        self.server.set_default(None)
        for model in reversed(self._models):
            call_within(model.close, "close()", self.bound)
        self._models.clear()
        loop, self._loop = self._loop, None
        if loop is not None:
            call_within(
                lambda: loop.run_until_complete(loop.shutdown_asyncgens()),
                "closing the async generators left on the event loop",
                self.bound,
            )
            loop.close()


@pytest.fixture(scope="session")
def fault_server() -> Iterator[FaultServer]:
    """One fault server for the whole run, on loopback."""
    with FaultServer() as server:
        yield server


_KNOWN = {c.value for c in Capability}


@pytest.fixture(
    params=[
        pytest.param(name, id=name.removesuffix("_compatible"), marks=pytest.mark.capability(name))
        for name in PROTOCOL_PATHS
        if name in _KNOWN
    ]
)
def fault_kit(
    request: pytest.FixtureRequest,
    fault_server: FaultServer,
    chatmodels_make_provider: MakeProvider,
    chatmodels_provider_metadata: ProviderMetadata,
    chatmodels_settings: Settings,
) -> Iterator[FaultKit]:
    """A clean server (no plan, empty log) and models pointed at it, closed after the test;
    one per protocol, each skipped unless the provider declares that protocol."""
    fault_server.set_default(None)
    fault_server.reset_log()
    kit = FaultKit(
        fault_server,
        chatmodels_make_provider,
        chatmodels_provider_metadata,
        chatmodels_settings,
        request.param,
    )
    try:
        yield kit
    finally:
        kit.close()
