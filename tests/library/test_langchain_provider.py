"""The langchain provider: options, messages both ways, streams, errors, capabilities, factories."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys

import httpx
import openai
import pytest
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.language_models.fake_chat_models import FakeListChatModelError
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_openai import ChatOpenAI

from chatmodels.errors import (
    AuthenticationError,
    ChatModelError,
    ChatTimeoutError,
    ErrorCode,
    InvalidConfigError,
    InvalidResponseError,
    NetworkError,
    RateLimitError,
)
from chatmodels.messages import FinishReason, Message, ToolCall
from chatmodels.provider import Capability, Provider
from chatmodels.providers._langchain_errors import LangChainRedactor, map_exception
from chatmodels.providers._langchain_messages import result_from_message, to_langchain
from chatmodels.providers.langchain import LangChainProvider
from chatmodels.registry import ProviderRegistry


def _generic(text: str = "one two three", **options: str) -> LangChainProvider:
    fake = GenericFakeChatModel(messages=itertools.cycle([text]))
    return LangChainProvider.from_model(fake, **options)({})


def _openai(**options: str) -> LangChainProvider:
    return LangChainProvider(
        {"class": "langchain_openai:ChatOpenAI", "api_key": "sk-unit-secret", **options}
    )


def _status_error(cls: type[openai.APIStatusError], status: int, **headers: str) -> Exception:
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/chat/completions")
    response = httpx.Response(status, headers=headers, request=request)
    return cls("refused", response=response, body={"message": "refused"})


def _mapped(exc: BaseException) -> BaseException:
    return map_exception(exc, op="invoke", provider="langchain", redact=LangChainRedactor([]))


class TestLoading:
    def test_chatmodels_does_not_import_langchain(self):
        """Importing chatmodels and the provider module leaves langchain_core unimported."""
        code = (
            "import sys, chatmodels, chatmodels.providers.langchain; "
            "print('langchain_core' in sys.modules)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False"

    def test_registered_as_the_langchain_entry_point(self):
        """The default registry finds the provider under the name 'langchain'."""
        registry = ProviderRegistry()
        assert "langchain" in registry.names()
        assert registry.metadata("langchain").name == "langchain"

    def test_class_option_is_required(self):
        """Without a class the error names the option and an example import path."""
        with pytest.raises(InvalidConfigError, match=r"needs option 'class'.*langchain_openai"):
            LangChainProvider({})

    def test_bad_import_path_is_named(self):
        """An import path that does not import names itself and the failure."""
        with pytest.raises(InvalidConfigError, match="'nosuch_mod:Chat' could not be imported"):
            LangChainProvider({"class": "nosuch_mod:Chat"})

    def test_unknown_keyword_is_refused_before_the_class_sees_it(self):
        """A keyword the model class has no field for is an error naming it."""
        with pytest.raises(InvalidConfigError, match="no keyword 'temprature'"):
            _openai(temprature="0.1")

    def test_bad_stream_finish_is_refused(self):
        """stream_finish accepts only strict or lenient."""
        with pytest.raises(InvalidConfigError, match="'strict' or 'lenient', got 'loose'"):
            _openai(stream_finish="loose")

    def test_option_text_is_decoded_but_secrets_and_names_are_not(self):
        """Numbers and bools from the command line arrive typed; keys and model names stay text."""
        provider = _openai(max_retries="0", timeout="2.5", model="1234", api_key="12345")
        lc = provider.langchain_model
        assert isinstance(lc, ChatOpenAI)
        assert lc.max_retries == 0
        assert lc.request_timeout == 2.5
        assert lc.model_name == "1234"
        assert lc.openai_api_key is not None
        assert lc.openai_api_key.get_secret_value() == "12345"

    def test_reprs_hide_the_api_key(self):
        """Neither the provider, its model nor its settings show the key."""
        provider = _openai()
        model = provider.create_chat_model()
        for obj in (provider, model, provider._settings):
            assert "sk-unit-secret" not in repr(obj)
        assert "api_key" in provider.metadata.secret_options


class TestFactories:
    def test_from_model_uses_the_instance_as_it_is(self):
        """With no changing options the very instance given is called."""
        fake = GenericFakeChatModel(messages=itertools.cycle(["hi"]))
        provider = LangChainProvider.from_model(fake, stream_finish="lenient")({})
        assert provider.create_chat_model().langchain_model is fake

    def test_from_model_recreates_a_copy_with_overrides(self):
        """An override given by alias (base_url) replaces the instance's field in a copy."""
        original = ChatOpenAI(model="m", api_key="sk-x", base_url="http://127.0.0.1:1/v1")
        factory = LangChainProvider.from_model(original)
        provider = factory({"base_url": "http://127.0.0.1:2/v1"})
        copy = provider.langchain_model
        assert isinstance(copy, ChatOpenAI)
        assert copy is not original
        assert copy.openai_api_base == "http://127.0.0.1:2/v1"
        assert copy.model_name == "m"

    def test_from_class_accepts_a_factory_function(self):
        """A plain function returning a model works like a class."""
        factory = LangChainProvider.from_class(
            lambda **kw: FakeListChatModel(responses=["ok"], **kw)
        )
        assert isinstance(factory({}), Provider)
        assert factory({}).create_chat_model().invoke("x").text == "ok"

    def test_model_name_falls_back_to_the_llm_type(self):
        """A model with no model field is named by its LangChain type."""
        assert _generic().create_chat_model().model == "generic-fake-chat-model"


class TestMessages:
    def test_every_role_goes_to_its_langchain_class(self):
        """System, user, assistant with tool calls and tool messages keep their parts."""
        call = ToolCall(id="c1", name="lookup", arguments='{"q": "x"}')
        converted = to_langchain(
            (
                Message.system("be brief"),
                Message.user("hi"),
                Message.assistant("", [call]),
                Message.tool("42", "c1", name="lookup"),
            )
        )
        system, human, ai, tool = converted
        assert isinstance(system, SystemMessage)
        assert isinstance(human, HumanMessage)
        assert isinstance(ai, AIMessage)
        assert ai.tool_calls[0]["args"] == {"q": "x"}
        assert isinstance(tool, ToolMessage)
        assert tool.tool_call_id == "c1"

    def test_arguments_that_are_not_json_travel_as_an_invalid_tool_call(self):
        """Bad argument text is kept, not dropped, in LangChain's invalid_tool_calls."""
        (ai,) = to_langchain((Message.assistant("", [ToolCall("c", "f", "{oops")]),))
        assert isinstance(ai, AIMessage)
        assert ai.invalid_tool_calls[0]["args"] == "{oops"

    def test_content_parts_are_joined_as_text(self):
        """Text parts of a list content become the answer's text; other parts are skipped."""
        message = AIMessage(content=[{"type": "text", "text": "a"}, {"type": "image"}, "b"])
        assert result_from_message(message, model="m", op="invoke").text == "ab"

    @pytest.mark.parametrize(
        ("key", "value", "expected"),
        [
            ("finish_reason", "length", FinishReason.LENGTH),
            ("stop_reason", "end_turn", FinishReason.STOP),
            ("stop_reason", "tool_use", FinishReason.TOOL_CALLS),
            ("done_reason", "stop", FinishReason.STOP),
            ("finish_reason", "SAFETY", FinishReason.CONTENT_FILTER),
        ],
    )
    def test_finish_reasons_of_the_common_integrations(self, key, value, expected):
        """OpenAI, Anthropic, Ollama and Google spellings map to one finish reason."""
        message = AIMessage(content="x", response_metadata={key: value})
        assert result_from_message(message, model="m", op="invoke").finish_reason is expected

    def test_unknown_finish_reason_is_an_invalid_response(self):
        """A finish reason no table knows is reported, not guessed."""
        message = AIMessage(content="x", response_metadata={"finish_reason": "weird"})
        with pytest.raises(InvalidResponseError, match="'weird'"):
            result_from_message(message, model="m", op="invoke")

    def test_tool_calls_usage_id_and_model_come_across(self):
        """Tool calls as JSON text, usage_metadata, the id and the answering model."""
        message = AIMessage(
            content="",
            id="resp-1",
            tool_calls=[{"name": "f", "args": {"a": 1}, "id": "c1", "type": "tool_call"}],
            usage_metadata={"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
            response_metadata={"model_name": "gpt-x"},
        )
        result = result_from_message(message, model="fallback", op="invoke")
        assert result.tool_calls == (ToolCall("c1", "f", '{"a": 1}'),)
        assert result.finish_reason is FinishReason.TOOL_CALLS
        assert (result.usage.input_tokens, result.usage.total_tokens) == (3, 7)
        assert (result.response_id, result.model) == ("resp-1", "gpt-x")


class TestStreams:
    def test_strict_refuses_a_stream_without_a_finish_reason(self):
        """By default a stream that never says why it ended is an invalid response."""
        model = _generic().create_chat_model()
        with pytest.raises(InvalidResponseError, match="without a finish reason"):
            list(model.stream("go"))

    def test_lenient_accepts_it_and_folds_to_the_invoke_answer(self):
        """lenient ends the stream with an inferred finish; the text matches invoke."""
        model = _generic(stream_finish="lenient").create_chat_model()
        chunks = list(model.stream("go"))
        assert "".join(c.delta for c in chunks) == model.invoke("go").text
        assert [c.finish_reason for c in chunks][-1] is FinishReason.STOP
        assert all(c.finish_reason is None for c in chunks[:-1])

    def test_async_stream_and_invoke(self):
        """astream and ainvoke give the same text as their sync twins."""
        model = _generic(stream_finish="lenient").create_chat_model()

        async def run() -> tuple[str, str]:
            chunks = [c async for c in model.astream("go")]
            return "".join(c.delta for c in chunks), (await model.ainvoke("go")).text

        assert asyncio.run(run()) == ("one two three", "one two three")

    def test_error_on_chunk_number_surfaces_as_the_bare_exception(self):
        """FakeListChatModel's mid-stream error is not dressed up as a ChatModelError."""
        fake = FakeListChatModel(responses=["abcdef"], error_on_chunk_number=2)
        model = LangChainProvider.from_model(fake)({}).create_chat_model()
        with pytest.raises(FakeListChatModelError):
            list(model.stream("go"))

    def test_batch_keeps_order_and_failures_at_their_index(self):
        """LangChain's batch answers each item; an invalid item holds its error."""
        fake = FakeListChatModel(responses=["r"])
        model = LangChainProvider.from_model(fake)({}).create_chat_model()
        results = model.batch(["a", [], "c"])
        assert [getattr(r, "text", None) for r in results] == ["r", None, "r"]
        assert isinstance(results[1], ChatModelError)
        assert model.batch([]) == []


class TestErrors:
    def test_rate_limit_is_retryable_with_retry_after(self):
        """openai's 429 becomes rate_limit, retryable, with the Retry-After seconds."""
        error = _mapped(_status_error(openai.RateLimitError, 429, **{"retry-after": "3"}))
        assert isinstance(error, RateLimitError)
        assert (error.retryable, error.retry_after, error.provider) == (True, 3.0, "langchain")

    def test_authentication_is_not_retryable(self):
        """openai's 401 becomes authentication, not retryable."""
        error = _mapped(_status_error(openai.AuthenticationError, 401))
        assert isinstance(error, AuthenticationError)
        assert error.retryable is False

    def test_quota_is_told_from_throttling(self):
        """A 429 whose body says insufficient_quota is quota_exceeded, not retryable."""
        exc = _status_error(openai.RateLimitError, 429)
        exc.body = {"code": "insufficient_quota"}  # type: ignore[attr-defined]
        error = _mapped(exc)
        assert isinstance(error, ChatModelError)
        assert error.code is ErrorCode.QUOTA_EXCEEDED

    def test_timeouts_and_connections(self):
        """openai's timeout and connection errors become timeout and network."""
        request = httpx.Request("POST", "http://127.0.0.1:9/")
        assert isinstance(_mapped(openai.APITimeoutError(request=request)), ChatTimeoutError)
        assert isinstance(_mapped(openai.APIConnectionError(request=request)), NetworkError)
        assert isinstance(_mapped(httpx.ConnectError("refused")), NetworkError)

    def test_output_parser_errors_are_invalid_responses(self):
        """LangChain's own parse failure is the model's malformed answer."""
        error = _mapped(OutputParserException("not json"))
        assert isinstance(error, ChatModelError)
        assert error.code is ErrorCode.INVALID_RESPONSE

    def test_anything_else_propagates_unchanged(self):
        """An exception no type explains stays what it is, for the suites to report as bare."""
        exc = ValueError("Expecting value")
        assert _mapped(exc) is exc

    def test_secrets_are_blanked_from_messages(self):
        """A secret option value quoted by the server never reaches the error text."""
        exc = _status_error(openai.AuthenticationError, 401)
        exc.body = {"message": "bad key sk-unit-secret"}  # type: ignore[attr-defined]
        redact = LangChainRedactor(["sk-unit-secret"])
        error = map_exception(exc, op="invoke", provider="langchain", redact=redact)
        assert "sk-unit-secret" not in str(error)


class TestCapabilities:
    def test_chat_openai_declares_what_it_overrides(self):
        """ChatOpenAI: tools, tool_choice, JSON, stop, max_tokens, usage, openai_compatible."""
        capabilities = _openai(model="reference-echo").metadata.capabilities
        assert {
            Capability.TOOLS,
            Capability.TOOL_CHOICE,
            Capability.JSON_MODE,
            Capability.STOP_SEQUENCES,
            Capability.MAX_TOKENS,
            Capability.USAGE,
            Capability.OPENAI_COMPATIBLE,
            Capability.STREAMING,
        } <= capabilities
        assert Capability.DETERMINISTIC not in capabilities

    def test_generic_fake_declares_streaming_but_no_tools(self):
        """GenericFakeChatModel streams but has no bind_tools of its own."""
        capabilities = _generic().metadata.capabilities
        assert Capability.STREAMING in capabilities
        assert Capability.TOOLS not in capabilities
        assert Capability.USAGE not in capabilities

    def test_profile_that_denies_tools_wins(self):
        """A model profile saying tool_calling is false removes tools and tool_choice."""
        lc = ChatOpenAI(model="m", api_key="sk-x", profile={"tool_calling": False})
        capabilities = LangChainProvider.from_model(lc)({}).metadata.capabilities
        assert Capability.TOOLS not in capabilities
        assert Capability.TOOL_CHOICE not in capabilities

    def test_override_replaces_or_adjusts(self):
        """A plain list replaces the inferred set; signed names adjust it."""
        assert _generic(capabilities="async").metadata.capabilities == {Capability.ASYNC}
        adjusted = _generic(capabilities="+usage,-streaming").metadata.capabilities
        assert Capability.USAGE in adjusted
        assert Capability.STREAMING not in adjusted
        with pytest.raises(InvalidConfigError, match="all signed"):
            _generic(capabilities="+usage,tools")
        with pytest.raises(InvalidConfigError, match="'telepathy'"):
            _generic(capabilities="telepathy")

    def test_deterministic_option(self):
        """deterministic=true declares DETERMINISTIC."""
        assert Capability.DETERMINISTIC in _generic(deterministic="true").metadata.capabilities
