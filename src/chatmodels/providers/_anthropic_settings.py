"""Options of the anthropic provider: the shared HTTP ones plus the API version and max_tokens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatmodels.providers._http_settings import (
    HttpSettings,
    option_integer,
    option_text,
    parse_http_options,
)

__all__ = [
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_OPTION_NAMES",
    "ANTHROPIC_VERSION",
    "AnthropicSettings",
    "parse_settings",
]

#: Anthropic's own server; other Messages servers (llama-server, gateways) need base_url.
ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1"
#: The API version sent when none is given.
ANTHROPIC_VERSION = "2023-06-01"
#: The options only the anthropic provider takes.
ANTHROPIC_OPTION_NAMES = ("anthropic_version", "max_output_tokens")


@dataclass(frozen=True, slots=True)
class AnthropicSettings(HttpSettings):
    """Validated provider options; the API key never appears in the repr."""

    anthropic_version: str = ANTHROPIC_VERSION
    #: Messages requires max_tokens on every request; this is used when a call sets none.
    max_output_tokens: int = 1024

    def protocol_headers(self) -> dict[str, str]:
        """The API key (as x-api-key) and the API version."""
        headers = {"anthropic-version": self.anthropic_version}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers


def parse_settings(options: Mapping[str, Any], *, provider: str) -> AnthropicSettings:
    """Check and convert every option, naming the option that is wrong."""
    version = option_text(provider, "anthropic_version", options.get("anthropic_version"))
    return AnthropicSettings(
        **parse_http_options(options, provider=provider, base_url=ANTHROPIC_BASE_URL),
        anthropic_version=version or ANTHROPIC_VERSION,
        max_output_tokens=option_integer(
            provider, "max_output_tokens", options.get("max_output_tokens", 1024), minimum=1
        ),
    )
