"""Contract suite requirements, part one: calls, streams, batches, messages, options, usage."""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST, SHOULD = Level.MUST, Level.SHOULD
ASYNC = Capability.ASYNC
STREAMING = Capability.STREAMING
BATCH = Capability.BATCH
USAGE = Capability.USAGE

_CORE = (
    Requirement(
        "CORE-001",
        MUST,
        "invoke returns an assistant message with non-empty content or tool calls",
        "An empty answer is indistinguishable from a dropped response; callers need either "
        "text to show or tool calls to run.",
    ),
    Requirement(
        "CORE-002",
        MUST,
        "invoke reports exactly one valid finish reason, consistent with the answer",
        "Callers branch on the finish reason (continue a cut answer, run tools); a missing or "
        "contradictory one sends them down the wrong branch.",
    ),
    Requirement(
        "CORE-003",
        MUST,
        "The result names the model that answered",
        "Logs, cost accounting and telemetry attribute every answer to a model; an unnamed "
        "result cannot be audited.",
    ),
    Requirement(
        "CORE-004",
        MUST,
        "The result carries a non-empty response id",
        "The response id is how an answer is traced across logs, spans and support tickets.",
    ),
)

_ASYNC = (
    Requirement(
        "ASYNC-001",
        MUST,
        "ainvoke gives the same answer as invoke for a deterministic provider",
        "Applications move between sync and async code; the same request must not change "
        "its answer, options or usage with the calling style.",
        ASYNC,
    ),
    Requirement(
        "ASYNC-002",
        MUST,
        "astream gives the same stream content as stream for a deterministic provider",
        "An async server and a sync script streaming the same request must show users the "
        "same text, finish reason and usage.",
        ASYNC,
    ),
    Requirement(
        "ASYNC-003",
        MUST,
        "abatch gives the same answers as batch for a deterministic provider",
        "Batch jobs are moved to async for throughput; they must not change results by doing so.",
        ASYNC,
    ),
    Requirement(
        "ASYNC-004",
        MUST,
        "Sync calls work from a worker thread of a running event loop",
        "Web frameworks run sync handlers in the loop's executor threads; a provider that "
        "looks for or drives 'the' event loop there breaks every such app.",
    ),
    Requirement(
        "ASYNC-005",
        SHOULD,
        "ainvoke does not block the event loop while it waits",
        "A blocking ainvoke freezes every other request an async server is handling for the "
        "whole duration of the call.",
        ASYNC,
    ),
)

_STREAM = (
    Requirement(
        "STREAM-001",
        MUST,
        "The concatenated stream deltas equal invoke's answer for a deterministic provider",
        "Users see the streamed text while logs keep the merged one; the two must be the "
        "same answer, whitespace included.",
        STREAMING,
    ),
    Requirement(
        "STREAM-002",
        MUST,
        "A stream reports exactly one finish reason, on its last chunk",
        "Consumers stop reading at the finish reason; a repeated or early one truncates the "
        "answer, a missing one leaves them waiting.",
        STREAMING,
    ),
    Requirement(
        "STREAM-003",
        MUST,
        "A stream reports usage on its final chunk only, equal to invoke's usage",
        "Summing or overwriting per-chunk usage double-counts cost; the final figure must "
        "match what the same call costs unstreamed.",
        USAGE,
    ),
    Requirement(
        "STREAM-004",
        MUST,
        "A stream names one response id, the same on every chunk that carries one",
        "The id ties the chunks of one answer together in logs and traces; a changing id "
        "splits one answer into several.",
        STREAMING,
    ),
    Requirement(
        "STREAM-005",
        MUST,
        "A stream sends no empty chunks, mid-stream or trailing",
        "Empty keep-alive chunks and trailing end markers leak transport details into every "
        "consumer loop and confuse end-of-stream handling.",
        STREAMING,
    ),
    Requirement(
        "STREAM-006",
        MUST,
        "Closing a stream early returns promptly and leaves the model usable",
        "Users cancel long answers all the time; an abandoned stream must not hang the "
        "caller or hold the connection the next call needs.",
        STREAMING,
    ),
    Requirement(
        "STREAM-007",
        MUST,
        "Streamed tool-call deltas assemble into the tool calls invoke returns",
        "Agents stream and then run the assembled tool calls; fragments that do not merge "
        "back into valid calls make streaming agents fail.",
        Capability.TOOLS,
    ),
    Requirement(
        "STREAM-008",
        MUST,
        "A stream names one model, the same on every chunk that carries one",
        "Cost accounting and telemetry attribute a streamed answer to the model its chunks "
        "name; a name that changes mid-stream bills or traces one answer to two models.",
        STREAMING,
    ),
)

_BATCH = (
    Requirement(
        "BATCH-001",
        MUST,
        "batch returns one answer per input, in input order",
        "Callers zip answers back onto their inputs; a reordered or short result silently "
        "attaches answers to the wrong questions.",
        BATCH,
    ),
    Requirement(
        "BATCH-002",
        MUST,
        "A failing batch item is a ChatModelError at its index; the other items still answer",
        "One bad input in a thousand must not throw away the other answers, and the caller "
        "must know which input failed and why.",
        BATCH,
    ),
    Requirement(
        "BATCH-003",
        MUST,
        "An empty batch returns an empty list",
        "Batches are built from filtered data that is sometimes empty; that is not an error "
        "and must not crash the pipeline.",
        BATCH,
    ),
)

_MSG = (
    Requirement(
        "MSG-001",
        MUST,
        "A multi-turn conversation with assistant turns gets a valid answer",
        "Chat applications always send the history; a provider that only accepts one user "
        "turn is not a chat model.",
    ),
    Requirement(
        "MSG-002",
        MUST,
        "A conversation opening with a system message gets a valid answer",
        "System prompts carry the instructions of nearly every application; declaring them "
        "and then failing on them breaks those applications.",
        Capability.SYSTEM_MESSAGES,
    ),
    Requirement(
        "MSG-003",
        MUST,
        "Non-ASCII text and emoji round-trip without mangling",
        "Most users do not write ASCII; a provider that splits UTF-8 sequences or decodes "
        "them wrongly shows them replacement characters.",
    ),
    Requirement(
        "MSG-004",
        MUST,
        "An empty message list raises invalid_input, not retryable",
        "An empty conversation is a caller bug; a typed, non-retryable error lets the caller "
        "fix it instead of retrying or crashing on a bare exception.",
    ),
    Requirement(
        "MSG-005",
        SHOULD,
        "A user message with empty content raises invalid_input, not retryable",
        "An empty user turn is almost always a bug upstream of the call; reporting it as "
        "invalid_input beats a bare exception or a meaningless answer.",
    ),
    Requirement(
        "MSG-006",
        MUST,
        "A message with an unknown role raises invalid_input, not retryable",
        "Roles are a closed set; an unknown one must be reported as the caller's mistake, "
        "never as a KeyError from deep inside the adapter.",
    ),
    Requirement(
        "MSG-007",
        SHOULD,
        "Very long input either works or raises invalid_input naming the limit",
        "Callers that overflow the context window need to know by how much to shrink it; a "
        "generic or retryable error gives them nothing to act on.",
    ),
    Requirement(
        "MSG-008",
        MUST,
        "A system message reaches the model: a long one costs input tokens (for providers "
        "reporting usage), else it changes a deterministic answer",
        "A provider that drops system messages answers without the application's instructions, "
        "guardrails or persona, and nothing in the answer's shape shows it.",
        Capability.SYSTEM_MESSAGES,
    ),
)

_OPT = (
    Requirement(
        "OPT-001",
        MUST,
        "max_tokens=N caps the answer at N output tokens with finish reason length",
        "max_tokens is how callers bound cost and latency; an ignored cap or a cut answer "
        "reported as complete defeats both.",
        Capability.MAX_TOKENS,
    ),
    Requirement(
        "OPT-002",
        MUST,
        "A stop sequence truncates the answer before it and is not included",
        "Stop sequences delimit structured output; including them or running past them "
        "corrupts what the caller parses next.",
        Capability.STOP_SEQUENCES,
    ),
    Requirement(
        "OPT-003",
        MUST,
        "Out-of-range options raise invalid_input",
        "Silently clamping a bad temperature or max_tokens hides a caller bug and returns "
        "answers the caller did not ask for.",
    ),
    Requirement(
        "OPT-004",
        MUST,
        "An unsupported option raises unsupported, never silently ignored",
        "An ignored option (a JSON mode, a tool, an unknown extra) returns a plausible but "
        "wrong answer; failing loudly is the only safe behaviour.",
    ),
    Requirement(
        "OPT-005",
        MUST,
        "A per-call model override is served and echoed in the result's model, invoked and "
        "streamed, or refused with 'unsupported'",
        "Routers switch models per request on one client; an override silently ignored bills "
        "and answers with the wrong model while the caller believes otherwise.",
    ),
)

_USAGE = (
    Requirement(
        "USAGE-001",
        MUST,
        "Usage is non-negative integers with total equal to input plus output",
        "Usage feeds billing and quotas; inconsistent totals make every cost report wrong.",
        USAGE,
    ),
    Requirement(
        "USAGE-002",
        MUST,
        "Input tokens grow when the input grows",
        "Callers budget context windows from input tokens; a count that ignores the prompt "
        "makes those budgets meaningless.",
        USAGE,
    ),
    Requirement(
        "USAGE-003",
        MUST,
        "A non-empty answer reports output tokens above zero",
        "Output tokens are usually the expensive ones; reporting zero for a real answer "
        "under-bills and breaks rate estimates.",
        USAGE,
    ),
)

REQUIREMENTS: tuple[Requirement, ...] = (
    *_CORE,
    *_ASYNC,
    *_STREAM,
    *_BATCH,
    *_MSG,
    *_OPT,
    *_USAGE,
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "override_model",
        "",
        "The model OPT-005 asks for per call; empty picks another of the provider's listed models.",
    ),
    Setting(
        "async_blocking_threshold",
        0.002,
        "Seconds a heartbeat may be late before ASYNC-005 samples the loop thread for a "
        "blocking call; calls faster than this are too fast to judge.",
        unit="s",
    ),
    Setting(
        "stream_close_timeout",
        1.0,
        "Seconds close()/aclose() of an early-abandoned stream may take (STREAM-006).",
        unit="s",
    ),
    Setting(
        "msg_long_input_words", 50000, "Words in the very long prompt of MSG-007.", unit="words"
    ),
    Setting(
        "preflight_timeout",
        5.0,
        "Seconds the preflight's one invoke and one stream may take before the run stops as "
        "unable to reach the provider; 0 skips the preflight.",
        unit="s",
    ),
)
