"""Probes of the wire suite: a few calls through the provider, each kept as its raw exchange.

Every probe runs once per session and is shared by the requirements that judge it; a probe
the provider rejects (it raises, as a forgiving client must for broken answers) still leaves
its exchange to judge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE, UNSUPPORTED
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._faults_support import FaultOutcome, sync_call
from chatmodels.conformance.suites._wire_judges import StreamView, whole_arguments
from chatmodels.options import ChatOptions, ToolSpec
from chatmodels.provider import Capability, ChatModel, Provider
from chatmodels.providers._http_capture import WireExchange, WireRecorder

__all__ = [
    "MISSING_MODEL",
    "Probe",
    "WireKit",
    "assert_wire",
    "inconclusive",
    "open_kit",
    "wire_kit",
]

PROMPT = "Say hello in three words."
TOOL_PROMPT = "What is the weather in Paris? Call get_weather with the city."
WEATHER = ToolSpec(
    "get_weather",
    "Look up the current weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
#: A model name no server serves, to draw an error answer.
MISSING_MODEL = "chatmodels-wire-no-such-model"


@dataclass(frozen=True, slots=True)
class Probe:
    """One call and the chat-completions exchanges it made (retries included)."""

    name: str
    outcome: FaultOutcome
    exchanges: tuple[WireExchange, ...]

    @property
    def last(self) -> WireExchange | None:
        """The exchange that produced the answer (the last attempt)."""
        return self.exchanges[-1] if self.exchanges else None

    def stream(self) -> StreamView:
        """The last attempt as a stream; inconclusive when it has no 2xx exchange."""
        exchange = self.last
        if exchange is None or exchange.status is None or not 200 <= exchange.status < 300:
            inconclusive(f"the {self.name} probe got no 2xx answer: {self.describe()}")
        return StreamView.of(exchange)

    def whole(self) -> Any:
        """The last attempt's decoded JSON body; inconclusive when there is none."""
        exchange = self.last
        if exchange is None or exchange.status is None or not 200 <= exchange.status < 300:
            inconclusive(f"the {self.name} probe got no 2xx answer: {self.describe()}")
        try:
            return json.loads(exchange.response_body)
        except ValueError:
            return None

    def describe(self) -> str:
        statuses = [e.status for e in self.exchanges]
        return f"{self.outcome.describe()}; HTTP statuses {statuses}"


def inconclusive(reason: str) -> NoReturn:
    """Skip the test as inconclusive with *reason*."""
    pytest.skip(INCONCLUSIVE + reason)


@dataclass
class WireKit:
    """The recorder, a model of the provider under test, and the probes made so far."""

    subject: Subject
    recorder: WireRecorder
    settings: Settings
    probes: dict[str, Probe] = field(default_factory=dict)
    _models: list[ChatModel] = field(default_factory=list)

    @property
    def bound(self) -> float:
        return self.settings.float("wire_call_timeout")

    def declares(self, capability: Capability) -> bool:
        return self.subject.metadata.supports(capability)

    def probe(
        self,
        name: str,
        kind: str,
        prompt: str = PROMPT,
        options: ChatOptions | None = None,
        *,
        model: str | None = None,
        provider: Provider | None = None,
    ) -> Probe:
        """Make (once) the probe *name*: one call of *kind*, its exchanges recorded."""
        if name in self.probes:
            return self.probes[name]
        provider = provider or self.subject.provider
        assert provider is not None
        chat = provider.create_chat_model(model or self.subject.model_name)
        self._models.append(chat)
        base = ChatOptions(max_tokens=self.settings.int("wire_max_tokens"), temperature=0.0)
        merged = options.merged_over(base) if options is not None else base
        mark = self.recorder.mark()
        self.recorder.drain = True  # read each answer to its end, even when the provider stops
        try:
            outcome = sync_call(chat, kind, prompt, merged, self.bound)
        finally:
            self.recorder.drain = False
        exchanges = tuple(e for e in self.recorder.since(mark) if e.method == "POST")
        probe = self.probes[name] = Probe(name, outcome, exchanges)
        if not exchanges:
            inconclusive(f"the {name} probe made no HTTP request: {outcome.describe()}")
        return probe

    def text_stream(self) -> StreamView:
        """A plain streamed answer (the provider asks for usage)."""
        return self.probe("text stream", "stream").stream()

    def streams(self) -> list[StreamView]:
        """The streamed probes: text, and a tool call when tools are declared."""
        views = [self.text_stream()]
        if self.declares(Capability.TOOLS):
            views.append(self.tool_probe("tool stream", "stream").stream())
        return views

    def wholes(self) -> list[Any]:
        """The whole answers: text, and a tool call when tools are declared."""
        wholes = [self.probe("text call", "invoke").whole()]
        if self.declares(Capability.TOOLS):
            wholes.append(self.tool_probe("tool call", "invoke").whole())
        return wholes

    def unasked_usage_stream(self) -> StreamView | None:
        """A stream without stream_options, when the provider has the stream_usage option."""
        if "unasked usage" not in self.probes:
            try:
                provider = self.subject.make_provider({"stream_usage": "false"})
            except Exception:  # the provider lacks the option: this probe cannot run
                return None
            if not attach(provider, self.recorder):
                return None
            self.probe("unasked usage", "stream", provider=provider)
        return self.probes["unasked usage"].stream()

    def tool_options(self) -> ChatOptions:
        """Tools and a tool choice a small model can satisfy: the tool forced when possible."""
        if not self.declares(Capability.TOOLS):
            pytest.skip("[unsupported] the provider does not declare capability 'tools'")
        choice = "get_weather" if self.declares(Capability.TOOL_CHOICE) else None
        return ChatOptions(tools=(WEATHER,), tool_choice=choice, seed=7)

    def tool_probe(self, name: str, kind: str) -> Probe:
        """The tool probe in *kind*: the weather question with the tool offered."""
        return self.probe(name, kind, TOOL_PROMPT, self.tool_options())

    def tool_stream(self) -> StreamView:
        """A streamed answer that calls a tool; inconclusive when no call came."""
        view = self.tool_probe("tool stream", "stream").stream()
        if not any(True for _ in view.tool_deltas()):
            inconclusive("the model answered the streamed tool probe without a tool call")
        return view

    def tool_call(self) -> Any:
        """The whole answer to the tool probe; inconclusive when it calls no tool."""
        whole = self.tool_probe("tool call", "invoke").whole()
        if not whole_arguments(whole):
            inconclusive("the model answered the tool probe without a tool call")
        return whole

    def errors(self) -> list[WireExchange]:
        """Every 4xx/5xx exchange recorded in this run, after drawing one with a missing model;
        inconclusive when the server answered even that with 2xx."""
        self.probe("error", "invoke", model=MISSING_MODEL)
        errors = [e for e in self.recorder.since(0) if e.status is not None and e.status >= 400]
        if not errors:
            inconclusive(
                f"the server answered every request with 2xx, even for model "
                f"{MISSING_MODEL!r}, so no error body could be judged"
            )
        return errors

    def close(self) -> None:
        for chat in reversed(self._models):
            chat.close()
        self._models.clear()


def attach(provider: Provider, recorder: WireRecorder) -> bool:
    """Make *provider* record its HTTP exchanges in *recorder*, when it can."""
    record: Callable[[WireRecorder], None] | None = getattr(provider, "record_wire", None)
    if record is None:
        return False
    record(recorder)
    return True


def assert_wire(problems: list[str], what: str, kit: WireKit) -> None:
    """Fail with every problem, naming the probes whose raw capture showed them."""
    if problems:
        shown = "\n  ".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        calls = "; ".join(f"{p.name}: {p.describe()}" for p in kit.probes.values())
        msg = f"{len(problems)} {what}:\n  {shown}{more}\n(raw capture of: {calls})"
        raise AssertionError(msg)


def open_kit(subject: Subject, settings: Settings, protocol: Capability) -> Iterator[WireKit]:
    """The shared probes of one protocol's WIRE requirements, closed at the end.

    A session fixture is set up before the per-test capability gate, so this checks the
    protocol's capability itself: a provider that does not speak it is unsupported, not
    inconclusive.
    """
    if protocol not in subject.metadata.capabilities:
        pytest.skip(
            f"{UNSUPPORTED}provider {subject.name!r} does not declare capability "
            f"{protocol.value!r}, which these WIRE requirements need"
        )
    recorder = subject.wire
    if recorder is None:
        inconclusive(
            f"provider {subject.name!r} cannot record its HTTP exchanges "
            "(it has no record_wire method), so its wire cannot be judged"
        )
    kit = WireKit(subject, recorder, settings)
    try:
        yield kit
    finally:
        kit.close()


@pytest.fixture(scope="session")
def wire_kit(chatmodels_subject: Subject, chatmodels_settings: Settings) -> Iterator[WireKit]:
    """The chat-completions probes; inconclusive when the provider cannot record its exchanges."""
    yield from open_kit(chatmodels_subject, chatmodels_settings, Capability.OPENAI_COMPATIBLE)
