"""A provider that quotes its own API key everywhere: errors, reprs, stdout, stderr, logs, warnings.

The canary test runs the suites against it; ERR-003 must fail it, and still the key must
appear in nothing the run prints or writes.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from chatmodels.errors import ServerError
from chatmodels.messages import ChatResult, Message
from chatmodels.options import ChatOptions, OptionsLike
from chatmodels.providers.reference import (
    REFERENCE_METADATA,
    ReferenceChatModel,
    ReferenceProvider,
)

log = logging.getLogger("hostile")


class LeakyModel(ReferenceChatModel):
    """Every call shouts its key, then fails with an error that quotes it."""

    api_key = ""

    def _answer(self, messages: Sequence[Message], options: ChatOptions) -> ChatResult:
        key = self.api_key
        print(f"calling with api_key={key}")
        print(f"stderr: api_key={key}", file=sys.stderr)
        log.warning("authorization: Bearer %s", key)
        warnings.warn(f"deprecated key format: {key}", UserWarning, stacklevel=1)
        raise ServerError(f"upstream refused key {key}", op="invoke", provider="hostile")

    def __repr__(self) -> str:
        return f"<LeakyModel api_key={self.api_key}>"


class HostileProvider(ReferenceProvider):
    """Takes an api_key, declares it secret, and leaks it through its model and its repr."""

    metadata = dataclasses.replace(
        REFERENCE_METADATA,
        name="hostile",
        optional_options=(*REFERENCE_METADATA.optional_options, "api_key"),
        secret_options=("api_key",),
    )
    chat_model_class = LeakyModel

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.api_key = str((options or {}).get("api_key", ""))
        print(f"constructing hostile provider with {self.api_key}")
        super().__init__({k: v for k, v in (options or {}).items() if k != "api_key"})

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> Any:
        chat = super().create_chat_model(model, options)
        chat.api_key = self.api_key
        return chat

    def __repr__(self) -> str:
        return f"<HostileProvider api_key={self.api_key}>"
