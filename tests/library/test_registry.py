"""Tests for chatmodels.registry: registration, creation, errors, entry points, threads."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chatmodels import registry as registry_module
from chatmodels.base import BaseProvider
from chatmodels.errors import (
    ChatModelError,
    ErrorCode,
    InvalidConfigError,
    ProviderAlreadyRegisteredError,
    ProviderLoadError,
    ProviderNotFoundError,
    UnsupportedError,
)
from chatmodels.provider import Capability, Provider
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
from provider_fakes import (
    EchoProvider,
    SecretProvider,
    StreamingEchoProvider,
    echo_metadata,
    race,
)

GROUP = "chatmodels.test_providers"


@pytest.fixture
def reg() -> ProviderRegistry:
    return ProviderRegistry(entry_point_group=None)


class TestRegister:
    def test_class_factory_uses_class_metadata(self, reg: ProviderRegistry) -> None:
        """A provider class registers with the metadata it carries as a class attribute."""
        reg.register("echo", EchoProvider)
        assert reg.metadata("echo") is EchoProvider.metadata
        assert "echo" in reg
        assert reg.names() == ["echo"]

    def test_explicit_metadata_wins_over_attribute(self, reg: ProviderRegistry) -> None:
        """metadata= overrides whatever the factory carries."""
        meta = echo_metadata("alias")
        reg.register("alias", EchoProvider, metadata=meta)
        assert reg.metadata("alias") is meta

    def test_plain_function_factory_needs_metadata(self, reg: ProviderRegistry) -> None:
        """A function without a metadata attribute is refused at register time, naming the fix."""
        with pytest.raises(TypeError, match=r"provider 'fn' has no metadata: pass metadata="):
            reg.register("fn", lambda options: EchoProvider(options))
        assert "fn" not in reg

    def test_function_factory_with_metadata(self, reg: ProviderRegistry) -> None:
        """A plain function registers when metadata is given, and create() calls it."""
        reg.register("fn", lambda options: EchoProvider(options), metadata=echo_metadata("fn"))
        assert isinstance(reg.create("fn"), EchoProvider)

    def test_non_callable_factory_is_refused(self, reg: ProviderRegistry) -> None:
        """A factory that cannot be called is a TypeError quoting it."""
        with pytest.raises(TypeError, match=r"must be callable\(options\) -> Provider, got 42"):
            reg.register("x", 42)  # type: ignore[arg-type]

    def test_wrong_metadata_type_is_refused(self, reg: ProviderRegistry) -> None:
        """metadata= must be a ProviderMetadata."""
        with pytest.raises(TypeError, match=r"must be a ProviderMetadata, got \{'name': 'x'\}"):
            reg.register("x", EchoProvider, metadata={"name": "x"})  # type: ignore[arg-type]

    @pytest.mark.parametrize("bad", ["", "   ", None, 3])
    def test_bad_name_is_refused(self, reg: ProviderRegistry, bad: Any) -> None:
        """Names must be non-empty strings; the error quotes the bad name."""
        with pytest.raises(InvalidConfigError, match=r"non-empty string, got " + repr(bad)):
            reg.register(bad, EchoProvider)

    def test_duplicate_name_is_refused(self, reg: ProviderRegistry) -> None:
        """Registering a taken name fails and says how to replace it."""
        reg.register("echo", EchoProvider)
        with pytest.raises(ProviderAlreadyRegisteredError, match=r"'echo'.*replace=True") as info:
            reg.register("echo", StreamingEchoProvider)
        assert info.value.code is ErrorCode.PROVIDER_ALREADY_REGISTERED
        assert reg.metadata("echo") is EchoProvider.metadata

    def test_replace_true_swaps_factory(self, reg: ProviderRegistry) -> None:
        """replace=True puts the new factory in place."""
        reg.register("echo", EchoProvider)
        reg.register("echo", StreamingEchoProvider, replace=True)
        assert isinstance(reg.create("echo"), StreamingEchoProvider)

    def test_unregister_removes_name(self, reg: ProviderRegistry) -> None:
        """An unregistered name is gone from names() and lookups."""
        reg.register("echo", EchoProvider)
        reg.unregister("echo")
        assert "echo" not in reg
        with pytest.raises(ProviderNotFoundError):
            reg.create("echo")

    def test_unregister_unknown_lists_known(self, reg: ProviderRegistry) -> None:
        """Unregistering an unknown name fails and lists what is known."""
        reg.register("echo", EchoProvider)
        with pytest.raises(ProviderNotFoundError, match=r"'nope'; known providers: 'echo'"):
            reg.unregister("nope")

    def test_contains_tolerates_non_strings(self, reg: ProviderRegistry) -> None:
        """Membership of a non-string is simply False."""
        reg.register("echo", EchoProvider)
        assert [] not in reg
        assert None not in reg


class TestCreate:
    def test_unknown_name_lists_known_names(self, reg: ProviderRegistry) -> None:
        """The not-found error names the request and every known provider."""
        reg.register("b", EchoProvider)
        reg.register("a", EchoProvider)
        with pytest.raises(ProviderNotFoundError) as info:
            reg.create("zzz")
        assert str(info.value) == "no provider is registered under 'zzz'; known providers: 'a', 'b'"
        assert info.value.code is ErrorCode.PROVIDER_NOT_FOUND
        assert isinstance(info.value, LookupError)

    def test_unknown_name_in_empty_registry(self, reg: ProviderRegistry) -> None:
        """An empty registry says so instead of listing nothing."""
        with pytest.raises(ProviderNotFoundError, match="none are registered"):
            reg.metadata("zzz")

    def test_options_reach_the_factory(self, reg: ProviderRegistry) -> None:
        """Options are handed to the factory, and the provider makes working models."""
        reg.register("echo", EchoProvider)
        provider = reg.create("echo", {"prefix": "> "})
        assert isinstance(provider, Provider)
        assert provider.create_chat_model().invoke("hi").text == "> hi"

    def test_factory_gets_a_private_copy(self, reg: ProviderRegistry) -> None:
        """The factory receives a copy, so the caller's later edits cannot reach the provider."""
        seen: list[Mapping[str, Any]] = []

        def factory(options: Mapping[str, Any]) -> Provider:
            seen.append(options)
            return EchoProvider(options)

        reg.register("fn", factory, metadata=echo_metadata("fn"))
        given = {"prefix": "x"}
        reg.create("fn", given)
        assert seen[0] == given
        assert seen[0] is not given

    def test_missing_required_option_names_it(self, reg: ProviderRegistry) -> None:
        """A missing required option is invalid config naming the option, never a value."""
        reg.register("secret", SecretProvider)
        with pytest.raises(InvalidConfigError) as info:
            reg.create("secret", {"prefix": "hunter2"})
        message = str(info.value)
        assert "needs option 'api_key'" in message
        assert "hunter2" not in message
        assert info.value.provider == "secret"

    def test_options_must_be_a_mapping(self, reg: ProviderRegistry) -> None:
        """Options that are not a mapping are refused by type, without echoing them."""
        reg.register("echo", EchoProvider)
        with pytest.raises(InvalidConfigError, match=r"must be a mapping.*got a list") as info:
            reg.create("echo", ["sk-secret"])  # type: ignore[arg-type]
        assert "sk-secret" not in str(info.value)

    def test_factory_value_error_is_wrapped_without_secret(self, reg: ProviderRegistry) -> None:
        """A factory's ValueError becomes invalid_config, keeps the cause, and hides the value."""
        reg.register("secret", SecretProvider)
        with pytest.raises(InvalidConfigError) as info:
            reg.create("secret", {"api_key": "bad"})
        assert info.value.code is ErrorCode.INVALID_CONFIG
        assert (
            str(info.value)
            == "provider 'secret' rejected its options: the factory raised ValueError"
        )
        assert isinstance(info.value.__cause__, ValueError)
        assert "'bad'" not in str(info.value)

    def test_factory_crash_is_a_load_failure(self, reg: ProviderRegistry) -> None:
        """A factory's unexpected exception becomes provider_load_failed with the cause kept."""

        def factory(options: Mapping[str, Any]) -> Provider:
            raise RuntimeError("socket exploded")

        reg.register("boom", factory, metadata=echo_metadata("boom"))
        with pytest.raises(ProviderLoadError, match=r"failed to start.*RuntimeError") as info:
            reg.create("boom")
        assert info.value.code is ErrorCode.PROVIDER_LOAD_FAILED
        assert isinstance(info.value.__cause__, RuntimeError)

    def test_chat_model_error_passes_through(self, reg: ProviderRegistry) -> None:
        """A ChatModelError raised by the factory reaches the caller unchanged."""
        error = UnsupportedError("no thanks")

        def factory(options: Mapping[str, Any]) -> Provider:
            raise error

        reg.register("no", factory, metadata=echo_metadata("no"))
        with pytest.raises(UnsupportedError) as info:
            reg.create("no")
        assert info.value is error

    def test_factory_returning_non_provider(self, reg: ProviderRegistry) -> None:
        """A factory returning something without create_chat_model is a load failure."""
        reg.register("odd", lambda options: object(), metadata=echo_metadata("odd"))  # type: ignore[arg-type]
        with pytest.raises(ProviderLoadError, match="returned a object; expected a Provider"):
            reg.create("odd")


class TestCapabilities:
    def test_filters_by_all_capabilities(self, reg: ProviderRegistry) -> None:
        """Only providers declaring every requested capability are listed, sorted."""
        reg.register("plain", EchoProvider)
        reg.register("stream-b", StreamingEchoProvider)
        reg.register("stream-a", StreamingEchoProvider)
        assert reg.with_capability(Capability.STREAMING) == ["stream-a", "stream-b"]
        assert reg.with_capability("streaming", "system_messages") == ["stream-a", "stream-b"]
        assert reg.with_capability("streaming", "tools") == []
        assert reg.with_capability() == ["plain", "stream-a", "stream-b"]

    def test_unknown_capability_lists_allowed(self, reg: ProviderRegistry) -> None:
        """An unknown capability is refused, quoting it and listing the valid ones."""
        with pytest.raises(InvalidConfigError, match=r"one of streaming, .*got 'telepathy'"):
            reg.with_capability("telepathy")


def _write_dist(root: Path, module: str, entries: dict[str, str]) -> None:
    """Lay out an installed distribution whose entry points sit in GROUP."""
    dist = root / f"{module}_dist-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}-dist\nVersion: 1.0\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (dist / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fake distribution on sys.path with good, broken and odd entry points."""
    module = f"fakeprov_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(
        "from chatmodels.provider import Capability\n"
        "from provider_fakes import EchoProvider, StreamingEchoProvider, echo_metadata\n"
        "class Good(StreamingEchoProvider):\n"
        "    metadata = echo_metadata('good', capabilities={Capability.STREAMING})\n"
        "IMPORTED = True\n"
        "NOT_A_FACTORY = 42\n"
        "def no_metadata(options):\n"
        "    return EchoProvider(options)\n"
    )
    _write_dist(
        tmp_path,
        module,
        {
            "good": f"{module}:Good",
            "missing": "no_such_module_for_chatmodels:Thing",
            "notfactory": f"{module}:NOT_A_FACTORY",
            "nometa": f"{module}:no_metadata",
        },
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield module
    sys.modules.pop(module, None)


class TestEntryPoints:
    def test_names_listed_without_import(self, installed: str) -> None:
        """Entry-point names are listed before anything is imported."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        assert reg.names() == ["good", "missing", "nometa", "notfactory"]
        assert "good" in reg
        assert installed not in sys.modules

    def test_good_entry_point_loads_on_demand(self, installed: str) -> None:
        """Asking for a name imports its module and builds the provider."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        provider = reg.create("good")
        assert installed in sys.modules
        assert provider.metadata.name == "good"

    def test_broken_import_fails_only_its_name(self, installed: str) -> None:
        """An entry point whose module is missing raises ProviderLoadError; others still work."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        with pytest.raises(
            ProviderLoadError, match=r"'missing' could not be loaded.*ModuleNotFoundError"
        ) as info:
            reg.create("missing")
        assert isinstance(info.value.__cause__, ImportError)
        assert reg.create("good").metadata.name == "good"
        with pytest.raises(ProviderLoadError):
            reg.metadata("missing")  # still broken on a second ask

    @pytest.mark.parametrize("name", ["notfactory", "nometa"])
    def test_entry_point_that_is_not_a_factory(self, installed: str, name: str) -> None:
        """An entry point loading a non-factory says what was expected."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        with pytest.raises(
            ProviderLoadError, match=r"expected a callable factory\(options\) -> Provider"
        ):
            reg.metadata(name)

    def test_capability_listing_skips_broken(self, installed: str) -> None:
        """with_capability loads what it can and skips broken entry points."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        assert reg.with_capability("streaming") == ["good"]

    def test_explicit_registration_wins(self, installed: str) -> None:
        """An explicit registration replaces an entry point of the same name without replace=."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        reg.register("good", EchoProvider)
        assert isinstance(reg.create("good"), EchoProvider)
        assert installed not in sys.modules
        assert reg.names().count("good") == 1

    def test_unregister_entry_point(self, installed: str) -> None:
        """An entry-point provider can be unregistered like any other."""
        reg = ProviderRegistry(entry_point_group=GROUP)
        reg.unregister("missing")
        assert "missing" not in reg.names()

    def test_group_none_discovers_nothing(self, installed: str) -> None:
        """A registry without a group sees no installed providers."""
        assert ProviderRegistry(entry_point_group=None).names() == []

    def test_monkeypatched_entry_points(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Discovery goes through importlib.metadata.entry_points with the registry's group."""
        asked: list[str] = []

        def fake_entry_points(*, group: str) -> list[Any]:
            asked.append(group)
            return []

        monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
        reg = ProviderRegistry(entry_point_group="my.group")
        assert reg.names() == []
        reg.names()
        assert asked == ["my.group"]


class TestDefaultRegistry:
    def test_module_functions_share_one_registry(self) -> None:
        """The module-level functions all act on default_registry()."""
        name = "test-registry-global-echo"
        register_global(name, StreamingEchoProvider)
        try:
            assert default_registry() is default_registry()
            assert name in default_registry()
            assert name in list_providers()
            assert get_provider_metadata(name) is StreamingEchoProvider.metadata
            assert name in providers_with_capability("streaming")
            assert isinstance(new_registry_provider(name), StreamingEchoProvider)
        finally:
            unregister(name)
        assert name not in list_providers()

    def test_default_registry_lists_the_bundled_entry_point(self) -> None:
        """The installed package's 'reference' entry point is listed by the default registry."""
        assert "reference" in list_providers()


class RegistryModel(RuleBasedStateMachine):
    """register/unregister in any order keep names() equal to a plain set."""

    def __init__(self) -> None:
        super().__init__()
        self.reg = ProviderRegistry(entry_point_group=None)
        self.model: set[str] = set()

    names = st.sampled_from(["a", "b", "c", "d", "e"])

    @rule(name=names, replace=st.booleans())
    def register(self, name: str, replace: bool) -> None:
        if name in self.model and not replace:
            with pytest.raises(ProviderAlreadyRegisteredError):
                self.reg.register(name, EchoProvider, replace=replace)
        else:
            self.reg.register(name, EchoProvider, replace=replace)
            self.model.add(name)

    @rule(name=names)
    def unregister(self, name: str) -> None:
        if name in self.model:
            self.reg.unregister(name)
            self.model.discard(name)
        else:
            with pytest.raises(ProviderNotFoundError):
                self.reg.unregister(name)

    @rule(name=names)
    def create(self, name: str) -> None:
        if name in self.model:
            assert isinstance(self.reg.create(name), EchoProvider)
        else:
            with pytest.raises(ProviderNotFoundError):
                self.reg.create(name)

    @invariant()
    def names_match(self) -> None:
        assert self.reg.names() == sorted(self.model)
        for name in ("a", "b", "c", "d", "e"):
            assert (name in self.reg) == (name in self.model)


TestRegistryModel = RegistryModel.TestCase
TestRegistryModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


class TestConcurrency:
    def test_many_threads_register_create_list_unregister(self) -> None:
        """32 threads registering, creating, listing and unregistering lose no registration."""
        reg = ProviderRegistry(entry_point_group=None)
        reg.register("shared", EchoProvider)

        def worker(i: int) -> None:
            for round_ in range(20):
                own = f"p{i}-{round_}"
                reg.register(own, EchoProvider)
                assert reg.create(own).metadata.name == "echo"
                assert reg.create("shared").metadata.name == "echo"
                assert own in reg.names()
                if round_ % 2:
                    reg.unregister(own)

        assert race(32, worker) == []
        expected = {f"p{i}-{r}" for i in range(32) for r in range(0, 20, 2)} | {"shared"}
        assert set(reg.names()) == expected

    def test_factory_runs_outside_the_lock(self) -> None:
        """A factory may use the registry itself without deadlocking."""
        reg = ProviderRegistry(entry_point_group=None)
        reg.register("echo", EchoProvider)

        def nested(options: Mapping[str, Any]) -> Provider:
            assert reg.names() == ["echo", "nested"]
            return reg.create("echo", options)

        reg.register("nested", nested, metadata=echo_metadata("nested"))
        assert isinstance(reg.create("nested"), EchoProvider)


class TestBaseProviderCompat:
    def test_base_provider_subclass_without_metadata_is_refused(
        self, reg: ProviderRegistry
    ) -> None:
        """A BaseProvider subclass that forgot metadata fails at register time."""

        class Forgot(BaseProvider):
            pass

        with pytest.raises(TypeError, match="has no metadata"):
            reg.register("forgot", Forgot)

    def test_errors_are_chat_model_errors(self, reg: ProviderRegistry) -> None:
        """Every registry failure on lookup is a ChatModelError."""
        with pytest.raises(ChatModelError):
            reg.create("nothing")
