"""The responses provider: any Open Responses server (``POST /responses``), over httpx.

Only the protocol lives here (``_responses_wire``); clients, retries, deadlines, error
mapping, redaction and wire capture are the shared HTTP core's (``_http_model``,
``_http_provider``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatmodels.messages import ChatResult, Message
from chatmodels.options import ChatOptions
from chatmodels.provider import Capability, ProviderMetadata
from chatmodels.providers._http_declared import DEFAULT_OPTION_NAMES
from chatmodels.providers._http_model import HttpChatModel, StreamParser
from chatmodels.providers._http_provider import HTTP_CHAT_CAPABILITIES, HttpProvider
from chatmodels.providers._http_settings import (
    HTTP_OPTION_NAMES,
    HttpSettings,
    parse_http_options,
)
from chatmodels.providers._responses_wire import (
    PROVIDER_NAME,
    ResponsesStreamParser,
    build_responses_body,
    parse_response,
)

__all__ = ["ResponsesChatModel", "ResponsesProvider", "ResponsesSettings"]

#: The spec has no stop sequences; it has JSON-schema output and is this protocol.
_CAPABILITIES = (HTTP_CHAT_CAPABILITIES - {Capability.STOP_SEQUENCES}) | {
    Capability.STRUCTURED_OUTPUT,
    Capability.RESPONSES_COMPATIBLE,
}


@dataclass(frozen=True, slots=True)
class ResponsesSettings(HttpSettings):
    """Validated provider options; the API key, sent as a bearer token, stays out of the repr."""

    def protocol_headers(self) -> dict[str, str]:
        """A bearer token when an API key is given."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


class ResponsesChatModel(HttpChatModel):
    """One model on an Open Responses server: POST /responses."""

    path = "/responses"

    def _request_body(
        self, messages: tuple[Message, ...], options: ChatOptions, *, stream: bool
    ) -> dict[str, Any]:
        return build_responses_body(self._model, messages, options, stream=stream)

    def _parse_answer(self, payload: Any, op: str) -> ChatResult:
        return parse_response(payload, op=op, fallback_model=self._model)

    def _stream_parser(self, op: str) -> StreamParser:
        return ResponsesStreamParser(op=op, fallback_model=self._model)


class ResponsesProvider(HttpProvider):
    """Talk to any Open Responses server (OpenAI, OpenRouter, vLLM, Ollama, LM Studio...)."""

    model_class = ResponsesChatModel
    metadata = ProviderMetadata(
        name=PROVIDER_NAME,
        version="1",
        description="Any Open Responses server: POST /responses with numbered stream events.",
        required_options=("base_url",),
        optional_options=(*HTTP_OPTION_NAMES, "capabilities", *DEFAULT_OPTION_NAMES),
        secret_options=("api_key",),
        capabilities=_CAPABILITIES,
    )

    def _parse_settings(self, options: Mapping[str, Any]) -> ResponsesSettings:
        return ResponsesSettings(**parse_http_options(options, provider=PROVIDER_NAME))
