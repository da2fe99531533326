"""The anthropic provider: any server speaking the Anthropic Messages API, over httpx.

Anthropic itself, llama.cpp's llama-server, LiteLLM and gateways serve ``POST /v1/messages``.
Only the protocol lives here; clients, retries, deadlines and error mapping are the shared
HTTP core's (``_http_model``, ``_http_provider``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatmodels.messages import ChatResult, Message
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ProviderMetadata
from chatmodels.providers._anthropic_settings import (
    ANTHROPIC_OPTION_NAMES,
    AnthropicSettings,
    parse_settings,
)
from chatmodels.providers._anthropic_wire import (
    MessagesStream,
    build_messages_body,
    parse_message,
)
from chatmodels.providers._http_declared import DEFAULT_OPTION_NAMES
from chatmodels.providers._http_model import HttpChatModel, StreamParser
from chatmodels.providers._http_provider import HTTP_CHAT_CAPABILITIES, HttpProvider
from chatmodels.providers._http_settings import HTTP_OPTION_NAMES

__all__ = ["AnthropicChatModel", "AnthropicProvider"]

PROVIDER_NAME = "anthropic"

_CAPABILITIES = HTTP_CHAT_CAPABILITIES | {Capability.ANTHROPIC_COMPATIBLE}


class AnthropicChatModel(HttpChatModel):
    """One model on a Messages server: POST /messages."""

    path = "/messages"
    _settings: AnthropicSettings

    def _request_body(
        self, messages: tuple[Message, ...], options: ChatOptions, *, stream: bool
    ) -> dict[str, Any]:
        return build_messages_body(
            self._model,
            messages,
            options,
            stream=stream,
            max_tokens=self._settings.max_output_tokens,
        )

    def _parse_answer(self, payload: Any, op: str) -> ChatResult:
        return parse_message(payload, op=op, fallback_model=self._model)

    def _stream_parser(self, op: str) -> StreamParser:
        return MessagesStream(op=op, fallback_model=self._model, redact=self._redact)


class AnthropicProvider(HttpProvider):
    """Talk to any Messages server; declares DETERMINISTIC only when told it is."""

    model_class = AnthropicChatModel
    _settings: AnthropicSettings
    metadata = ProviderMetadata(
        name=PROVIDER_NAME,
        version="1",
        description="Any Anthropic Messages server (Anthropic, llama.cpp's llama-server, "
        "LiteLLM...).",
        optional_options=(
            "base_url",
            *HTTP_OPTION_NAMES,
            *ANTHROPIC_OPTION_NAMES,
            "capabilities",
            *DEFAULT_OPTION_NAMES,
        ),
        secret_options=("api_key",),
        capabilities=_CAPABILITIES,
    )

    def _parse_settings(self, options: Mapping[str, Any]) -> AnthropicSettings:
        return parse_settings(options, provider=PROVIDER_NAME)

    @property
    def settings(self) -> AnthropicSettings:
        """The parsed options; the API key is kept out of the repr."""
        return self._settings
