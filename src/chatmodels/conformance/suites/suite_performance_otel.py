"""Performance: what a provider's own OpenTelemetry instrumentation costs a call.

PERF-006 applies to providers that declare ``telemetry``: it compares the provider's chat model
bare (A) with the model its ``instrumented(tracer_provider, meter_provider)`` returns (B, SDK
providers with in-memory exporters), in ABBA blocks after a warm-up, each sample calibrated to
``perf_min_sample_seconds`` of work, with ``gc.collect()`` and the span exporter cleared
between blocks. The median of the per-block ratios B/A gets a bootstrap 95% interval: pass when
it lies under 1 + budget, fail when above, inconclusive (reported so, never a pass) when it
straddles. An undecided verdict takes more blocks, in steps of ``perf_samples``, up to
``perf_max_samples``.

Samples are timed on ``perfstats.UnloadedClock``: wall time minus the time the thread waited
for a CPU, because other processes preempt the arm doing more work more often, a bias no
pairing removes. The cyclic GC is paused inside a block and run between blocks, as ``timeit``
does.

The library's wrapper, which the kit puts around providers without telemetry of their own, is
the kit's cost, not the provider's: ``chatmodels.conformance.kitcost`` measures it briefly and
the report shows it among the kit figures.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Sequence

import pytest

from chatmodels.conformance import outcomes
from chatmodels.conformance.capture import TelemetryCapture
from chatmodels.conformance.fixtures import RecordFigure
from chatmodels.conformance.perfstats import (
    ABBA,
    Block,
    Decision,
    PerfPlan,
    UnloadedClock,
    calibrate,
    paired_differences,
    paired_ratios,
    run_blocks,
    sample_until_decided,
    time_calls,
)
from chatmodels.conformance.settings import Settings
from chatmodels.conformance.suites._telemetry_kit import instrument_subject
from chatmodels.provider import ChatModel

PROMPT = "Say hello."
WARM_UP_SECONDS = 0.05
US, MS = 1e6, 1e3


def _warm_up(*calls: Callable[[], object]) -> None:
    """Run each call for a while, so caches and lazily built SDK state settle first."""
    for call in calls:
        loops = calibrate(call, WARM_UP_SECONDS, max_loops=200)
        time_calls(call, loops)


def _between_blocks(capture: TelemetryCapture, *calls: Callable[[], object]) -> Callable[[], None]:
    """Drop finished spans and garbage, then re-warm each arm untimed, so no arm pays for both."""

    def reset() -> None:
        capture.clear()
        gc.collect()
        for call in calls:
            call()

    return reset


def _measure(
    calls: Sequence[Callable[[], object]],
    order: Sequence[int],
    statistic: Callable[[Sequence[Block]], list[float]],
    limit: float,
    plan: PerfPlan,
    capture: TelemetryCapture,
    record_figure: RecordFigure,
) -> tuple[Decision, list[int]]:
    """Warm up, calibrate each arm, then take blocks until the verdict is decided or capped."""
    _warm_up(*calls)
    loops = [calibrate(call, plan.min_sample_seconds) for call in calls]
    between = _between_blocks(capture, *reversed(calls))
    with UnloadedClock() as clock:
        arms = [
            (lambda call=call, n=n: time_calls(call, n, clock))
            for call, n in zip(calls, loops, strict=True)
        ]

        def take(count: int) -> list[Block]:
            return run_blocks(arms, count, order=order, between=between)

        waited = clock.waited()
        decision = sample_until_decided(
            take,
            statistic,
            limit,
            first=plan.samples,
            most=plan.max_samples,
            resamples=plan.resamples,
            seed=plan.seed,
        )
        calls_made = len(decision.blocks) * sum(loops[arm] for arm in order)
        if clock.adjusted:
            record_figure(
                "CPU wait per call (subtracted)",
                (clock.waited() - waited) / calls_made * US,
                "us",
                detail="time runnable without a CPU (other processes' load), taken out of samples",
            )
    capture.clear()
    return decision, loops


def _interval(decision: Decision, scale: float, unit: str, *, offset: float = 0.0) -> str:
    est = decision.estimate
    return (
        f"{est.confidence:.0%} CI [{(est.low - offset) * scale:.2f}{unit}, "
        f"{(est.high - offset) * scale:.2f}{unit}] over {est.samples} blocks"
    )


@pytest.mark.requirement("PERF-006")
def test_own_instrumentation_overhead(
    request: pytest.FixtureRequest,
    chatmodels_chat_model: ChatModel,
    chatmodels_telemetry: TelemetryCapture,
    chatmodels_settings: Settings,
    chatmodels_record_figure: RecordFigure,
) -> None:
    """The provider's own instrumentation adds less than the budgeted share of a call."""
    plan = PerfPlan.from_settings(chatmodels_settings)
    budget = chatmodels_settings.budget("PERF-006")
    assert budget is not None
    instrumented = instrument_subject(request, chatmodels_chat_model, chatmodels_telemetry)
    decision, loops = _measure(
        (lambda: chatmodels_chat_model.invoke(PROMPT), lambda: instrumented.invoke(PROMPT)),
        ABBA,
        paired_ratios,
        1.0 + budget / 100.0,
        plan,
        chatmodels_telemetry,
        chatmodels_record_figure,
    )
    _report_overhead(decision, budget, loops[0], chatmodels_record_figure)


def _report_overhead(
    decision: Decision, budget: float, loops: int, chatmodels_record_figure: RecordFigure
) -> None:
    est, blocks = decision.estimate, decision.blocks
    added = statistics.median(paired_differences(blocks))
    base = statistics.median(b.mean(0) for b in blocks)
    treated = statistics.median(b.mean(1) for b in blocks)
    interval = _interval(decision, 100.0, "%", offset=1.0)
    chatmodels_record_figure(
        "otel overhead (median B/A - 1)",
        (est.value - 1.0) * 100.0,
        "%",
        budget=budget,
        detail=f"{interval} of {loops} call(s) per sample; verdict {decision.verdict}",
    )
    chatmodels_record_figure("otel overhead CI low", (est.low - 1.0) * 100.0, "%")
    chatmodels_record_figure("otel overhead CI high", (est.high - 1.0) * 100.0, "%")
    chatmodels_record_figure("otel time added per call", added * US, "us")
    chatmodels_record_figure("uninstrumented call (A)", base * MS, "ms")
    chatmodels_record_figure("instrumented call (B)", treated * MS, "ms")
    summary = (
        f"instrumentation adds {(est.value - 1.0) * 100.0:.2f}% ({interval}; "
        f"+{added * US:.0f} us on a {base * MS:.3f} ms call)"
    )
    if decision.verdict == "inconclusive":
        pytest.skip(
            f"{outcomes.INCONCLUSIVE}{summary}: the interval straddles the {budget:g}% budget, "
            "so the measurement cannot decide; on a call this short the SDK's fixed cost per "
            "span is near the budget"
        )
    assert decision.verdict == "pass", f"{summary}; expected under {budget:g}%"
