"""Helpers shared by the contract suite, part two: tools, prompts and checks of answers and errors.

Every call goes through ``_bounded.py``, whose watchdog thread a hung provider cannot stall.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from chatmodels.conformance.raised import describe_raised
from chatmodels.conformance.suites._bounded import call_within
from chatmodels.errors import ChatModelError, ErrorCode
from chatmodels.messages import ChatChunk, ChatResult, FinishReason, Role
from chatmodels.options import ToolSpec
from chatmodels.provider import ChatModel, Provider, ProviderMetadata

T = TypeVar("T")

WEATHER = ToolSpec(
    "get_weather",
    "Look up the weather forecast for a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 1},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "metric": {"type": "boolean"},
        },
        "required": ["city", "days", "metric"],
    },
)
STOCK = ToolSpec(
    "get_stock_price",
    "Look up the latest price of a stock.",
    {
        "type": "object",
        "properties": {
            "symbol": {"type": "string", "minLength": 1},
            "exchange": {"type": "string", "enum": ["NYSE", "NASDAQ"]},
            "max_age_seconds": {"type": "number", "minimum": 0},
        },
        "required": ["symbol", "exchange", "max_age_seconds"],
    },
)
TOOLS = (WEATHER, STOCK)
TOOL_PROMPT = "What will the weather be in Paris over the next 3 days? Use the get_weather tool."
PLAIN_PROMPT = "Say hello in one short sentence."
JSON_PROMPT = 'Reply in JSON: an object whose key "capital" gives the capital of France.'


def stream_problem(chunks: list[ChatChunk]) -> str | None:
    """Say what is wrong with a finished stream, or None when it is well formed."""
    if not chunks:
        return "the stream ended without any chunk; expected at least the final chunk"
    bad = next((c for c in chunks if not isinstance(c, ChatChunk)), None)
    if bad is not None:
        return f"the stream yielded {bad!r}; expected ChatChunk objects"
    finishes = [i for i, c in enumerate(chunks) if c.finish_reason is not None]
    if finishes != [len(chunks) - 1]:
        return (
            f"the stream of {len(chunks)} chunks had finish reasons on chunks {finishes}; "
            "expected exactly one, on the last chunk"
        )
    return None


def result_problem(result: object) -> str | None:
    """Say what is wrong with an invoke result, or None when it is a valid ChatResult."""
    if not isinstance(result, ChatResult):
        return f"returned {result!r}; expected a ChatResult"
    if result.message.role is not Role.ASSISTANT:
        return f"returned a message with role {result.message.role!r}; expected 'assistant'"
    if not isinstance(result.finish_reason, FinishReason):
        return f"returned finish reason {result.finish_reason!r}; expected a FinishReason"
    return None


def error_problem(exc: BaseException) -> str | None:
    """Say why *exc* is not a well-formed ChatModelError, or None."""
    if not isinstance(exc, ChatModelError):
        return f"raised {describe_raised(exc)}; expected a ChatModelError"
    if not isinstance(exc.code, ErrorCode):
        return f"raised {exc!r} whose code {exc.code!r} is not an ErrorCode"
    if not exc.op:
        return f"raised {exc!r} with an empty op; expected the failing operation's name"
    return None


def expect_code(call: Callable[[], object], code: ErrorCode, what: str) -> ChatModelError:
    """Run *call* (bounded) and return the ChatModelError with *code* it must raise."""
    try:
        value = call_within(call, what)
    except ChatModelError as exc:
        if exc.code is not code:
            msg = (
                f"{what} raised code {exc.code.value!r} ({exc.message!r}); expected {code.value!r}"
            )
            raise AssertionError(msg) from exc
        return exc
    except AssertionError:
        raise
    except Exception as exc:
        msg = f"{what} raised {describe_raised(exc)}; expected code {code.value!r}"
        raise AssertionError(msg) from exc
    msg = f"{what} returned {value!r:.200}; expected a ChatModelError with code {code.value!r}"
    raise AssertionError(msg)


def parse_object(text: str, what: str) -> dict[str, Any]:
    """Parse *text* as a JSON object or fail naming *what*."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = f"{what} is not valid JSON ({exc}): {text[:200]!r}"
        raise AssertionError(msg) from None
    assert isinstance(value, dict), f"{what} is JSON {type(value).__name__}, expected an object"
    return value


def latency_option(metadata: ProviderMetadata) -> bool:
    """Tell whether the provider takes a 'latency' option the suite can slow it down with."""
    return "latency" in (*metadata.optional_options, *metadata.required_options)


def slow_model(
    make_provider: Callable[..., Provider], model_name: str, latency: float
) -> ChatModel:
    """Make a model from a re-created provider whose every call waits *latency* seconds."""
    provider: Provider = make_provider({"latency": latency})
    return provider.create_chat_model(model_name)


def leaks(secret: str, *texts: str) -> list[str]:
    """The texts among *texts* that contain *secret*."""
    return [t for t in texts if secret in t]


def error_chain(exc: BaseException, depth: int = 5) -> list[BaseException]:
    """*exc* and its causes and contexts, as far as *depth* links."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < depth and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
