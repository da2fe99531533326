"""Requirements and tunables of the performance suite.

Budgets are the defaults of the original design; each can be changed per run with
``--chatmodels-setting budget.PERF-00N=VALUE`` and is shown next to its figure in the report.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "PERF-001",
        Level.SHOULD,
        "Resolving the provider by name through a registry takes under 1 ms (median)",
        "Applications resolve providers on startup and per tenant; a factory that does slow "
        "work (network, imports, files) on construction makes every resolution pay for it.",
        budget=1.0,
        unit="ms",
    ),
    Requirement(
        "PERF-002",
        Level.SHOULD,
        "create_chat_model takes under 10 ms (median)",
        "Models are created per request or per configuration; creation should only configure, "
        "leaving connections to be opened lazily and shared.",
        budget=10.0,
        unit="ms",
    ),
    Requirement(
        "PERF-003",
        Level.SHOULD,
        "Call latency is predictable: p99 within 4x the median (or the median plus a slack)",
        "Tail latency is what users wait for; stalls (locks, GC storms, reconnects on every "
        "Nth call) show up as a p99 far above the median.",
        budget=4.0,
        unit="x p50",
    ),
    Requirement(
        "PERF-004",
        Level.SHOULD,
        "A stream's first chunk arrives no later than 1.5x a whole invoke answer (median, +1 ms)",
        "Streaming exists to show the first tokens sooner; a stream that buffers the answer "
        "or sets itself up slowly defeats it.",
        capability=Capability.STREAMING,
        budget=1.5,
        unit="x invoke p50",
    ),
    Requirement(
        "PERF-005",
        Level.SHOULD,
        "Throughput grows with concurrent callers (threads and asyncio); callers are not "
        "serialised",
        "A provider whose calls mostly wait (network, model) must let callers overlap; a "
        "global lock or a blocking async path makes 16 callers as slow as one.",
        budget=2.0,
        unit="x at 16 callers",
    ),
    Requirement(
        "PERF-006",
        Level.SHOULD,
        "A provider's own OpenTelemetry instrumentation adds under 5% to a call (median B/A, "
        "95% CI)",
        "Teams leave tracing on in production only when it is cheap. Applies to providers that "
        "declare 'telemetry'; the library wrapper the kit puts around other providers is the "
        "kit's cost, shown among the report's kit figures. Paired, interleaved measurements keep "
        "the verdict from flipping with machine load.",
        capability=Capability.TELEMETRY,
        budget=5.0,
        unit="%",
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting("perf_samples", 30, "Paired blocks per overhead verdict (at least 30).", unit="blocks"),
    Setting(
        "perf_max_samples",
        120,
        "Paired blocks an undecided overhead verdict may extend to, in steps of perf_samples.",
        unit="blocks",
    ),
    Setting(
        "perf_min_sample_seconds", 0.001, "Least work, in seconds, in one timed sample.", unit="s"
    ),
    Setting("perf_seed", 0, "Seed of the bootstrap resampling."),
    Setting(
        "perf_bootstrap_resamples",
        2000,
        "Bootstrap resamples per confidence interval.",
        unit="resamples",
    ),
    Setting(
        "perf_latency_seconds",
        0.6,
        "Wall time the latency sampling aims for; sets the number of calls (50 to 2000).",
        unit="s",
    ),
    Setting("perf_throughput_seconds", 0.25, "Measuring window per concurrency level.", unit="s"),
    Setting(
        "perf_tail_slack_ms",
        10.0,
        "Absolute slack of the tail rule: p99 passes under max(budget x p50, p50 + slack).",
        unit="ms",
    ),
    Setting(
        "perf_long",
        False,
        "A longer, tighter run: 4x the samples, sample length and measuring windows.",
    ),
)
