"""The openai provider: any OpenAI-compatible chat-completions server, spoken to over httpx.

Only the protocol lives here; clients, retries, deadlines and error mapping are the shared
HTTP core's (``_http_model``, ``_http_provider``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatmodels.messages import ChatResult, Message
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ProviderMetadata
from chatmodels.providers._http_declared import DEFAULT_OPTION_NAMES
from chatmodels.providers._http_model import HttpChatModel, StreamParser
from chatmodels.providers._http_provider import HTTP_CHAT_CAPABILITIES, HttpProvider
from chatmodels.providers._http_settings import HTTP_OPTION_NAMES
from chatmodels.providers._openai_settings import (
    OPENAI_OPTION_NAMES,
    OpenAISettings,
    parse_settings,
)
from chatmodels.providers._openai_wire import StreamAssembler, build_request_body, parse_completion

__all__ = ["OpenAIChatModel", "OpenAIProvider"]

PROVIDER_NAME = "openai"

# vision and reasoning depend on the model behind the server: `capabilities=+vision,+reasoning`.
_CAPABILITIES = HTTP_CHAT_CAPABILITIES | {
    Capability.OPENAI_COMPATIBLE,
    Capability.STRUCTURED_OUTPUT,
    Capability.PARALLEL_TOOL_CALLS,
}


class OpenAIChatModel(HttpChatModel):
    """One model on an OpenAI-compatible server: POST /chat/completions."""

    path = "/chat/completions"
    _settings: OpenAISettings
    supported_parts = frozenset({"audio", "file"})
    accepts_model_override = True

    def _request_body(
        self, messages: tuple[Message, ...], options: ChatOptions, *, stream: bool
    ) -> dict[str, Any]:
        return build_request_body(
            self._model, messages, options, stream=stream, stream_usage=self._settings.stream_usage
        )

    def _parse_answer(self, payload: Any, op: str) -> ChatResult:
        return parse_completion(payload, op=op, fallback_model=self._model)

    def _stream_parser(self, op: str) -> StreamParser:
        return StreamAssembler(op=op, fallback_model=self._model)


class OpenAIProvider(HttpProvider):
    """Talk to any OpenAI-compatible server; declares DETERMINISTIC only when told it is."""

    model_class = OpenAIChatModel
    _settings: OpenAISettings
    metadata = ProviderMetadata(
        name=PROVIDER_NAME,
        version="1",
        description="Any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp...).",
        required_options=("base_url",),
        optional_options=(
            *HTTP_OPTION_NAMES,
            *OPENAI_OPTION_NAMES,
            "capabilities",
            *DEFAULT_OPTION_NAMES,
        ),
        secret_options=("api_key",),
        capabilities=_CAPABILITIES,
    )

    def _parse_settings(self, options: Mapping[str, Any]) -> OpenAISettings:
        return parse_settings(options, provider=PROVIDER_NAME)

    @property
    def settings(self) -> OpenAISettings:
        """The parsed options; the API key is kept out of the repr."""
        return self._settings
