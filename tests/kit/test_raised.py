"""Exceptions a provider raises are quoted as what they are, naming the call that raised them."""

from __future__ import annotations

import pytest

from chatmodels.conformance.raised import describe_raised, escaped_from_provider
from chatmodels.errors import RateLimitError

NOT_IMPLEMENTED = """
import pytest
from chatmodels.providers.reference import ReferenceChatModel, ReferenceProvider


class _Unfinished(ReferenceChatModel):
    def _invoke(self, messages, options):
        raise NotImplementedError("invoke is not written yet")


class Unfinished(ReferenceProvider):
    chat_model_class = _Unfinished


@pytest.fixture(scope="session")
def chatmodels_provider():
    return Unfinished
"""


class TestDescribeRaised:
    def test_a_foreign_exception_is_bare(self) -> None:
        """Anything but a ChatModelError is quoted as a bare exception with its text."""
        assert describe_raised(KeyError("role")) == "a bare KeyError: 'role'"
        assert describe_raised(NotImplementedError()) == "a bare NotImplementedError"

    def test_a_chat_model_error_shows_its_code(self) -> None:
        """A ChatModelError is quoted with its class and code."""
        described = describe_raised(RateLimitError("slow down"))
        assert described == "RateLimitError (code 'rate_limit'): slow down"

    def test_the_kit_own_errors_are_left_alone(self) -> None:
        """An exception raised by kit code, or an assertion, is not blamed on the provider."""
        with pytest.raises(ValueError, match="kit bug") as caught:
            raise ValueError("kit bug")  # raised here, not by provider code under a suite
        assert escaped_from_provider(caught.value) is None
        assert escaped_from_provider(AssertionError("x")) is None


class TestEscapedExceptions:
    def test_bare_exception_from_the_provider_names_the_call(
        self, pytester: pytest.Pytester, run_conformance
    ) -> None:
        """A NotImplementedError escaping invoke fails CORE-001 framed as a bare exception."""
        pytester.makeconftest(NOT_IMPLEMENTED)
        run = run_conformance(None, "--chatmodels-requirements", "CORE-001")
        assert run.statuses == {"CORE-001": "failed"}
        (message,) = run.messages["CORE-001"]
        assert "model.invoke(" in message  # the suite line that made the call
        assert (
            "raised a bare NotImplementedError: invoke is not written yet; expected an answer or "
            "a ChatModelError" in message
        )
