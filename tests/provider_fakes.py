"""In-process providers for tests that need a registry entry but not the reference provider."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from chatmodels.base import BaseChatModel, BaseProvider
from chatmodels.messages import ChatResult, FinishReason, Message, Usage
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.provider import Capability, ChatModel, ProviderMetadata

__all__ = [
    "EchoChatModel",
    "EchoProvider",
    "NOT_A_FACTORY",
    "SecretProvider",
    "StreamingEchoProvider",
    "echo_metadata",
    "race",
]

_ids = itertools.count()


def echo_metadata(name: str = "echo", **changes: Any) -> ProviderMetadata:
    """Build the metadata of an echo provider, with *changes* applied."""
    fields: dict[str, Any] = {
        "name": name,
        "version": "1.0",
        "models": ("echo-1",),
        "default_model": "echo-1",
        "optional_options": ("prefix",),
        "capabilities": frozenset({Capability.SYSTEM_MESSAGES}),
    }
    fields.update(changes)
    return ProviderMetadata(**fields)


class EchoChatModel(BaseChatModel):
    """Answer with the last message's text, optionally prefixed."""

    def __init__(self, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prefix = prefix

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        text = self._prefix + messages[-1].content
        return ChatResult(
            message=Message.assistant(text),
            finish_reason=FinishReason.STOP,
            model=self.model,
            response_id=f"echo-{next(_ids)}",
            usage=Usage(len(messages), 1),
        )


class EchoProvider(BaseProvider):
    """A provider whose models echo the conversation back."""

    metadata = echo_metadata()

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> ChatModel:
        return EchoChatModel(
            metadata=self.metadata,
            model=self.metadata.resolve_model(model),
            defaults=options,
            prefix=str(self.options.get("prefix", "")),
        )


class StreamingEchoProvider(EchoProvider):
    """An echo provider that also declares streaming."""

    metadata = echo_metadata(
        "streaming-echo",
        capabilities=frozenset({Capability.STREAMING, Capability.SYSTEM_MESSAGES}),
    )


class SecretProvider(EchoProvider):
    """An echo provider that needs an api_key and rejects a bad one."""

    metadata = echo_metadata("secret", required_options=("api_key",), optional_options=())

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        if self.options["api_key"] == "bad":
            msg = f"api_key {self.options['api_key']!r} is malformed"
            raise ValueError(msg)


#: Something an entry point could wrongly point at: not callable, no metadata.
NOT_A_FACTORY = 42


def race(count: int, work: Callable[[int], object]) -> list[BaseException]:
    """Run work(i) in *count* threads released together; return what they raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


#: A rootdir conftest whose provider answers with an empty model name (fails CORE checks).
NO_MODEL_NAME_CONFTEST = """
import dataclasses
import pytest
from chatmodels.providers.reference import ReferenceChatModel, ReferenceProvider

class NoModelName(ReferenceChatModel):
    def _answer(self, messages, options):
        return dataclasses.replace(super()._answer(messages, options), model="")

class NoModelNameProvider(ReferenceProvider):
    chat_model_class = NoModelName

@pytest.fixture(scope="session")
def chatmodels_provider():
    return NoModelNameProvider
"""
