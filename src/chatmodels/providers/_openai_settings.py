"""Options of the openai provider: the shared HTTP ones plus an organization and stream usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatmodels.providers._http_settings import (
    HttpSettings,
    option_boolean,
    option_text,
    parse_http_options,
)

__all__ = ["OPENAI_OPTION_NAMES", "OpenAISettings", "parse_settings"]

#: The options only the openai provider takes.
OPENAI_OPTION_NAMES = ("organization", "stream_usage")


@dataclass(frozen=True, slots=True)
class OpenAISettings(HttpSettings):
    """Validated provider options; the API key never appears in the repr."""

    organization: str | None = None
    stream_usage: bool = True

    def protocol_headers(self) -> dict[str, str]:
        """A bearer token, and the organization when one is named."""
        headers = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        return headers


def parse_settings(options: Mapping[str, Any], *, provider: str = "openai") -> OpenAISettings:
    """Check and convert every option, naming the option that is wrong."""
    return OpenAISettings(
        **parse_http_options(options, provider=provider),
        organization=option_text(provider, "organization", options.get("organization")),
        stream_usage=option_boolean(provider, "stream_usage", options.get("stream_usage", True)),
    )
