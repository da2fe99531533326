"""Requirements and tunables of the faults suite: an HTTP provider against a misbehaving server.

The suite applies per protocol: each requirement runs once for each of ``openai_compatible``,
``anthropic_compatible`` and ``responses_compatible`` the provider declares, and passes only if
it passes on each (a provider declaring none is unsupported). It re-creates the provider with
``base_url`` pointed at a FaultServer on loopback, which serves every protocol, scripts one
fault per request and reads the server's request log to count retries and time them. Where
the provider declares the options ``timeout``, ``max_retries``, ``backoff_base`` or
``backoff_max``, the suite sets small values so the run stays fast; a provider declaring none
is still bounded by ``call_timeout`` on every call.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting

MUST, SHOULD = Level.MUST, Level.SHOULD
#: No single capability: the suite's fixture runs each requirement per declared protocol.
HTTP = None

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "FAULT-001",
        MUST,
        "HTTP 400, 401, 403 and 404 map to invalid_input, authentication, permission and "
        "model_not_found, not retryable",
        "Callers fix a bad request, a bad key, a missing grant and a wrong model name in "
        "different places; one generic error, or a retryable flag, sends them to the wrong one.",
        HTTP,
    ),
    Requirement(
        "FAULT-002",
        MUST,
        "HTTP 429 maps to rate_limit, retryable, with retry_after read from the Retry-After header",
        "Throttled callers must back off for as long as the server asks; a bare exception or "
        "a lost Retry-After turns throttling into failures or a retry storm.",
        HTTP,
    ),
    Requirement(
        "FAULT-003",
        MUST,
        "HTTP 5xx maps to server_error and HTTP 408 to timeout, both retryable",
        "Upstream failures are transient; callers and load balancers retry or fail over only "
        "on errors marked retryable.",
        HTTP,
    ),
    Requirement(
        "FAULT-004",
        MUST,
        "A connection reset maps to network, retryable",
        "A reset says nothing about the request, so the caller may retry it; reported as a "
        "server or response error it hides a flaky network behind the wrong alert.",
        HTTP,
    ),
    Requirement(
        "FAULT-005",
        MUST,
        "Malformed JSON, a wrong content type and an empty 200 map to invalid_response",
        "Proxies and overloaded gateways answer 200 with HTML or nothing; a parser error "
        "escaping as ValueError or KeyError bypasses every caller's error handling.",
        HTTP,
    ),
    Requirement(
        "FAULT-006",
        MUST,
        "Retries of a persistent failure are bounded by the declared maximum",
        "An unbounded retry loop turns one outage into a flood of requests and a call that "
        "never returns.",
        HTTP,
    ),
    Requirement(
        "FAULT-007",
        MUST,
        "A retry after HTTP 429 waits at least as long as Retry-After asks",
        "Retrying before Retry-After has passed is throttled again, burns the quota and can "
        "get the key blocked.",
        HTTP,
    ),
    Requirement(
        "FAULT-008",
        MUST,
        "Non-retryable errors (400, 401, 403, 404) are sent exactly once",
        "Repeating a request the server refused for its content or its credentials cannot "
        "succeed; it only multiplies the load and the latency of the failure.",
        HTTP,
    ),
    Requirement(
        "FAULT-009",
        MUST,
        "A client timeout fires within its bound plus a small slack, with code timeout",
        "A timeout that does not fire ties up a worker for as long as the slowest server "
        "wants; callers set deadlines precisely so that cannot happen.",
        HTTP,
    ),
    Requirement(
        "FAULT-010",
        MUST,
        "A response or stream cut before its end raises invalid_response or network",
        "A cut stream returned as complete is a truncated answer the caller cannot tell from "
        "a real one: the silent partial success.",
        HTTP,
    ),
    Requirement(
        "FAULT-011",
        MUST,
        "After any fault the next normal call on the same model succeeds",
        "A fault that poisons a pooled connection or client turns one bad answer into an "
        "outage of every later call.",
        HTTP,
    ),
    Requirement(
        "FAULT-012",
        MUST,
        "A call that survives a fault returns exactly the fault-free answer",
        "A retry that resends a changed request, or a body read short, yields a success with "
        "the wrong content, which no error handling can catch.",
        HTTP,
    ),
    Requirement(
        "FAULT-013",
        MUST,
        "A huge response body is parsed correctly or rejected with invalid_response",
        "Servers pad answers and misconfigured ones send megabytes; the client must neither "
        "crash, hang, nor cut the answer.",
        HTTP,
    ),
    Requirement(
        "FAULT-014",
        MUST,
        "Concurrent callers under random faults each get their own correct answer or a "
        "retryable ChatModelError",
        "Retries, pooled connections and shared state meet only under load with faults; a "
        "race there hands one caller another's answer or escapes as a bare exception.",
        HTTP,
    ),
    Requirement(
        "FAULT-015",
        MUST,
        "The API key never appears in an error's message, repr or cause under any fault",
        "Error messages end up in logs, reports and bug trackers; a key quoted there is a "
        "leaked credential.",
        HTTP,
    ),
    Requirement(
        "FAULT-016",
        SHOULD,
        "A single transient fault (5xx, 429, reset) is retried and the call succeeds",
        "One dropped connection or one 503 is routine on the internet; a client that surfaces "
        "each one makes every caller write its own retry loop.",
        HTTP,
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "fault_conc_callers",
        64,
        "Concurrent callers (threads, then tasks) in FAULT-014.",
        unit="callers",
    ),
    Setting(
        "fault_rate",
        0.2,
        "Share of requests the server fails at random in FAULT-014.",
        unit="fraction",
    ),
    Setting("fault_seed", 0, "Seed of the server's random faults in FAULT-014."),
    Setting(
        "fault_conc_timeout",
        30.0,
        "Seconds without progress (no call ending, no request reaching the server) after which "
        "FAULT-014 fails as hung; a load still progressing after 4 times this is inconclusive.",
        unit="s",
    ),
    Setting(
        "fault_client_timeout",
        5.0,
        "The client timeout given to models on the fault server, so a stalled answer ends in "
        "a timeout error well within call_timeout.",
        unit="s",
    ),
    Setting("fault_timeout", 0.2, "The client timeout FAULT-009 sets, in seconds.", unit="s"),
    Setting(
        "fault_latency",
        2.0,
        "Server latency FAULT-009 plays; the timeout must cut it short.",
        unit="s",
    ),
    Setting(
        "fault_timeout_ratio",
        0.5,
        "FAULT-009 passes when the timed-out call took at most this share of fault_latency.",
        unit="fraction",
    ),
    Setting(
        "fault_retry_after", 0.3, "Retry-After seconds of the 429 that FAULT-007 plays.", unit="s"
    ),
    Setting(
        "fault_slack", 0.05, "Seconds of clock slack allowed under a Retry-After wait.", unit="s"
    ),
    Setting(
        "fault_max_attempts",
        10,
        "Request bound of FAULT-006 when the provider declares no max_retries option.",
        unit="requests",
    ),
    Setting(
        "fault_huge_size",
        4 * 1024 * 1024,
        "Padding bytes of the huge body in FAULT-013.",
        unit="bytes",
    ),
)
