"""Requirements and tunables of the telemetry suite (OTEL), checked against ``chatmodels._semconv``.

How the suite exercises a provider:

- A provider that does not declare ``Capability.TELEMETRY`` is wrapped with
  ``chatmodels.telemetry.instrument`` (through the ``chatmodels_telemetry`` fixture), so the
  suite checks the library's instrumentation around that provider's answers.
- A provider that declares ``Capability.TELEMETRY`` brings its own instrumentation. Its chat
  models then keep a one-method protocol::

      def instrumented(self, tracer_provider, meter_provider) -> ChatModel: ...

  returning a ChatModel that reports every call to exactly those OTel providers (never the
  global ones). A TELEMETRY provider without it fails OTEL-001, and the other OTEL checks are
  inconclusive.

Decisions the suite makes where the conventions leave room:

- A call that raises is still a call: it has its span, even when the error comes from input
  validation before any request is sent (the suite provokes failures with an empty
  conversation, and with the ``fault_code`` option when the provider lists it).
- ``error.type`` is the ChatModelError code (``"invalid_input"``) or the exception's qualified
  class name; both are low-cardinality.
- ``gen_ai.response.time_to_first_chunk`` is compared with the span's duration within
  ``otel_clock_slack`` seconds, because monotonic and wall clocks may tick apart.
- Metric names, instruments and attributes are those of one edition of the conventions, the
  ``otel_semconv`` setting (a ``chatmodels._semconv.PROFILES`` key; the report names it). An
  instrumentation whose metrics follow another edition fails OTEL-017, and the other metric
  checks are inconclusive; spans are alike in both editions.
"""

from __future__ import annotations

from chatmodels import _semconv as sc
from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

__all__ = ["INSTRUMENTED_METHOD", "REQUIREMENTS", "SETTINGS"]

#: The method a TELEMETRY provider's chat models expose: ``(tracer_provider, meter_provider)``.
INSTRUMENTED_METHOD = "instrumented"

_STREAMING = Capability.STREAMING

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "OTEL-001",
        Level.MUST,
        "Each call gives exactly one span named 'chat {model}' of kind CLIENT",
        "Dashboards count and group calls by span name and kind; a missing, doubled or "
        "misnamed span makes every GenAI backend miscount traffic.",
    ),
    Requirement(
        "OTEL-002",
        Level.MUST,
        "Required and conditionally required span attributes are present and typed right",
        "Backends filter on gen_ai.operation.name, gen_ai.provider.name and "
        "gen_ai.request.model; a renamed key or a string where an int belongs drops the span "
        "from every query.",
    ),
    Requirement(
        "OTEL-003",
        Level.SHOULD,
        "Usage, finish reasons, response id and response model on the span equal the result's",
        "Cost and quality reports read token counts and finish reasons from spans; values that "
        "differ from what the caller got make those reports wrong.",
    ),
    Requirement(
        "OTEL-004",
        Level.SHOULD,
        "Request parameters the caller set are recorded on the span as sent",
        "Operators debug odd answers by the temperature, top_p, max_tokens and stop sequences "
        "of the request; a missing or mislabelled one hides the cause.",
    ),
    Requirement(
        "OTEL-005",
        Level.MUST,
        "A failed call sets error.type and status ERROR; a successful one leaves status UNSET",
        "Error rates and alerts are computed from span status and error.type; a failure "
        "reported as success, or a success marked OK by hand, breaks them.",
    ),
    Requirement(
        "OTEL-006",
        Level.MUST,
        "A stream's span ends when the stream is exhausted, fails or is closed early",
        "A span left open is never exported: the call vanishes from traces and the exporter "
        "keeps it in memory for the life of the process.",
        _STREAMING,
    ),
    Requirement(
        "OTEL-007",
        Level.SHOULD,
        "gen_ai.response.time_to_first_chunk is positive and within the span's duration",
        "Time to first chunk is the latency users feel on streams; a value in the wrong unit "
        "or measured from the wrong instant misleads every latency chart.",
        _STREAMING,
    ),
    Requirement(
        "OTEL-008",
        Level.MUST,
        "Call spans are children of the caller's current span, in every calling style",
        "Traces are only useful when the model call sits under the request that made it, "
        "whether the caller is sync, async, a batch or a thread pool.",
    ),
    Requirement(
        "OTEL-009",
        Level.MUST,
        "Concurrent calls get distinct spans with no attribute bleeding between them",
        "Servers run many calls at once; attributes shared between calls attribute one "
        "caller's parameters, tokens or response to another.",
    ),
    Requirement(
        "OTEL-010",
        Level.MUST,
        "The duration metric counts every call exactly once, failures included",
        "Request rates and latency percentiles come from this histogram (named by the "
        "conventions' edition); a missed or doubled call skews both.",
    ),
    Requirement(
        "OTEL-011",
        Level.MUST,
        "Token usage metrics sum to the reported usage per token type",
        "Token metrics feed billing and quotas; double-counted or swapped token types cost money.",
    ),
    Requirement(
        "OTEL-012",
        Level.SHOULD,
        "Metric instruments, units and bucket boundaries are those of the conventions",
        "Metrics of another instrument type, or with other buckets or units, cannot be "
        "aggregated with other services' GenAI metrics or read by stock dashboards.",
    ),
    Requirement(
        "OTEL-013",
        Level.SHOULD,
        "Streaming metrics are recorded for streams only, once per stream and chunk",
        "Time-to-first-chunk metrics recorded for non-streamed calls mix whole-call latency "
        "into streaming latency and make it meaningless.",
        _STREAMING,
    ),
    Requirement(
        "OTEL-014",
        Level.MUST,
        "Message content is not captured unless the application opts in",
        "Prompts and answers hold personal data; exporting them by default leaks it to every "
        "telemetry backend.",
    ),
    Requirement(
        "OTEL-015",
        Level.MUST,
        "With the OTel API's no-op providers calls work, give the same answers and record nothing",
        "Most applications never install an SDK; instrumentation must cost them nothing and "
        "never break a call.",
    ),
    Requirement(
        "OTEL-016",
        Level.MUST,
        "Instrumentation never sets the global tracer or meter provider",
        "The global providers can be set once per process and belong to the application; a "
        "library that sets them steals that choice for good.",
    ),
    Requirement(
        "OTEL-017",
        Level.MUST,
        "Metrics carry the names of the conventions' edition the run checks (otel_semconv)",
        "Dashboards and alerts are built for one edition of the GenAI conventions; metrics "
        "named after another edition are invisible to them, however correct their values.",
    ),
    Requirement(
        "OTEL-018",
        Level.MUST,
        "Each call's recorded duration, and a stream's time to first chunk, agree with the "
        "call's span within otel_metric_slack",
        "Latency dashboards and SLO alerts read the duration histograms; a value recorded in "
        "milliseconds under unit 's', or timed from the wrong instant, passes every count and "
        "bucket check and still reports latencies a thousand times off.",
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "otel_threads", 16, "Threads (and asyncio tasks) of the no-bleeding check.", unit="threads"
    ),
    Setting("otel_calls", 4, "Calls of each kind in the metric-count checks.", unit="calls"),
    Setting(
        "otel_metric_slack",
        0.25,
        "Seconds by which a call's recorded duration or time to first chunk may differ from its "
        "span's duration (OTEL-018); generous, so a busy machine never fails a correct call.",
        unit="s",
    ),
    Setting(
        "otel_clock_slack",
        0.001,
        "Seconds by which time_to_first_chunk may exceed the span's duration (clock skew).",
        unit="s",
    ),
    Setting(
        "otel_semconv",
        sc.DEFAULT_PROFILE,
        "Edition of the GenAI conventions the OTEL suite checks and instrument() emits: "
        + " or ".join(f"{name} ({p.title})" for name, p in sc.PROFILES.items())
        + ".",
        choices=tuple(sc.PROFILES),
    ),
)
