"""The side-by-side baseline PERF-005 compares a provider's scaling with, in the same run.

Same target, same minute: a provider that speaks to an HTTP server (it declares
``openai_compatible``, ``anthropic_compatible`` or ``responses_compatible`` and has a
``base_url`` option) is compared with a raw httpx client posting the same prompt to the same
endpoint. Any other provider is compared in process: with the reference provider waiting as
long as one of its calls waits, or, when its calls hardly wait (a fast in-process model:
mostly CPU, which the GIL serialises), with a call of its own profile (as much CPU, then as
long a wait) that lets callers overlap. A loopback server shares the cores with the client,
and a CPU-bound call cannot gain from callers at all, so only such a baseline tells a provider
that serialises its callers from a machine, a server or an interpreter lock that cannot serve
more of them at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from chatmodels.conformance.perfstats import WAITS_LITTLE, CallProfile
from chatmodels.conformance.subject import Subject
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability
from chatmodels.providers._anthropic_settings import ANTHROPIC_VERSION
from chatmodels.providers._http_declared import parse_call_defaults
from chatmodels.providers.reference import ReferenceProvider

AsyncCall = Callable[[], Awaitable[object]]
#: Seconds one baseline call may take before it counts as failed.
_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the provider is compared with: a sync call, and a maker of async calls on a loop.

    *kind*: ``http`` (a raw client, same server), ``reference`` (waits as long), or
    ``same_profile`` (as much CPU in this process, then as long a wait).
    """

    what: str
    call: Callable[[], object]
    async_calls: Callable[[], contextlib.AbstractAsyncContextManager[AsyncCall]]
    kind: Literal["http", "reference", "same_profile"]


def _http_target(subject: Subject, prompt: str) -> tuple[str, dict[str, str], Any] | None:
    """The URL, auth headers and body of one raw request in the protocol the provider speaks.

    The provider's call defaults (``default.max_tokens``, ``default.temperature``) go with it,
    so the baseline asks for as long an answer as the provider does.
    """
    base_url = subject.options.get("base_url")
    capabilities = subject.metadata.capabilities
    model = subject.options.get("model") or subject.model
    if not base_url:
        return None
    defaults = parse_call_defaults(subject.options, provider="baseline") or ChatOptions()
    limit = defaults.max_tokens
    turn = [{"role": "user", "content": prompt}]
    if Capability.OPENAI_COMPATIBLE in capabilities:
        path = "/chat/completions"
        body: dict[str, Any] = {"model": model, "messages": turn}
        body.update({"max_tokens": limit} if limit else {})
    elif Capability.ANTHROPIC_COMPATIBLE in capabilities:
        path = "/messages"
        body = {"model": model, "max_tokens": limit or 64, "messages": turn}
    elif Capability.RESPONSES_COMPATIBLE in capabilities:
        path, body = "/responses", {"model": model, "input": prompt}
        body.update({"max_output_tokens": limit} if limit else {})
    else:
        return None
    if defaults.temperature is not None:
        body["temperature"] = defaults.temperature
    headers = {"Accept": "application/json"}
    key = subject.options.get("api_key")
    if key and Capability.ANTHROPIC_COMPATIBLE in capabilities:
        headers.update({"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION})
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    return f"{base_url.rstrip('/')}{path}", headers, body


@contextlib.contextmanager
def baseline_for(
    subject: Subject, prompt: str, profile: CallProfile, concurrency: int
) -> Iterator[Baseline]:
    """The baseline for *subject*: raw httpx against its server, else one in process.

    In process, calls of *profile* that hardly wait at *concurrency* callers are compared
    with calls of the same profile; calls that wait with the reference waiting as long.
    """
    target = _http_target(subject, prompt)
    if target is None and profile.ceiling(concurrency) < WAITS_LITTLE:
        yield _same_profile(profile)
        return
    if target is None:
        with _reference(prompt, profile.wait) as baseline:
            yield baseline
        return
    url, headers, body = target
    with httpx.Client(headers=headers, timeout=_TIMEOUT) as client:

        def call() -> object:
            client.post(url, json=body).raise_for_status()
            return None

        @contextlib.asynccontextmanager
        async def async_calls() -> Any:
            async with httpx.AsyncClient(headers=headers, timeout=_TIMEOUT) as aclient:

                async def acall() -> object:
                    (await aclient.post(url, json=body)).raise_for_status()
                    return None

                yield acall

        yield Baseline(f"a raw httpx client posting to {url}", call, async_calls, "http")


@contextlib.contextmanager
def _reference(prompt: str, wait: float) -> Iterator[Baseline]:
    model = ReferenceProvider({"latency": f"{wait:.6f}"}).create_chat_model()
    try:

        @contextlib.asynccontextmanager
        async def async_calls() -> Any:
            async def acall() -> object:
                return await model.ainvoke(prompt)

            yield acall

        yield Baseline(
            f"the reference provider waiting {wait * 1e3:.2f} ms per call",
            lambda: model.invoke(prompt),
            async_calls,
            "reference",
        )
    finally:
        model.close()


def _spend(cpu: float) -> None:
    """Hold the CPU (and the GIL) for *cpu* seconds of this thread's CPU time."""
    end = time.thread_time() + cpu
    while time.thread_time() < end:
        pass


def _same_profile(profile: CallProfile) -> Baseline:
    """A call that spends *profile*'s CPU, then waits its wait without holding anything."""

    def call() -> object:
        _spend(profile.cpu)
        if profile.wait > 0:
            time.sleep(profile.wait)
        return None

    @contextlib.asynccontextmanager
    async def async_calls() -> Any:
        async def acall() -> object:
            _spend(profile.cpu)
            await asyncio.sleep(profile.wait)  # also lets the other tasks run when it is 0
            return None

        yield acall

    what = (
        f"a call of the provider's own profile ({profile.cpu * 1e6:.0f} us of CPU, then "
        f"{profile.wait * 1e3:.2f} ms of waiting) that lets callers overlap"
    )
    return Baseline(what, call, async_calls, "same_profile")
