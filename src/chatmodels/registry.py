"""Provider registry: names to factories, filled explicitly or lazily from installed entry points.

``ProviderRegistry`` is an ordinary object to build and pass around. The one deliberate
module-level instance sits behind ``default_registry()`` and the functions below it, since
provider authors expect ``register_global`` to exist.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from chatmodels.errors import (
    ChatModelError,
    ErrorCode,
    InvalidConfigError,
    ProviderAlreadyRegisteredError,
    ProviderLoadError,
    ProviderNotFoundError,
)
from chatmodels.provider import Capability, Provider, ProviderFactory, ProviderMetadata

__all__ = [
    "DEFAULT_ENTRY_POINT_GROUP",
    "ProviderRegistry",
    "default_registry",
    "get_provider_metadata",
    "list_providers",
    "new_registry_provider",
    "providers_with_capability",
    "register_global",
    "unregister",
]

#: The entry-point group installed packages use to offer providers.
DEFAULT_ENTRY_POINT_GROUP = "chatmodels.providers"

_logger = logging.getLogger("chatmodels")

# Factory errors that mean "these options are wrong" rather than "the provider is broken".
_CONFIG_ERRORS = (ValueError, TypeError, KeyError)


@dataclass(frozen=True, slots=True)
class _Entry:
    factory: ProviderFactory
    metadata: ProviderMetadata
    discovered: bool = False


def _check_name(name: object, op: str) -> str:
    if not isinstance(name, str) or not name.strip():
        msg = f"a provider name must be a non-empty string, got {name!r}"
        raise InvalidConfigError(msg, op=op)
    return name


def _not_found(name: str, known: list[str], op: str) -> ProviderNotFoundError:
    listed = ", ".join(repr(n) for n in known) if known else "none are registered"
    msg = f"no provider is registered under {name!r}; known providers: {listed}"
    return ProviderNotFoundError(msg, op=op, provider=name)


def _metadata_of(factory: object, given: ProviderMetadata | None) -> ProviderMetadata | None:
    found = given if given is not None else getattr(factory, "metadata", None)
    return found if isinstance(found, ProviderMetadata) else None


def _as_capability(value: Capability | str) -> Capability:
    try:
        return Capability(value)
    except ValueError:
        allowed = ", ".join(c.value for c in Capability)
        msg = f"capability must be one of {allowed}, got {value!r}"
        raise InvalidConfigError(msg, op="with_capability") from None


class ProviderRegistry:
    """Map provider names to factories; safe to share between threads."""

    def __init__(self, *, entry_point_group: str | None = DEFAULT_ENTRY_POINT_GROUP) -> None:
        self._group = entry_point_group
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._pending: dict[str, EntryPoint] = {}
        self._discovered = entry_point_group is None

    # -- discovery -----------------------------------------------------------------

    def _ensure_discovered(self) -> None:
        """List the group's entry points once, before any other read or write."""
        if self._discovered:
            return
        assert self._group is not None
        found: dict[str, EntryPoint] = {}
        for ep in entry_points(group=self._group):
            found.setdefault(ep.name, ep)  # the first distribution on sys.path wins
        with self._lock:
            if self._discovered:
                return
            for name, ep in found.items():
                if name not in self._entries:
                    self._pending[name] = ep
            self._discovered = True

    def _load(self, name: str, ep: EntryPoint) -> _Entry:
        """Import an entry point outside the lock; a broken one fails only its own name."""
        try:
            factory = ep.load()
        except Exception as exc:
            msg = (
                f"provider {name!r} could not be loaded from entry point {ep.value!r}: "
                f"{type(exc).__name__}: {exc}"
            )
            raise ProviderLoadError(msg, op="load", provider=name, cause=exc) from exc
        metadata = _metadata_of(factory, None)
        if not callable(factory) or metadata is None:
            msg = (
                f"entry point {ep.value!r} for provider {name!r} loaded {factory!r}; expected "
                "a callable factory(options) -> Provider with a ProviderMetadata `metadata` "
                "attribute"
            )
            raise ProviderLoadError(msg, op="load", provider=name)
        entry = _Entry(factory, metadata, discovered=True)
        with self._lock:
            if self._pending.get(name) is ep:
                del self._pending[name]
                self._entries[name] = entry
        return entry

    def _lookup(self, name: object, op: str) -> _Entry:
        self._ensure_discovered()
        checked = _check_name(name, op)
        entry = self._entries.get(checked)
        if entry is not None:
            return entry
        with self._lock:
            entry = self._entries.get(checked)
            ep = self._pending.get(checked)
            known = sorted({*self._entries, *self._pending})
        if entry is not None:
            return entry
        if ep is None:
            raise _not_found(checked, known, op)
        return self._load(checked, ep)

    # -- writes ----------------------------------------------------------------------

    def register(
        self,
        name: str,
        factory: ProviderFactory,
        *,
        metadata: ProviderMetadata | None = None,
        replace: bool = False,
    ) -> None:
        """Make *factory* available under *name*; it overrides an entry point of that name."""
        _check_name(name, "register")
        if not callable(factory):
            msg = (
                f"factory for provider {name!r} must be callable(options) -> Provider, "
                f"got {factory!r}"
            )
            raise TypeError(msg)
        if metadata is not None and not isinstance(metadata, ProviderMetadata):
            msg = f"metadata for provider {name!r} must be a ProviderMetadata, got {metadata!r}"
            raise TypeError(msg)
        found = _metadata_of(factory, metadata)
        if found is None:
            msg = (
                f"provider {name!r} has no metadata: pass metadata=ProviderMetadata(...) or give "
                f"the factory {factory!r} a ProviderMetadata `metadata` attribute"
            )
            raise TypeError(msg)
        self._ensure_discovered()
        with self._lock:
            current = self._entries.get(name)
            if current is not None and not current.discovered and not replace:
                msg = (
                    f"a provider is already registered under {name!r}; "
                    "pass replace=True to replace it"
                )
                raise ProviderAlreadyRegisteredError(msg, op="register", provider=name)
            self._pending.pop(name, None)
            self._entries[name] = _Entry(factory, found)

    def unregister(self, name: str) -> None:
        """Forget *name*, whether registered explicitly or found as an entry point."""
        self._ensure_discovered()
        _check_name(name, "unregister")
        with self._lock:
            removed = self._entries.pop(name, None) or self._pending.pop(name, None)
            known = sorted({*self._entries, *self._pending})
        if removed is None:
            raise _not_found(name, known, "unregister")

    # -- reads -----------------------------------------------------------------------

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Provider:
        """Build the provider *name* from *options*; option values never appear in errors."""
        entry = self._lookup(name, "create_provider")
        if options is None:
            options = {}
        elif not isinstance(options, Mapping):
            msg = (
                f"options for provider {name!r} must be a mapping of option names to values, "
                f"got a {type(options).__name__}"
            )
            raise InvalidConfigError(msg, op="create_provider", provider=name)
        missing = [key for key in entry.metadata.required_options if key not in options]
        if missing:
            msg = (
                f"provider {name!r} needs option {missing[0]!r}; required options: "
                f"{list(entry.metadata.required_options)!r}, given: {sorted(map(str, options))!r}"
            )
            raise InvalidConfigError(msg, op="create_provider", provider=name)
        try:
            provider = entry.factory(dict(options))
        except ChatModelError:
            raise
        except Exception as exc:
            code = (
                ErrorCode.INVALID_CONFIG
                if isinstance(exc, _CONFIG_ERRORS)
                else ErrorCode.PROVIDER_LOAD_FAILED
            )
            what = "rejected its options" if code is ErrorCode.INVALID_CONFIG else "failed to start"
            # The cause's text may quote option values (secrets), so only its type is named.
            msg = f"provider {name!r} {what}: the factory raised {type(exc).__name__}"
            cls = InvalidConfigError if code is ErrorCode.INVALID_CONFIG else ProviderLoadError
            raise cls(msg, op="create_provider", provider=name, cause=exc) from exc
        if not callable(getattr(provider, "create_chat_model", None)):
            msg = (
                f"the factory of provider {name!r} returned a {type(provider).__name__}; "
                "expected a Provider with create_chat_model()"
            )
            raise ProviderLoadError(msg, op="create_provider", provider=name)
        return provider

    def metadata(self, name: str) -> ProviderMetadata:
        """Return what provider *name* declares, loading its entry point if needed."""
        return self._lookup(name, "metadata").metadata

    def names(self) -> list[str]:
        """List every known name, including entry points not imported yet."""
        self._ensure_discovered()
        with self._lock:
            return sorted({*self._entries, *self._pending})

    def with_capability(self, *capabilities: Capability | str) -> list[str]:
        """List the providers declaring every one of *capabilities*; broken ones are skipped."""
        wanted = {_as_capability(c) for c in capabilities}
        result = []
        for name in self.names():
            try:
                declared = self._lookup(name, "with_capability").metadata.capabilities
            except (ProviderLoadError, ProviderNotFoundError) as exc:
                _logger.warning("skipping provider %r: %s", name, exc.message)
                continue
            if wanted <= declared:
                result.append(name)
        return result

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        self._ensure_discovered()
        with self._lock:
            return name in self._entries or name in self._pending

    def __repr__(self) -> str:
        return f"<ProviderRegistry group={self._group!r} providers={self.names()!r}>"


# The one deliberate global: the default registry behind the module-level functions.
_DEFAULT_REGISTRY = ProviderRegistry()


def default_registry() -> ProviderRegistry:
    """Return the process-wide registry that entry points and register_global() fill."""
    return _DEFAULT_REGISTRY


def register_global(
    name: str,
    factory: ProviderFactory,
    *,
    metadata: ProviderMetadata | None = None,
    replace: bool = False,
) -> None:
    """Register *factory* under *name* in the default registry."""
    _DEFAULT_REGISTRY.register(name, factory, metadata=metadata, replace=replace)


def new_registry_provider(name: str, options: Mapping[str, Any] | None = None) -> Provider:
    """Build provider *name* from the default registry."""
    return _DEFAULT_REGISTRY.create(name, options)


def list_providers() -> list[str]:
    """List the names in the default registry."""
    return _DEFAULT_REGISTRY.names()


def get_provider_metadata(name: str) -> ProviderMetadata:
    """Return the metadata of provider *name* in the default registry."""
    return _DEFAULT_REGISTRY.metadata(name)


def unregister(name: str) -> None:
    """Remove *name* from the default registry."""
    _DEFAULT_REGISTRY.unregister(name)


def providers_with_capability(*capabilities: Capability | str) -> list[str]:
    """List providers in the default registry declaring all *capabilities*."""
    return _DEFAULT_REGISTRY.with_capability(*capabilities)
