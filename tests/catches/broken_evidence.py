"""Providers whose side signals are missing or whose stream is cut: evidence checks must not
turn either into a failure of the requirements that merely use the signal.

Each is a ReferenceProvider subclass used as a conftest factory; see tests/kit/test_evidence.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from chatmodels.messages import ChatChunk, ChatResult, Message, Usage
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability
from chatmodels.providers.reference import (
    REFERENCE_METADATA,
    ReferenceChatModel,
    ReferenceProvider,
)

#: A server that is not deterministic, as most real ones are: answers alone are not compared.
_NOT_DETERMINISTIC = dataclasses.replace(
    REFERENCE_METADATA, capabilities=REFERENCE_METADATA.capabilities - {Capability.DETERMINISTIC}
)


class _ConstantUsageModel(ReferenceChatModel):
    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        result = super()._answer(messages, options)
        return dataclasses.replace(result, usage=Usage(1, 1))  # the bug: a fixed bill


class ConstantUsage(ReferenceProvider):
    """Bills every call 1 input and 1 output token, whatever was sent; nothing is reordered."""

    metadata = _NOT_DETERMINISTIC
    chat_model_class = _ConstantUsageModel


class _DropsLastDeltaModel(ReferenceChatModel):
    def _chunks(self, result: ChatResult, options: ChatOptions) -> list[ChatChunk]:
        chunks = super()._chunks(result, options)
        return [*chunks[:-1], dataclasses.replace(chunks[-1], delta="")]  # the bug


class DropsLastDelta(ReferenceProvider):
    """Streams lose the text of their final chunk (finish reason and usage still arrive)."""

    chat_model_class = _DropsLastDeltaModel
