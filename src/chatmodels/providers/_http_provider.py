"""The provider every HTTP protocol shares: parsed options, declared capabilities, wire capture.

A protocol subclasses ``HttpProvider`` with its ``metadata``, its ``model_class`` (an
``HttpChatModel``) and ``_parse_settings``; it gets ``capabilities=`` and ``default.*``
options, DETERMINISTIC when told, ``record_wire`` and ``create_chat_model`` from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

from chatmodels.base import BaseProvider
from chatmodels.options import OptionsLike, coerce_options
from chatmodels.provider import Capability
from chatmodels.providers._http_capture import WireRecorder
from chatmodels.providers._http_declared import parse_call_defaults, parse_capabilities
from chatmodels.providers._http_model import HttpChatModel
from chatmodels.providers._http_settings import HttpSettings

__all__ = ["HTTP_CHAT_CAPABILITIES", "HttpProvider"]

#: What every bundled HTTP chat provider offers; each adds its protocol's capability.
HTTP_CHAT_CAPABILITIES = frozenset(
    {
        Capability.STREAMING,
        Capability.ASYNC,
        Capability.BATCH,
        Capability.TOOLS,
        Capability.TOOL_CHOICE,
        Capability.JSON_MODE,
        Capability.STOP_SEQUENCES,
        Capability.MAX_TOKENS,
        Capability.USAGE,
        Capability.SYSTEM_MESSAGES,
        Capability.CANCELLATION,
        Capability.TIMEOUT,
    }
)


class HttpProvider(BaseProvider):
    """Talk to one HTTP protocol; declares DETERMINISTIC only when told the server is."""

    #: The chat model class this provider makes.
    model_class: ClassVar[type[HttpChatModel]] = HttpChatModel

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        name = type(self).metadata.name
        self._settings = self._parse_settings(self.options)
        self._recorder: WireRecorder | None = None
        offered = set(type(self).metadata.capabilities)
        if self._settings.deterministic:
            offered.add(Capability.DETERMINISTIC)
        capabilities = parse_capabilities(
            self.options.get("capabilities"), frozenset(offered), provider=name
        )
        self._call_defaults = parse_call_defaults(self.options, provider=name)
        self.metadata = dataclasses.replace(
            type(self).metadata,
            capabilities=capabilities,
            default_model=self._settings.model,
        )

    def _parse_settings(self, options: Mapping[str, Any]) -> HttpSettings:
        """Check and convert every option, naming the one that is wrong."""
        raise NotImplementedError

    @property
    def settings(self) -> HttpSettings:
        """The parsed options; the API key is kept out of the repr."""
        return self._settings

    def record_wire(self, recorder: WireRecorder | None) -> None:
        """Record every HTTP exchange of models made from now on in *recorder*; None stops."""
        self._recorder = recorder

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> HttpChatModel:
        """Make a model for *model*, else the ``model`` option; *options* become call defaults,
        over the ``default.*`` options."""
        defaults = coerce_options(options)
        if self._call_defaults is not None:
            defaults = defaults.merged_over(self._call_defaults)
        return self.model_class(
            metadata=self.metadata,
            model=self.metadata.resolve_model(model),
            settings=self._settings,
            defaults=defaults,
            recorder=self._recorder,
        )
