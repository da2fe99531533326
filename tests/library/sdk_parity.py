"""What the SDK-parity tests compare: a chatmodels result reduced to the fields an SDK shows."""

from __future__ import annotations

from typing import Any

from chatmodels import ChatResult


def summary(result: ChatResult) -> tuple[Any, ...]:
    """Text, finish reason, token counts, tool calls and model of *result*."""
    usage = result.usage
    counts = (
        None if usage is None else (usage.input_tokens, usage.output_tokens, usage.total_tokens)
    )
    calls = tuple((c.id, c.name, c.arguments) for c in result.tool_calls)
    return result.text, result.finish_reason.value, counts, calls, result.model
