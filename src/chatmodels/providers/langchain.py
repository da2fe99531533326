"""The langchain provider: certify any LangChain chat model as it is, with no glue code.

Choose the model by import path and keyword options::

    --chatmodels-provider langchain --chatmodels-option class=langchain_openai:ChatOpenAI
    --chatmodels-option model=gpt-4o-mini --chatmodels-option base_url=http://127.0.0.1:8000/v1

or return ``LangChainProvider.from_class(ChatOpenAI, model=...)`` (a class or any factory
function) or ``LangChainProvider.from_model(instance)`` from the ``chatmodels_provider``
fixture. The bridge reads four options itself: ``class``, ``capabilities`` (a list that
replaces the inferred one, or ``+name,-name`` changes to it), ``stream_finish`` (``strict``,
the default: a stream that ends without a finish reason is invalid_response; ``lenient``:
it is complete) and ``deterministic``. Every other option is a constructor keyword of the
model class; option text that reads as a JSON literal (``0.5``, ``true``) is decoded.

LangChain is imported only when a provider is made, so ``chatmodels`` stays light; install
it with ``pip install "chatmodels-conformance[langchain]"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chatmodels.base import BaseChatModel, probe_provider
from chatmodels.errors import ChatModelError, InvalidConfigError, UnsupportedError
from chatmodels.messages import ChatChunk, ChatResult, Message, MessageLike
from chatmodels.options import ChatOptions, OptionsLike, ResponseFormat
from chatmodels.provider import (
    BatchResult,
    Capability,
    HealthStatus,
    ProviderMetadata,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel as LCChatModel
    from langchain_core.messages import BaseMessage
    from langchain_core.runnables import Runnable

    from chatmodels.providers._langchain_config import LangChainSettings
    from chatmodels.providers._langchain_errors import LangChainRedactor

__all__ = ["LangChainChatModel", "LangChainFactory", "LangChainProvider"]

PROVIDER_NAME = "langchain"

_INSTALL_HINT = (
    'the langchain provider needs langchain-core: pip install "chatmodels-conformance[langchain]"'
)

#: Per-call options LangChain integrations take as keywords of invoke/stream.
_CALL_KEYWORDS = ("temperature", "top_p", "max_tokens", "seed")


def _require_langchain() -> None:
    try:
        import langchain_core  # noqa: F401
    except ImportError as exc:
        raise InvalidConfigError(
            _INSTALL_HINT, op="create_provider", provider=PROVIDER_NAME
        ) from exc


class LangChainChatModel(BaseChatModel):
    """One LangChain chat model behind the chatmodels interface."""

    def __init__(
        self,
        *,
        metadata: ProviderMetadata,
        model: str,
        lc_model: LCChatModel,
        settings: LangChainSettings,
        redact: LangChainRedactor,
        defaults: OptionsLike = None,
    ) -> None:
        super().__init__(metadata=metadata, model=model, defaults=defaults)
        self._lc = lc_model
        self._settings = settings
        self._redact = redact

    @property
    def langchain_model(self) -> LCChatModel:
        """The wrapped LangChain model."""
        return self._lc

    # -- translating calls -------------------------------------------------------------

    def _json_binding(self, op: str) -> dict[str, Any]:
        """The keywords the model's own JSON mode binds, read from with_structured_output."""
        try:
            structured = self._lc.with_structured_output(None, method="json_mode")  # type: ignore[arg-type]
        except Exception as exc:  # any refusal means the model offers no JSON mode
            msg = f"{op}: the model has no JSON mode: {type(exc).__name__}: {exc}"
            raise UnsupportedError(msg, op=op, provider=PROVIDER_NAME) from exc
        kwargs = getattr(getattr(structured, "first", None), "kwargs", None)
        if not isinstance(kwargs, Mapping):
            msg = f"{op}: the model's with_structured_output(method='json_mode') binds no options"
            raise UnsupportedError(msg, op=op, provider=PROVIDER_NAME)
        return dict(kwargs)

    def _runnable(self, options: ChatOptions, op: str) -> tuple[Runnable[Any, Any], dict[str, Any]]:
        """The model bound to the call's tools and format, and the call's keywords."""
        runnable: Runnable[Any, Any] = self._lc
        if options.tools:
            tools = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in options.tools
            ]
            choice = {} if options.tool_choice is None else {"tool_choice": options.tool_choice}
            runnable = self._lc.bind_tools(tools, **choice)
        if options.response_format is ResponseFormat.JSON:
            runnable = runnable.bind(**self._json_binding(op))
        kwargs: dict[str, Any] = {}
        if options.stop:
            kwargs["stop"] = list(options.stop)
        for name in _CALL_KEYWORDS:
            value = getattr(options, name)
            if value is not None:
                kwargs[name] = value
        return runnable, kwargs

    def _mapped(self, exc: BaseException, op: str) -> BaseException:
        from chatmodels.providers._langchain_errors import map_exception

        return map_exception(exc, op=op, provider=PROVIDER_NAME, redact=self._redact)

    def _answer(self, message: BaseMessage, op: str) -> ChatResult:
        from chatmodels.providers._langchain_messages import result_from_message

        try:
            return result_from_message(message, model=self._model, op=op)
        except ChatModelError as exc:
            exc.provider = PROVIDER_NAME
            raise

    def _folder(self, op: str) -> Any:
        from chatmodels.providers._langchain_messages import StreamFolder

        return StreamFolder(model=self._model, op=op, policy=self._settings.stream_finish)

    # -- calls -------------------------------------------------------------------------

    def _invoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        from chatmodels.providers._langchain_messages import to_langchain

        try:
            runnable, kwargs = self._runnable(options, "invoke")
            answer = runnable.invoke(to_langchain(messages), **kwargs)
        except Exception as exc:
            mapped = self._mapped(exc, "invoke")
            if mapped is exc:
                raise
            raise mapped from exc
        return self._answer(answer, "invoke")

    async def _ainvoke(self, messages: tuple[Message, ...], options: ChatOptions) -> ChatResult:
        from chatmodels.providers._langchain_messages import to_langchain

        try:
            runnable, kwargs = self._runnable(options, "ainvoke")
            answer = await runnable.ainvoke(to_langchain(messages), **kwargs)
        except Exception as exc:
            mapped = self._mapped(exc, "ainvoke")
            if mapped is exc:
                raise
            raise mapped from exc
        return self._answer(answer, "ainvoke")

    def _stream(self, messages: tuple[Message, ...], options: ChatOptions) -> Iterator[ChatChunk]:
        from chatmodels.providers._langchain_messages import to_langchain

        folder = self._folder("stream")
        chunks: Any = None
        try:
            runnable, kwargs = self._runnable(options, "stream")
            chunks = runnable.stream(to_langchain(messages), **kwargs)
            for chunk in chunks:
                delta = folder.feed(chunk)
                if delta is not None:
                    yield delta
            final: ChatChunk = folder.finish()
        except Exception as exc:
            mapped = self._mapped(exc, "stream")
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        yield final

    async def _astream(
        self, messages: tuple[Message, ...], options: ChatOptions
    ) -> AsyncIterator[ChatChunk]:
        from chatmodels.providers._langchain_messages import to_langchain

        folder = self._folder("astream")
        chunks: Any = None
        try:
            runnable, kwargs = self._runnable(options, "astream")
            chunks = runnable.astream(to_langchain(messages), **kwargs)
            async for chunk in chunks:
                delta = folder.feed(chunk)
                if delta is not None:
                    yield delta
            final: ChatChunk = folder.finish()
        except Exception as exc:
            mapped = self._mapped(exc, "astream")
            if mapped is exc:
                raise
            raise mapped from exc
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        yield final

    # -- batches through LangChain's own batch -----------------------------------------

    def _batch_plan(
        self,
        op: str,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike,
        max_concurrency: int | None,
    ) -> _BatchPlan:
        """Validate each item (a bad one holds its error); ready one LangChain call for the rest."""
        from chatmodels._batching import check_concurrency
        from chatmodels.providers._langchain_messages import to_langchain

        self._check_open(op)
        limit = check_concurrency(max_concurrency, self._max_concurrency)
        plan = _BatchPlan(op, limit, [None] * len(inputs))
        merged: ChatOptions | None = None
        for index, item in enumerate(inputs):
            try:
                messages, merged = self._prepare(op, item, options)
            except ChatModelError as exc:
                plan.results[index] = exc
                continue
            plan.indexes.append(index)
            plan.prepared.append(to_langchain(messages))
        if merged is not None:
            try:
                plan.runnable, plan.kwargs = self._runnable(merged, op)
            except ChatModelError as exc:  # every good item fails with the refusal
                plan.results = [exc if r is None else r for r in plan.results]
                plan.indexes.clear()
        return plan

    def _batch_answers(self, plan: _BatchPlan, outputs: Sequence[object]) -> BatchResult:
        """Every item's answer or error, in input order, once LangChain's outputs are in."""
        for index, output in zip(plan.indexes, outputs, strict=True):
            plan.results[index] = self._batch_result(output, plan.op)
        return [r for r in plan.results if r is not None]

    def _batch_result(self, output: object, op: str) -> ChatResult | ChatModelError:
        if isinstance(output, BaseException):
            mapped = self._mapped(output, op)
            if not isinstance(mapped, ChatModelError):
                raise mapped
            return mapped
        try:
            return self._answer(output, op)  # type: ignore[arg-type]
        except ChatModelError as exc:
            return exc

    def batch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations through the model's own batch; failures stay at their index."""
        plan = self._batch_plan("batch", inputs, options, max_concurrency)
        if plan.runnable is None:
            return self._batch_answers(plan, ())
        outputs = plan.runnable.batch(
            plan.prepared, {"max_concurrency": plan.limit}, return_exceptions=True, **plan.kwargs
        )
        return self._batch_answers(plan, outputs)

    async def abatch(
        self,
        inputs: Sequence[Sequence[MessageLike] | str],
        options: OptionsLike = None,
        *,
        max_concurrency: int | None = None,
    ) -> BatchResult:
        """Answer many conversations through the model's own abatch on the running loop."""
        plan = self._batch_plan("abatch", inputs, options, max_concurrency)
        if plan.runnable is None:
            return self._batch_answers(plan, ())
        outputs = await plan.runnable.abatch(
            plan.prepared, {"max_concurrency": plan.limit}, return_exceptions=True, **plan.kwargs
        )
        return self._batch_answers(plan, outputs)


@dataclasses.dataclass
class _BatchPlan:
    """One batch: each item's error so far, and the good items LangChain answers in one call
    (``runnable`` is None when none is left to send, or the options were refused)."""

    op: str
    limit: int
    results: list[ChatResult | ChatModelError | None]
    indexes: list[int] = dataclasses.field(default_factory=list)
    prepared: list[Any] = dataclasses.field(default_factory=list)
    runnable: Runnable[Any, Any] | None = None
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


def _secret_fields(maker: object) -> frozenset[str]:
    """Field names and aliases of *maker* typed as pydantic secrets, plus ``api_key``."""
    names = {"api_key"}
    fields = getattr(maker, "model_fields", None)
    if isinstance(fields, Mapping):
        for name, info in fields.items():
            if "Secret" in repr(getattr(info, "annotation", "")):
                names.add(name)
                if info.alias:
                    names.add(info.alias)
    return frozenset(names)


def _init_kwargs(instance: LCChatModel) -> dict[str, Any]:
    """The keywords that re-create *instance*: the fields set on it, minus excluded ones."""
    fields = type(instance).model_fields
    return {
        name: getattr(instance, name)
        for name in instance.model_fields_set
        if name in fields and not fields[name].exclude
    }


def _by_field_name(maker: object, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Rename aliases (``base_url``) to field names (``openai_api_base``), so overrides win."""
    fields = getattr(maker, "model_fields", None)
    if not isinstance(fields, Mapping):
        return dict(kwargs)
    alias_of = {info.alias: name for name, info in fields.items() if info.alias}
    return {alias_of.get(key, key): value for key, value in kwargs.items()}


def _model_name(lc_model: LCChatModel, kwargs: Mapping[str, Any]) -> str:
    given = kwargs.get("model")
    if isinstance(given, str) and given:
        return given
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(lc_model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(lc_model._llm_type)


class LangChainProvider:
    """Make chatmodels ChatModels from one LangChain chat-model class, factory or instance."""

    metadata = ProviderMetadata(
        name=PROVIDER_NAME,
        version="1",
        description="Any LangChain chat model (langchain_core BaseChatModel), as it is.",
        optional_options=("class", "capabilities", "stream_finish", "deterministic", "model"),
        secret_options=("api_key",),
        capabilities=frozenset({Capability.ASYNC, Capability.BATCH, Capability.SYSTEM_MESSAGES}),
    )

    def __init__(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        maker: Callable[..., LCChatModel] | None = None,
        instance: LCChatModel | None = None,
    ) -> None:
        _require_langchain()
        from chatmodels.providers._http_declared import parse_capabilities
        from chatmodels.providers._langchain_capabilities import infer_capabilities
        from chatmodels.providers._langchain_config import (
            OUR_OPTIONS,
            constructor_fields,
            load_class,
            parse_settings,
        )
        from chatmodels.providers._langchain_errors import LangChainRedactor

        self.options: dict[str, Any] = dict(options or {})
        self._instance = instance
        if instance is not None:
            maker = type(instance)
        elif maker is None:
            if "class" not in self.options:
                msg = (
                    "provider 'langchain' needs option 'class', the import path of a LangChain "
                    "chat model, e.g. class=langchain_openai:ChatOpenAI"
                )
                raise InvalidConfigError(msg, op="create_provider", provider=PROVIDER_NAME)
            maker = load_class(self.options["class"])
        self._maker = maker
        accepted = constructor_fields(maker)
        secrets = _secret_fields(maker)
        self._settings = parse_settings(self.options, accepted, secrets)
        self._redact = LangChainRedactor(
            [str(v) for k, v in self.options.items() if k in secrets and v]
        )
        self._prototype = self._build(None)
        self._model_name = _model_name(self._prototype, self._settings.kwargs)
        capabilities = parse_capabilities(
            self._settings.capabilities,
            infer_capabilities(self._prototype, deterministic=self._settings.deterministic),
            provider=PROVIDER_NAME,
        )
        self.metadata = dataclasses.replace(
            type(self).metadata,
            optional_options=(*OUR_OPTIONS, *sorted((accepted or frozenset()) - set(OUR_OPTIONS))),
            secret_options=tuple(sorted(secrets)),
            capabilities=capabilities,
            default_model=self._model_name,
            models=(self._model_name,),
        )

    @classmethod
    def from_class(cls, maker: Callable[..., LCChatModel], /, **options: Any) -> LangChainFactory:
        """A provider factory making models with ``maker(**options)`` (a class or a function)."""

        def build(overrides: Mapping[str, Any]) -> LangChainProvider:
            return cls({**options, **overrides}, maker=maker)

        name = getattr(maker, "__qualname__", repr(maker))
        return LangChainFactory(build, f"from_class({name})")

    @classmethod
    def from_model(cls, model: LCChatModel, /, **options: Any) -> LangChainFactory:
        """A provider factory for *model* as it is; options that change it re-create a copy."""

        def build(overrides: Mapping[str, Any]) -> LangChainProvider:
            return cls({**options, **overrides}, instance=model)

        return LangChainFactory(build, f"from_model({type(model).__qualname__})")

    @property
    def langchain_model(self) -> LCChatModel:
        """The LangChain model this provider wraps (the instance given, or the first made)."""
        return self._prototype

    def _build(self, model: str | None) -> LCChatModel:
        """Make the LangChain model, or reuse the given instance when nothing changes it."""
        kwargs = dict(self._settings.kwargs)
        if model is not None:
            kwargs["model"] = model
        if self._instance is not None and not kwargs:
            return self._instance
        base = _init_kwargs(self._instance) if self._instance is not None else {}
        merged = {**base, **_by_field_name(self._maker, kwargs)}
        try:
            return self._maker(**merged)
        except Exception as exc:  # pydantic ValidationError, a factory's own error...
            detail = self._redact(f"{type(exc).__name__}: {exc}")[:600]
            msg = f"provider 'langchain' could not make the model: {detail}"
            raise InvalidConfigError(msg, op="create_provider", provider=PROVIDER_NAME) from None

    def create_chat_model(
        self, model: str | None = None, options: OptionsLike = None
    ) -> LangChainChatModel:
        """Make a model; a *model* name other than the configured one is passed to the class."""
        chosen = self.metadata.resolve_model(model)
        lc_model = self._prototype if chosen == self._model_name else self._build(chosen)
        return LangChainChatModel(
            metadata=self.metadata,
            model=chosen,
            lc_model=lc_model,
            settings=self._settings,
            redact=self._redact,
            defaults=options,
        )

    def health_check(self) -> HealthStatus:
        """Probe by making a model and asking it."""
        return probe_provider(self)

    def __repr__(self) -> str:
        maker = getattr(self._maker, "__qualname__", type(self._maker).__name__)
        return f"<LangChainProvider {maker} model={self._model_name!r}>"


class LangChainFactory:
    """What ``from_class``/``from_model`` return: a provider factory the kit can re-run."""

    metadata = LangChainProvider.metadata

    def __init__(self, build: Callable[[Mapping[str, Any]], LangChainProvider], what: str) -> None:
        self._build = build
        self._what = what

    def __call__(self, options: Mapping[str, Any] | None = None) -> LangChainProvider:
        """Make the provider, with *options* (bridge options or constructor keywords) applied."""
        return self._build(dict(options or {}))

    def __repr__(self) -> str:
        return f"<LangChainFactory {self._what}>"
