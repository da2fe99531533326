"""What a LangChain chat model can do, read from what its class overrides and its profile."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel as LCChatModel

from chatmodels.provider import Capability

__all__ = ["BASE_CAPABILITIES", "infer_capabilities", "overrides"]

#: What every LangChain chat model offers through the bridge: async (LangChain runs sync
#: models in an executor), batch, and system messages.
BASE_CAPABILITIES = frozenset({Capability.ASYNC, Capability.BATCH, Capability.SYSTEM_MESSAGES})

#: Profile keys (LangChain model profiles) that confirm or deny a capability.
_PROFILE_KEYS: tuple[tuple[str, Capability], ...] = (
    ("tool_calling", Capability.TOOLS),
    ("tool_choice", Capability.TOOL_CHOICE),
    ("structured_output", Capability.JSON_MODE),
)


def overrides(cls: type, name: str) -> bool:
    """Tell whether *cls* replaces LangChain's default *name* method."""
    return getattr(cls, name, None) is not getattr(LCChatModel, name, None)


def _has_parameter(cls: type, method: str, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(getattr(cls, method)).parameters
    except (TypeError, ValueError):
        return False


def _is_openai_compatible(cls: type) -> bool:
    try:
        from langchain_openai.chat_models.base import BaseChatOpenAI
    except ImportError:
        return False
    return issubclass(cls, BaseChatOpenAI)


def infer_capabilities(model: LCChatModel, *, deterministic: bool) -> frozenset[Capability]:
    """Infer capabilities from the class's overrides, its fields and its model profile."""
    cls = type(model)
    found = set(BASE_CAPABILITIES)
    if overrides(cls, "_stream") or overrides(cls, "_astream"):
        found.add(Capability.STREAMING)
    if overrides(cls, "_agenerate") or overrides(cls, "_astream"):
        found.add(Capability.CANCELLATION)
    if overrides(cls, "bind_tools"):
        found.add(Capability.TOOLS)
        if _has_parameter(cls, "bind_tools", "tool_choice"):
            found.add(Capability.TOOL_CHOICE)
    if overrides(cls, "with_structured_output") and _has_parameter(
        cls, "with_structured_output", "method"
    ):
        found.add(Capability.JSON_MODE)
    fields = set(cls.model_fields)
    if "max_tokens" in fields:
        found.add(Capability.MAX_TOKENS)
    if "stop" in fields:
        found.add(Capability.STOP_SEQUENCES)
    if "stream_usage" in fields:
        found.add(Capability.USAGE)
    if _is_openai_compatible(cls):
        found.add(Capability.OPENAI_COMPATIBLE)
    if deterministic:
        found.add(Capability.DETERMINISTIC)
    profile: Mapping[str, Any] = getattr(model, "profile", None) or {}
    for key, capability in _PROFILE_KEYS:
        if profile.get(key) is False:
            found.discard(capability)
    if Capability.TOOLS not in found:
        found.discard(Capability.TOOL_CHOICE)
    return frozenset(found)
