"""Requirements and tunables of the contract suite, part two.

Tools, JSON mode, errors, health, metadata, lifecycle, cancellation, timeouts and fuzzing.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST, SHOULD = Level.MUST, Level.SHOULD

_TOOLS: tuple[Requirement, ...] = (
    Requirement(
        "TOOLS-001",
        MUST,
        "Tool calls have unique ids, an offered tool's name, and JSON arguments valid against "
        "that tool's schema",
        "Applications dispatch tool calls by name and id and pass the arguments to real code; "
        "a call they cannot route or validate breaks the agent loop.",
        Capability.TOOLS,
    ),
    Requirement(
        "TOOLS-002",
        MUST,
        "The finish reason is 'tool_calls' whenever tool calls are returned",
        "Agent loops decide whether to run tools or show the answer from the finish reason.",
        Capability.TOOLS,
    ),
    Requirement(
        "TOOLS-003",
        MUST,
        "tool_choice naming a tool makes the model call exactly that tool",
        "Forcing a tool is how applications run structured-extraction steps; calling another "
        "tool, or none, sends the workflow down the wrong branch.",
        Capability.TOOL_CHOICE,
    ),
    Requirement(
        "TOOLS-004",
        MUST,
        "tool_choice 'none' gives an answer without tool calls",
        "Applications use 'none' to ask for a final answer while still sending the tool "
        "definitions; a call here starts a loop nobody expects.",
        Capability.TOOL_CHOICE,
    ),
    Requirement(
        "TOOLS-005",
        MUST,
        "A tool result fed back gives a final text answer that does not call the same tool again",
        "The round trip assistant-call, tool-result, answer is the core of every agent; a model "
        "that calls the answered tool again loops forever.",
        Capability.TOOLS,
    ),
    Requirement(
        "TOOLS-006",
        MUST,
        "tool_choice 'required' gives at least one tool call, even when the prompt names no tool",
        "'required' is how applications guarantee a structured answer; a text reply there "
        "has no schema to parse.",
        Capability.TOOL_CHOICE,
    ),
    Requirement(
        "TOOLS-007",
        MUST,
        "Parallel tool calls in one answer are all returned, each with its own id, invoked "
        "and streamed",
        "Agents run parallel calls concurrently and answer each by id; a call dropped, or two "
        "sharing an id, leaves a question unanswered or answers the wrong one.",
        Capability.PARALLEL_TOOL_CALLS,
    ),
    Requirement(
        "TOOLS-008",
        MUST,
        "A tool without parameters is called with a JSON object as arguments, and its result "
        "fed back gives an answer",
        "Tools like 'current time' take no arguments; empty or null arguments crash the "
        "application's JSON parser and are refused by APIs when sent back.",
        Capability.TOOLS,
    ),
    Requirement(
        "TOOLS-009",
        MUST,
        "Non-ASCII tool arguments come back as characters, not \\u escapes, invoked and "
        "streamed, and round-trip in the history",
        "Arguments are shown to users and matched against data; re-encoding them as ASCII "
        "escapes garbles names like Zürich and breaks exact matches.",
        Capability.TOOLS,
    ),
)

_JSON: tuple[Requirement, ...] = (
    Requirement(
        "JSON-001",
        MUST,
        "JSON mode returns content that parses as a JSON object",
        "Callers of JSON mode feed the content straight to a parser; invalid JSON is a crash "
        "in the application, not a style issue.",
        Capability.JSON_MODE,
    ),
    Requirement(
        "JSON-002",
        MUST,
        "Streamed JSON mode deltas concatenate to a JSON object",
        "Streaming UIs assemble JSON-mode answers from deltas; a chunk lost or mangled on the "
        "way makes the whole document unparseable.",
        Capability.JSON_MODE,
    ),
)

_ERR: tuple[Requirement, ...] = (
    Requirement(
        "ERR-001",
        MUST,
        "Every exception raised on bad input or an upstream failure, from every entry point, "
        "is a ChatModelError with op and code set (the upstream failure's code)",
        "Callers write one except clause for ChatModelError; a bare KeyError or TypeError "
        "escapes it and takes down the application, and a rate limit reported as another code "
        "defeats back-off. Upstream failures are played through the provider's fault hook "
        "(option 'fault_code'); without it that part is unsupported.",
    ),
    Requirement(
        "ERR-002",
        MUST,
        "An error's retryable flag agrees with its code, on bad input and upstream failures",
        "Retry middleware trusts 'retryable'; retrying invalid input or a rejected key burns "
        "quota, and not retrying a timeout turns a blip into an outage.",
    ),
    Requirement(
        "ERR-003",
        MUST,
        "No error message, error repr or object repr contains a secret option's value",
        "Error messages end up in logs, bug reports and CI output; a key printed there is a "
        "leaked key.",
    ),
)

_HEALTH: tuple[Requirement, ...] = (
    Requirement(
        "HEALTH-001",
        MUST,
        "health_check on the model and the provider answers within metadata.health_timeout",
        "Readiness probes call health_check on a schedule; one that hangs blocks the probe and "
        "gets a healthy service killed.",
    ),
    Requirement(
        "HEALTH-002",
        MUST,
        "health_check returns a HealthStatus with a HealthState and a non-negative float latency",
        "Dashboards and load balancers read the status and latency fields; the wrong types "
        "break them or report nonsense.",
    ),
    Requirement(
        "HEALTH-003",
        MUST,
        "health_check of a closed model is not HEALTHY",
        "A pool that keeps a closed model because its probe still says healthy routes every "
        "request to a model that can only answer 'closed'.",
    ),
    Requirement(
        "HEALTH-004",
        MUST,
        "health_check is not HEALTHY while the server is unreachable, answers 500 or resets",
        "Load balancers and readiness probes take a backend out on its health; a probe that "
        "says HEALTHY while every call fails keeps sending traffic into an outage.",
        Capability.OPENAI_COMPATIBLE,
    ),
)

_META: tuple[Requirement, ...] = (
    Requirement(
        "META-001",
        MUST,
        "Every declared capability works in a smoke call",
        "Routers pick providers by their declared capabilities; a declared feature that fails "
        "sends real traffic to a provider that cannot serve it.",
    ),
    Requirement(
        "META-002",
        MUST,
        "Asking for an undeclared feature raises 'unsupported' rather than being ignored",
        "A silently ignored max_tokens, stop or JSON mode gives wrong answers that look right; "
        "an error lets the caller pick another provider.",
    ),
    Requirement(
        "META-003",
        MUST,
        "Metadata is well formed: name, version, capabilities, options and health timeout have "
        "the documented types",
        "Reports, registries and routers read the metadata without guarding every field.",
    ),
)

_LIFE: tuple[Requirement, ...] = (
    Requirement(
        "LIFE-001",
        MUST,
        "close() and aclose() are idempotent",
        "Shutdown paths often close twice (a finally block and a context manager); the second "
        "close must not raise.",
    ),
    Requirement(
        "LIFE-002",
        MUST,
        "Any call after close raises a ChatModelError with code 'closed'",
        "A use-after-close is a bug in the caller; a clear 'closed' error finds it, a hang or "
        "a half-working model hides it.",
    ),
    Requirement(
        "LIFE-003",
        MUST,
        "Leaving a 'with' block closes the model",
        "Context managers are the idiomatic way to release connections and threads; one that "
        "does not close leaks them.",
    ),
    Requirement(
        "LIFE-004",
        MUST,
        "Leaving an 'async with' block closes the model",
        "Async applications release resources with 'async with'; one that does not close leaks "
        "connections per request.",
        Capability.ASYNC,
    ),
)

_CANCEL: tuple[Requirement, ...] = (
    Requirement(
        "CANCEL-001",
        MUST,
        "Cancelling an in-flight ainvoke or astream raises asyncio.CancelledError within 1 s",
        "Servers cancel requests whose clients went away; a call that ignores cancellation, or "
        "blocks the event loop, stalls every other request on that loop. asyncio needs "
        "CancelledError to propagate: a provider that turns it into an error or an answer "
        "breaks asyncio.timeout and task groups.",
        Capability.CANCELLATION,
    ),
    Requirement(
        "CANCEL-002",
        MUST,
        "The model answers normally after a call on it was cancelled",
        "Cancellation must not leave locks held or connections half-read; the next request "
        "on the shared model has to work.",
        Capability.CANCELLATION,
    ),
)

_TIMEOUT: tuple[Requirement, ...] = (
    Requirement(
        "TIMEOUT-001",
        MUST,
        "A per-call timeout on invoke and stream ends the call in time with code 'timeout'",
        "Callers set deadlines to keep latency bounded; a deadline that is ignored, or fails "
        "with another code, defeats timeouts and retries.",
        Capability.TIMEOUT,
    ),
    Requirement(
        "TIMEOUT-002",
        MUST,
        "A per-call timeout on ainvoke and astream ends the call in time with code 'timeout'",
        "Async servers rely on per-call deadlines as much as sync code; the async paths are "
        "separate code and break separately.",
        Capability.TIMEOUT,
    ),
)

_FUZZ: tuple[Requirement, ...] = (
    Requirement(
        "FUZZ-001",
        MUST,
        "invoke on generated conversations gives a valid result or a ChatModelError",
        "Real traffic carries empty strings, control characters, odd roles and stray keys; a "
        "provider must answer or refuse them cleanly, never crash.",
    ),
    Requirement(
        "FUZZ-002",
        MUST,
        "invoke with generated options gives a valid result or a ChatModelError",
        "Options come from configuration files and user input; out-of-range or unknown values "
        "must be refused with a ChatModelError, not a crash deep in the provider.",
    ),
    Requirement(
        "FUZZ-003",
        MUST,
        "stream on generated conversations and options gives chunks ending in one finish "
        "reason, or a ChatModelError",
        "The streaming path has its own encoding and framing code; it must be as robust as invoke.",
        Capability.STREAMING,
    ),
)

REQUIREMENTS: tuple[Requirement, ...] = (
    *_TOOLS,
    *_JSON,
    *_ERR,
    *_HEALTH,
    *_META,
    *_LIFE,
    *_CANCEL,
    *_TIMEOUT,
    *_FUZZ,
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "timeout_slack",
        0.5,
        "Seconds a call may overrun its per-call timeout, beyond the time its thread waited "
        "for a CPU, before TIMEOUT-* fail it.",
        unit="s",
    ),
    Setting(
        "timeout_latency",
        1.0,
        "Seconds of latency given through a 'latency' provider option, when the provider has "
        "one, so TIMEOUT-* calls are still running at their deadline.",
        unit="s",
    ),
    Setting(
        "cancel_latency",
        1.5,
        "Seconds of latency given through a 'latency' provider option, when the provider has "
        "one, so CANCEL-001 calls are still running when cancelled.",
        unit="s",
    ),
)
