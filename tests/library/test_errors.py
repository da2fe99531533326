"""Tests of chatmodels.errors: codes, classes, builtin bases, retryability and pickling."""

from __future__ import annotations

import pickle

import pytest

from chatmodels import errors
from chatmodels.errors import (
    RETRYABLE_CODES,
    ChatModelError,
    ChatTimeoutError,
    ErrorCode,
    InvalidConfigError,
    InvalidInputError,
    ModelNotFoundError,
    NetworkError,
    ProviderNotFoundError,
    RateLimitError,
    ServerError,
    error_class_for,
    make_error,
)

ALL_CODES = list(ErrorCode)

#: Every concrete ChatModelError subclass the module exports.
EXPORTED_CLASSES = [
    obj
    for name in errors.__all__
    if isinstance(obj := getattr(errors, name), type)
    and issubclass(obj, ChatModelError)
    and obj is not ChatModelError
]


class TestErrorCode:
    def test_codes_are_the_issue_list(self) -> None:
        """The code enum holds exactly the seventeen codes the interface promises."""
        assert {c.value for c in ErrorCode} == {
            "invalid_input",
            "invalid_config",
            "authentication",
            "permission",
            "model_not_found",
            "rate_limit",
            "quota_exceeded",
            "timeout",
            "network",
            "server_error",
            "invalid_response",
            "cancelled",
            "unsupported",
            "provider_not_found",
            "provider_already_registered",
            "provider_load_failed",
            "closed",
        }

    def test_str_is_the_value(self) -> None:
        """A code prints as its wire value, so messages and attributes read 'rate_limit'."""
        assert str(ErrorCode.RATE_LIMIT) == "rate_limit"
        assert f"{ErrorCode.CLOSED}" == "closed"

    def test_every_code_has_exactly_one_class(self) -> None:
        """Each code is the default of exactly one exported class, so a new code needs a class."""
        owners: dict[ErrorCode, list[str]] = {code: [] for code in ErrorCode}
        for cls in EXPORTED_CLASSES:
            owners[cls.default_code].append(cls.__name__)
        assert {code: names for code, names in owners.items() if len(names) != 1} == {}


class TestErrorClassFor:
    @pytest.mark.parametrize("code", ALL_CODES, ids=str)
    def test_maps_code_to_its_class(self, code: ErrorCode) -> None:
        """error_class_for returns the class whose default code is the one asked for."""
        cls = error_class_for(code)
        assert cls in EXPORTED_CLASSES
        assert cls.default_code is code

    @pytest.mark.parametrize("code", ALL_CODES, ids=str)
    def test_accepts_the_string_value(self, code: ErrorCode) -> None:
        """A plain string code finds the same class as the enum member."""
        assert error_class_for(code.value) is error_class_for(code)

    def test_unknown_code_is_a_value_error(self) -> None:
        """An unknown code string is refused rather than mapped to a generic class."""
        with pytest.raises(ValueError, match="no_such_code"):
            error_class_for("no_such_code")


class TestMakeError:
    @pytest.mark.parametrize("code", ALL_CODES, ids=str)
    def test_builds_the_specific_class_with_context(self, code: ErrorCode) -> None:
        """make_error builds the code's class and keeps message, op and provider."""
        exc = make_error(code.value, "it broke", op="invoke", provider="p")
        assert type(exc) is error_class_for(code)
        assert exc.code is code
        assert (exc.message, exc.op, exc.provider) == ("it broke", "invoke", "p")
        assert exc.retryable is (code in RETRYABLE_CODES)

    def test_passes_retry_after_and_override(self) -> None:
        """Keyword context such as retry_after and retryable reaches the error."""
        exc = make_error(ErrorCode.RATE_LIMIT, "slow down", retry_after=2.5, retryable=False)
        assert isinstance(exc, RateLimitError)
        assert exc.retry_after == 2.5
        assert exc.retryable is False


class TestBuiltinBases:
    @pytest.mark.parametrize(
        ("cls", "builtin"),
        [
            (InvalidInputError, ValueError),
            (InvalidConfigError, ValueError),
            (ModelNotFoundError, LookupError),
            (ProviderNotFoundError, LookupError),
            (ChatTimeoutError, TimeoutError),
            (NetworkError, ConnectionError),
        ],
    )
    def test_subclass_is_caught_as_builtin(
        self, cls: type[ChatModelError], builtin: type[Exception]
    ) -> None:
        """Callers that catch the builtin also catch the matching chat-model error."""
        with pytest.raises(builtin) as caught:
            raise cls("boom")
        assert isinstance(caught.value, ChatModelError)

    def test_server_error_is_not_a_value_error(self) -> None:
        """Errors without a builtin twin are not accidentally ValueErrors."""
        assert not issubclass(ServerError, ValueError)
        assert not issubclass(RateLimitError, (ValueError, LookupError, TimeoutError))

    def test_base_class_defaults_to_server_error(self) -> None:
        """A bare ChatModelError carries the server_error code, which is retryable."""
        exc = ChatModelError("x")
        assert exc.code is ErrorCode.SERVER_ERROR
        assert exc.retryable is True


class TestRetryable:
    def test_retryable_codes(self) -> None:
        """Only transient failures are retryable by default."""
        assert {
            ErrorCode.RATE_LIMIT,
            ErrorCode.TIMEOUT,
            ErrorCode.NETWORK,
            ErrorCode.SERVER_ERROR,
        } == RETRYABLE_CODES

    @pytest.mark.parametrize("code", ALL_CODES, ids=str)
    def test_default_follows_code(self, code: ErrorCode) -> None:
        """Without an override, retryable is whether the code is in RETRYABLE_CODES."""
        assert error_class_for(code)("x").retryable is (code in RETRYABLE_CODES)

    @pytest.mark.parametrize("code", ALL_CODES, ids=str)
    def test_override_wins(self, code: ErrorCode) -> None:
        """An explicit retryable flag overrides the code's default either way."""
        cls = error_class_for(code)
        assert cls("x", retryable=True).retryable is True
        assert cls("x", retryable=False).retryable is False

    def test_explicit_code_overrides_class_default(self) -> None:
        """A code passed to a class replaces its default and drives retryable."""
        exc = ChatModelError("x", code="quota_exceeded")
        assert exc.code is ErrorCode.QUOTA_EXCEEDED
        assert exc.retryable is False

    def test_unknown_explicit_code_is_refused(self) -> None:
        """A code outside the enum cannot be attached to an error."""
        with pytest.raises(ValueError, match="bogus"):
            ChatModelError("x", code="bogus")


class TestCause:
    def test_cause_is_chained(self) -> None:
        """The cause passed in becomes __cause__, so tracebacks show the original failure."""
        original = OSError("reset by peer")
        exc = NetworkError("connection failed", cause=original)
        assert exc.__cause__ is original

    def test_no_cause_leaves_none(self) -> None:
        """Without a cause nothing is chained."""
        assert NetworkError("x").__cause__ is None

    def test_raise_from_keeps_cause(self) -> None:
        """Raising with cause= and a from-clause agrees on the same cause."""
        original = KeyError("k")
        with pytest.raises(ProviderNotFoundError) as caught:
            raise ProviderNotFoundError("nope", cause=original) from original
        assert caught.value.__cause__ is original


class TestPickle:
    @pytest.mark.parametrize("cls", EXPORTED_CLASSES, ids=lambda c: c.__name__)
    def test_round_trip_keeps_fields(self, cls: type[ChatModelError]) -> None:
        """Pickling, as xdist and process pools do, keeps class, code, op, provider, retry data."""
        exc = cls("went wrong", op="stream", provider="acme", retryable=True, retry_after=1.5)
        clone = pickle.loads(pickle.dumps(exc))
        assert type(clone) is cls
        assert (clone.message, clone.code, clone.op, clone.provider) == (
            "went wrong",
            cls.default_code,
            "stream",
            "acme",
        )
        assert clone.retryable is True
        assert clone.retry_after == 1.5
        assert str(clone) == "went wrong"

    def test_round_trip_keeps_explicit_code(self) -> None:
        """A class given a non-default code keeps that code through pickling."""
        exc = ChatModelError("x", code=ErrorCode.CANCELLED, retryable=False)
        clone = pickle.loads(pickle.dumps(exc))
        assert clone.code is ErrorCode.CANCELLED
        assert clone.retryable is False


class TestText:
    def test_str_is_the_message(self) -> None:
        """str() gives the human message alone."""
        assert str(RateLimitError("too many requests", op="invoke")) == "too many requests"

    def test_repr_names_class_and_context(self) -> None:
        """repr() shows the class, message, code, op, provider and retryable."""
        exc = RateLimitError("slow", op="invoke", provider="acme")
        assert repr(exc) == (
            "RateLimitError('slow', code='rate_limit', op='invoke', provider='acme', "
            "retryable=True)"
        )

    def test_args_hold_the_message(self) -> None:
        """The message is the exception's single argument, as with builtin exceptions."""
        assert InvalidInputError("bad").args == ("bad",)
