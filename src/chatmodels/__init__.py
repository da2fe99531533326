"""chatmodels: the provider interface, registry, container, errors and telemetry for chat models.

Names load on first use, so importing the package (as the pytest plugin does on every run)
costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatmodels.base import (
        BaseChatModel,
        BaseProvider,
    )
    from chatmodels.di import (
        Container,
        DependencyCycleError,
        ServiceNotFoundError,
    )
    from chatmodels.errors import (
        RETRYABLE_CODES,
        UPSTREAM_CODES,
        AuthenticationError,
        ChatCancelledError,
        ChatModelError,
        ChatTimeoutError,
        ClosedError,
        ErrorCode,
        InvalidConfigError,
        InvalidInputError,
        InvalidResponseError,
        ModelNotFoundError,
        NetworkError,
        PermissionDeniedError,
        ProviderAlreadyRegisteredError,
        ProviderLoadError,
        ProviderNotFoundError,
        QuotaExceededError,
        RateLimitError,
        ServerError,
        UnsupportedError,
        make_error,
    )
    from chatmodels.messages import (
        ChatChunk,
        ChatResult,
        FinishReason,
        Message,
        Role,
        ToolCall,
        ToolCallDelta,
        Usage,
        merge_chunks,
    )
    from chatmodels.options import (
        REASONING_EFFORTS,
        ChatOptions,
        JsonSchemaFormat,
        ResponseFormat,
        ToolSpec,
    )
    from chatmodels.parts import (
        ImagePart,
        MediaPart,
        TextPart,
    )
    from chatmodels.provider import (
        Capability,
        ChatModel,
        HealthState,
        HealthStatus,
        Provider,
        ProviderMetadata,
    )
    from chatmodels.registry import (
        ProviderRegistry,
        default_registry,
        get_provider_metadata,
        list_providers,
        new_registry_provider,
        providers_with_capability,
        register_global,
        unregister,
    )
    from chatmodels.telemetry import (
        InstrumentedChatModel,
        instrument,
    )

_ORIGIN: dict[str, str] = {
    "BaseChatModel": "chatmodels.base",
    "BaseProvider": "chatmodels.base",
    "AuthenticationError": "chatmodels.errors",
    "ChatCancelledError": "chatmodels.errors",
    "ChatModelError": "chatmodels.errors",
    "ChatTimeoutError": "chatmodels.errors",
    "ClosedError": "chatmodels.errors",
    "ErrorCode": "chatmodels.errors",
    "InvalidConfigError": "chatmodels.errors",
    "InvalidInputError": "chatmodels.errors",
    "InvalidResponseError": "chatmodels.errors",
    "ModelNotFoundError": "chatmodels.errors",
    "NetworkError": "chatmodels.errors",
    "PermissionDeniedError": "chatmodels.errors",
    "ProviderAlreadyRegisteredError": "chatmodels.errors",
    "ProviderLoadError": "chatmodels.errors",
    "ProviderNotFoundError": "chatmodels.errors",
    "QuotaExceededError": "chatmodels.errors",
    "RETRYABLE_CODES": "chatmodels.errors",
    "UPSTREAM_CODES": "chatmodels.errors",
    "RateLimitError": "chatmodels.errors",
    "ServerError": "chatmodels.errors",
    "UnsupportedError": "chatmodels.errors",
    "make_error": "chatmodels.errors",
    "ChatChunk": "chatmodels.messages",
    "ChatResult": "chatmodels.messages",
    "FinishReason": "chatmodels.messages",
    "Message": "chatmodels.messages",
    "Role": "chatmodels.messages",
    "ToolCall": "chatmodels.messages",
    "ToolCallDelta": "chatmodels.messages",
    "Usage": "chatmodels.messages",
    "merge_chunks": "chatmodels.messages",
    "ChatOptions": "chatmodels.options",
    "JsonSchemaFormat": "chatmodels.options",
    "REASONING_EFFORTS": "chatmodels.options",
    "ImagePart": "chatmodels.parts",
    "MediaPart": "chatmodels.parts",
    "TextPart": "chatmodels.parts",
    "ResponseFormat": "chatmodels.options",
    "ToolSpec": "chatmodels.options",
    "Capability": "chatmodels.provider",
    "ChatModel": "chatmodels.provider",
    "HealthState": "chatmodels.provider",
    "HealthStatus": "chatmodels.provider",
    "Provider": "chatmodels.provider",
    "ProviderMetadata": "chatmodels.provider",
    "ProviderRegistry": "chatmodels.registry",
    "default_registry": "chatmodels.registry",
    "get_provider_metadata": "chatmodels.registry",
    "list_providers": "chatmodels.registry",
    "new_registry_provider": "chatmodels.registry",
    "providers_with_capability": "chatmodels.registry",
    "register_global": "chatmodels.registry",
    "unregister": "chatmodels.registry",
    "Container": "chatmodels.di",
    "DependencyCycleError": "chatmodels.di",
    "ServiceNotFoundError": "chatmodels.di",
    "InstrumentedChatModel": "chatmodels.telemetry",
    "instrument": "chatmodels.telemetry",
}

__all__ = [
    "AuthenticationError",
    "BaseChatModel",
    "BaseProvider",
    "Capability",
    "ChatCancelledError",
    "ChatChunk",
    "ChatModel",
    "ChatModelError",
    "ChatOptions",
    "ChatResult",
    "ChatTimeoutError",
    "ClosedError",
    "Container",
    "DependencyCycleError",
    "ErrorCode",
    "FinishReason",
    "HealthState",
    "HealthStatus",
    "ImagePart",
    "InstrumentedChatModel",
    "InvalidConfigError",
    "InvalidInputError",
    "InvalidResponseError",
    "JsonSchemaFormat",
    "MediaPart",
    "Message",
    "ModelNotFoundError",
    "NetworkError",
    "PermissionDeniedError",
    "Provider",
    "ProviderAlreadyRegisteredError",
    "ProviderLoadError",
    "ProviderMetadata",
    "ProviderNotFoundError",
    "ProviderRegistry",
    "QuotaExceededError",
    "REASONING_EFFORTS",
    "RETRYABLE_CODES",
    "RateLimitError",
    "ResponseFormat",
    "Role",
    "ServerError",
    "ServiceNotFoundError",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolSpec",
    "UPSTREAM_CODES",
    "UnsupportedError",
    "Usage",
    "default_registry",
    "get_provider_metadata",
    "instrument",
    "list_providers",
    "make_error",
    "merge_chunks",
    "new_registry_provider",
    "providers_with_capability",
    "register_global",
    "unregister",
]


def __getattr__(name: str) -> Any:
    try:
        module = _ORIGIN[name]
    except KeyError:
        msg = f"module 'chatmodels' has no attribute {name!r}"
        raise AttributeError(msg) from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
