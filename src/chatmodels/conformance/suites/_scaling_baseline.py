"""The side-by-side baseline PERF-005 compares a provider's scaling with, in the same run.

Same target, same minute: a provider that speaks to an HTTP server (it declares
``openai_compatible``, ``anthropic_compatible`` or ``responses_compatible`` and has a
``base_url`` option) is compared
with a raw httpx client posting the same prompt to the same endpoint; any other provider
with the in-process reference provider waiting as long as one of the provider's calls. A
loopback server shares the cores with the client, so only such a baseline tells a provider
that serialises its callers from a machine (or server) that cannot serve more of them at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from chatmodels.conformance.subject import Subject
from chatmodels.provider import Capability
from chatmodels.providers._anthropic_settings import ANTHROPIC_VERSION
from chatmodels.providers.reference import ReferenceProvider

AsyncCall = Callable[[], Awaitable[object]]
#: Seconds one baseline call may take before it counts as failed.
_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Baseline:
    """What the provider is compared with: a sync call, and a maker of async calls on a loop."""

    what: str
    call: Callable[[], object]
    async_calls: Callable[[], contextlib.AbstractAsyncContextManager[AsyncCall]]


def _http_target(subject: Subject, prompt: str) -> tuple[str, dict[str, str], Any] | None:
    """The URL, auth headers and body of one raw request in the protocol the provider speaks."""
    base_url = subject.options.get("base_url")
    capabilities = subject.metadata.capabilities
    model = subject.options.get("model") or subject.model
    if not base_url:
        return None
    if Capability.OPENAI_COMPATIBLE in capabilities:
        path = "/chat/completions"
        body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    elif Capability.ANTHROPIC_COMPATIBLE in capabilities:
        path = "/messages"
        body = {"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": prompt}]}
    elif Capability.RESPONSES_COMPATIBLE in capabilities:
        path, body = "/responses", {"model": model, "input": prompt}
    else:
        return None
    headers = {"Accept": "application/json"}
    key = subject.options.get("api_key")
    if key and Capability.ANTHROPIC_COMPATIBLE in capabilities:
        headers.update({"x-api-key": key, "anthropic-version": ANTHROPIC_VERSION})
    elif key:
        headers["Authorization"] = f"Bearer {key}"
    return f"{base_url.rstrip('/')}{path}", headers, body


@contextlib.contextmanager
def baseline_for(subject: Subject, prompt: str, latency: float) -> Iterator[Baseline]:
    """The baseline for *subject*: raw httpx against its server, else the reference provider."""
    target = _http_target(subject, prompt)
    if target is None:
        with _reference(prompt, latency) as baseline:
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

        yield Baseline(f"a raw httpx client posting to {url}", call, async_calls)


@contextlib.contextmanager
def _reference(prompt: str, latency: float) -> Iterator[Baseline]:
    model = ReferenceProvider({"latency": f"{latency:.6f}"}).create_chat_model()
    try:

        @contextlib.asynccontextmanager
        async def async_calls() -> Any:
            async def acall() -> object:
                return await model.ainvoke(prompt)

            yield acall

        yield Baseline(
            f"the reference provider waiting {latency * 1e3:.2f} ms per call",
            lambda: model.invoke(prompt),
            async_calls,
        )
    finally:
        model.close()
