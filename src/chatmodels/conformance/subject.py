"""The provider under test: how it was chosen, how to make more of it, and what it declares."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chatmodels.options import OptionsLike
from chatmodels.provider import ChatModel, Provider, ProviderMetadata
from chatmodels.providers._http_capture import WireRecorder

__all__ = ["SECRET_PATTERN", "Subject", "is_secret", "subject_from_fixture"]

#: Option names that are treated as secrets even when the metadata does not say so
#: (a token is a secret; a count of tokens such as max_tokens is not).
SECRET_PATTERN = re.compile(r"key|token(?!s)|secret|password|authorization|credential", re.I)

ProviderMaker = Callable[[Mapping[str, Any]], Provider]


def is_secret(name: str, metadata: ProviderMetadata | None = None) -> bool:
    """Tell whether option *name* must never be printed or written."""
    declared = metadata.secret_options if metadata is not None else ()
    return name in declared or bool(SECRET_PATTERN.search(name))


@dataclass(repr=False)
class Subject:
    """What the suites test: a provider (re-creatable when a maker is known) or a lone model."""

    name: str
    source: str
    options: dict[str, str] = field(default_factory=dict)
    model_name: str | None = None
    provider: Provider | None = None
    maker: ProviderMaker | None = None
    lone_model: ChatModel | None = None
    wire: WireRecorder | None = None

    def record_wire(self) -> WireRecorder | None:
        """Have the provider record its raw HTTP exchanges, when it can (``record_wire``)."""
        record = getattr(self.provider, "record_wire", None)
        if self.wire is None and callable(record):
            self.wire = WireRecorder()
            record(self.wire)
        return self.wire

    @property
    def metadata(self) -> ProviderMetadata:
        """The metadata the provider declares."""
        if self.provider is not None:
            return self.provider.metadata
        assert self.lone_model is not None
        return self.lone_model.metadata

    @property
    def remote(self) -> bool:
        """Whether calls are served elsewhere (a ``base_url``): work this process cannot time."""
        return bool(self.options.get("base_url"))

    @property
    def model(self) -> str:
        """The model name under test."""
        if self.lone_model is not None:
            return self.lone_model.model
        return self.metadata.resolve_model(self.model_name)

    def create_chat_model(self, options: OptionsLike = None) -> ChatModel:
        """Make a new model from the provider; a lone model cannot be multiplied."""
        if self.provider is None:
            msg = (
                "the chatmodels_provider fixture returned a single ChatModel; return a "
                "Provider (or a provider factory) so tests can make fresh models"
            )
            raise LookupError(msg)
        return self.provider.create_chat_model(self.model_name, options)

    def make_provider(self, overrides: Mapping[str, Any]) -> Provider:
        """Make a provider with *overrides* merged over the run's options."""
        if self.maker is None:
            msg = (
                f"provider {self.name!r} came from a fixture instance; register it or return "
                "its factory from chatmodels_provider so tests can re-create it with options"
            )
            raise LookupError(msg)
        return self.maker({**self.options, **overrides})

    def redacted_options(self) -> dict[str, str]:
        """The options with secret values replaced by ``***``."""
        metadata = self.metadata
        redacted = {k: "***" if is_secret(k, metadata) else v for k, v in self.options.items()}
        if "headers" in redacted:
            redacted["headers"] = "\n".join(
                f"{name}:{'***' if is_secret(name) else value}"
                for name, value in _header_lines(redacted["headers"])
            )
        return redacted

    def __repr__(self) -> str:
        # pytest shows fixture values (and -l locals) in failures: never a secret option.
        try:
            options = self.redacted_options()
        except Exception:  # a provider whose metadata fails: redact by name alone
            options = {k: "***" if is_secret(k) else v for k, v in self.options.items()}
        return (
            f"Subject(name={self.name!r}, source={self.source!r}, options={options!r}, "
            f"model_name={self.model_name!r}, provider={self.provider!r})"
        )

    def secret_values(self) -> list[str]:
        """Literal secret values, to scrub from anything written."""
        metadata = self.metadata
        values = [v for k, v in self.options.items() if v and is_secret(k, metadata)]
        headers = _header_lines(self.options.get("headers", ""))
        return values + [v for name, v in headers if v and is_secret(name)]


def _header_lines(text: str) -> list[tuple[str, str]]:
    """Split the ``headers`` option's ``Name:Value`` lines."""
    pairs = (line.partition(":") for line in text.splitlines() if line.strip())
    return [(name.strip(), value.strip()) for name, _, value in pairs]


def subject_from_fixture(value: object, options: dict[str, str], model: str | None) -> Subject:
    """Build a subject from what a ``chatmodels_provider`` fixture returned."""
    if isinstance(value, Provider) and not isinstance(value, type):
        return Subject(value.metadata.name, "fixture", options, model, provider=value)
    if callable(value) and isinstance(getattr(value, "metadata", None), ProviderMetadata):
        maker: ProviderMaker = value
        provider = maker(options)
        return Subject(provider.metadata.name, "fixture", options, model, provider, maker)
    if isinstance(value, ChatModel):
        return Subject(value.metadata.name, "fixture", options, model, lone_model=value)
    msg = (
        "the chatmodels_provider fixture must return a Provider, a provider factory "
        f"(a callable with a 'metadata' attribute) or a ChatModel, got {value!r}"
    )
    raise TypeError(msg)
