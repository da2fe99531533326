"""The contract a provider keeps: the ChatModel interface, the Provider factory, metadata."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from chatmodels.errors import ChatModelError, InvalidConfigError
from chatmodels.messages import ChatChunk, ChatResult, MessageLike
from chatmodels.options import OptionsLike

__all__ = [
    "BatchResult",
    "Capability",
    "ChatModel",
    "HealthState",
    "HealthStatus",
    "Provider",
    "ProviderFactory",
    "ProviderMetadata",
]


class Capability(str, enum.Enum):
    """An optional feature a provider declares; the conformance kit tests what is declared."""

    STREAMING = "streaming"
    ASYNC = "async"
    BATCH = "batch"
    TOOLS = "tools"
    TOOL_CHOICE = "tool_choice"
    JSON_MODE = "json_mode"
    STOP_SEQUENCES = "stop_sequences"
    MAX_TOKENS = "max_tokens"
    USAGE = "usage"
    SYSTEM_MESSAGES = "system_messages"
    DETERMINISTIC = "deterministic"
    CANCELLATION = "cancellation"
    TIMEOUT = "timeout"
    OPENAI_COMPATIBLE = "openai_compatible"
    ANTHROPIC_COMPATIBLE = "anthropic_compatible"
    RESPONSES_COMPATIBLE = "responses_compatible"
    TELEMETRY = "telemetry"
    STRUCTURED_OUTPUT = "structured_output"
    VISION = "vision"
    REASONING = "reasoning"
    PARALLEL_TOOL_CALLS = "parallel_tool_calls"

    def __str__(self) -> str:
        return self.value


def _as_capabilities(values: Iterable[Capability | str]) -> frozenset[Capability]:
    result = set()
    for value in values:
        try:
            result.add(Capability(value))
        except ValueError:
            allowed = ", ".join(c.value for c in Capability)
            msg = f"capabilities must be among {allowed}, got {value!r}"
            raise InvalidConfigError(msg, op="metadata") from None
    return frozenset(result)


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What a provider is and what it declares it can do."""

    name: str
    version: str = "0"
    description: str = ""
    models: tuple[str, ...] = ()
    default_model: str | None = None
    required_options: tuple[str, ...] = ()
    optional_options: tuple[str, ...] = ()
    secret_options: tuple[str, ...] = ("api_key",)
    capabilities: frozenset[Capability] = field(default_factory=frozenset)
    max_input_tokens: int | None = None
    health_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            msg = f"ProviderMetadata.name must be a non-empty string, got {self.name!r}"
            raise InvalidConfigError(msg, op="metadata")
        object.__setattr__(self, "capabilities", _as_capabilities(self.capabilities))
        for name in ("models", "required_options", "optional_options", "secret_options"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def supports(self, capability: Capability | str) -> bool:
        """Tell whether the provider declares *capability*."""
        return Capability(capability) in self.capabilities

    def resolve_model(self, model: str | None) -> str:
        """Pick *model*, else the default model, else the first listed one."""
        chosen = model or self.default_model or (self.models[0] if self.models else None)
        if not chosen:
            msg = f"provider {self.name!r} needs a model name; it lists no default model"
            raise InvalidConfigError(msg, op="create_chat_model", provider=self.name)
        return chosen


class HealthState(str, enum.Enum):
    """Coarse health of a provider or service."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class HealthStatus:
    """The answer of a health check; ``latency`` is in seconds."""

    status: HealthState
    latency: float
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the status is healthy."""
        return self.status is HealthState.HEALTHY


BatchResult = list[ChatResult | ChatModelError]


@runtime_checkable
class ChatModel(Protocol):
    """A configured model: call it sync or async, whole or streamed, one or many at a time."""

    @property
    def metadata(self) -> ProviderMetadata:
        """The metadata of the provider that made this model."""
        ...

    @property
    def model(self) -> str:
        """The model name requests are sent for."""
        ...

    def invoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation."""
        ...

    async def ainvoke(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> ChatResult:
        """Answer the conversation without blocking the event loop."""
        ...

    def stream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> Iterator[ChatChunk]:
        """Answer the conversation as a stream of deltas."""
        ...

    def astream(
        self, messages: Sequence[MessageLike] | str, options: OptionsLike = None
    ) -> AsyncIterator[ChatChunk]:
        """Answer the conversation as an async stream of deltas."""
        ...

    def batch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations; a failed item holds its error at its index."""
        ...

    async def abatch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations concurrently on the running loop."""
        ...

    def health_check(self) -> HealthStatus:
        """Probe whether the model answers."""
        ...

    def close(self) -> None:
        """Release connections and threads; later calls raise ClosedError."""
        ...

    async def aclose(self) -> None:
        """Release resources from async code."""
        ...

    def __enter__(self) -> ChatModel: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def __aenter__(self) -> ChatModel: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class Provider(Protocol):
    """A configured connection to a chat service that makes ChatModels."""

    @property
    def metadata(self) -> ProviderMetadata:
        """What this provider is and declares."""
        ...

    def create_chat_model(self, model: str | None = None, options: OptionsLike = None) -> ChatModel:
        """Make a model; *options* become its per-call defaults."""
        ...

    def health_check(self) -> HealthStatus:
        """Probe whether the service is reachable."""
        ...


class ProviderFactory(Protocol):
    """What the registry stores: a callable turning provider options into a Provider."""

    def __call__(self, options: Mapping[str, Any]) -> Provider: ...
