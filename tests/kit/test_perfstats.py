"""The performance statistics: order statistics, calibration, blocks, bootstrap and verdicts."""

from __future__ import annotations

import itertools
import statistics
import threading
import time

import pytest

from chatmodels.conformance.perfstats import (
    ABBA,
    Block,
    CallProfile,
    CpuPressure,
    Estimate,
    PerfPlan,
    UnloadedClock,
    bootstrap_median,
    calibrate,
    decide,
    excess_ratios,
    paired_differences,
    paired_ratios,
    profile_calls,
    quantile,
    run_blocks,
    sample_until_decided,
    scaling_floor,
    spread,
    time_calls,
    time_each,
)
from chatmodels.conformance.requirements import CATALOGUE
from chatmodels.conformance.settings import Settings


class FakeClock:
    """A clock that advances only when told, so timing code can be checked exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def work(self, seconds: float):
        def call() -> None:
            self.now += seconds

        return call


class TestQuantiles:
    def test_quantile_matches_statistics_inclusive(self):
        """quantile() agrees with statistics.quantiles(method='inclusive') at its cut points."""
        values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0]
        cuts = statistics.quantiles(values, n=20, method="inclusive")
        for index, cut in enumerate(cuts, start=1):
            assert quantile(values, index / 20) == pytest.approx(cut)

    def test_quantile_rejects_bad_input(self):
        """An empty sample or a q outside [0, 1] is an error naming the bad value."""
        with pytest.raises(ValueError, match="empty"):
            quantile([], 0.5)
        with pytest.raises(ValueError, match=r"1\.5"):
            quantile([1.0], 1.5)

    def test_spread_reports_median_and_tails(self):
        """spread() gives p50, p95 and p99 of 1..100."""
        found = spread([float(v) for v in range(1, 101)])
        assert (found.p50, found.count) == (50.5, 100)
        assert found.p95 == pytest.approx(95.05)
        assert found.p99 == pytest.approx(99.01)


class TestTiming:
    def test_time_calls_is_seconds_per_call(self):
        """time_calls divides the elapsed time by the number of calls."""
        clock = FakeClock()
        assert time_calls(clock.work(0.002), 5, clock) == pytest.approx(0.002)

    def test_calibrate_reaches_the_minimum_sample_length(self):
        """calibrate picks enough calls of a 30 us function to fill 1 ms, and not wildly more."""
        clock = FakeClock()
        loops = calibrate(clock.work(30e-6), 0.001, clock=clock)
        assert 0.001 <= loops * 30e-6 <= 0.0025

    def test_calibrate_takes_one_call_when_a_call_is_long_enough(self):
        """A 5 ms call is a sample on its own."""
        clock = FakeClock()
        assert calibrate(clock.work(0.005), 0.001, clock=clock) == 1

    def test_time_each_stops_at_its_time_budget_after_the_minimum(self):
        """time_each takes at least `least` calls, then stops when its time is up."""
        clock = FakeClock()
        cleaned: list[object] = []
        taken = time_each(
            clock.work(0.01), least=5, most=100, seconds=0.1, cleanup=cleaned.append, clock=clock
        )
        assert 10 <= len(taken) <= 11  # float steps may land just short of the end
        assert len(cleaned) == len(taken)
        slow = time_each(clock.work(1.0), least=5, most=100, seconds=0.1, clock=clock)
        assert len(slow) == 5

    def test_unloaded_clock_reads_this_threads_wait(self):
        """The unloaded clock moves with wall time minus a non-negative wait; closing is safe."""
        with UnloadedClock() as clock:
            first = clock()
            threading.Event().wait(0.01)
            assert clock() - first == pytest.approx(0.01, abs=0.009)
            assert clock.waited() >= 0.0
        assert not clock.adjusted
        assert UnloadedClock("/nonexistent/schedstat").adjusted is False


class TestBlocks:
    def test_run_blocks_follows_the_order_and_calls_between(self):
        """Each block samples the arms in ABBA order after one call of `between`."""
        counter = itertools.count()
        resets: list[int] = []
        blocks = run_blocks(
            [lambda: float(next(counter)), lambda: 100.0 + next(counter)],
            2,
            between=lambda: resets.append(1),
        )
        assert len(resets) == 2
        assert blocks[0] == Block(ABBA, (0.0, 101.0, 102.0, 3.0))

    def test_run_blocks_rejects_an_order_naming_a_missing_arm(self):
        """An order that names arm 2 of two arms is refused."""
        with pytest.raises(ValueError, match=r"\(0, 2\)"):
            run_blocks([lambda: 1.0, lambda: 2.0], 1, order=(0, 2))

    def test_pairing_cancels_linear_drift(self):
        """A drift that slows every later sample cancels in the ABBA ratio."""
        drift = itertools.count()
        arms = [lambda: 1.0 + 0.1 * next(drift), lambda: 1.1 + 0.1 * next(drift)]
        blocks = run_blocks(arms, 5)
        assert [round(d, 9) for d in paired_differences(blocks)] == [0.1] * 5
        assert all(r > 1.0 for r in paired_ratios(blocks))

    def test_excess_ratio_is_added_cost_over_reference(self):
        """(B - A) / H per block."""
        block = Block((0, 1, 2, 2, 1, 0), (1.0, 3.0, 4.0, 4.0, 3.0, 1.0))
        assert excess_ratios([block]) == [0.5]


class TestBootstrapAndVerdict:
    def test_bootstrap_is_reproducible_and_brackets_the_median(self):
        """The same seed gives the same interval, and the interval holds the median."""
        values = [1.0 + 0.01 * ((i * 7) % 13) for i in range(40)]
        first = bootstrap_median(values, seed=3)
        assert first == bootstrap_median(values, seed=3)
        assert first.low <= first.value <= first.high
        assert first.value == statistics.median(values)

    def test_bootstrap_interval_narrows_with_more_samples(self):
        """Four times the samples give a narrower interval."""
        base = [1.0 + 0.01 * ((i * 7) % 13) for i in range(30)]
        narrow = bootstrap_median(base * 4)
        wide = bootstrap_median(base)
        assert narrow.high - narrow.low < wide.high - wide.low

    @pytest.mark.parametrize(
        ("low", "high", "verdict"),
        [(1.01, 1.04, "pass"), (1.06, 1.09, "fail"), (1.03, 1.07, "inconclusive")],
    )
    def test_decide_against_the_limit(self, low, high, verdict):
        """Pass under the limit, fail above it, inconclusive when the interval straddles it."""
        assert decide(Estimate((low + high) / 2, low, high, 30), 1.05) == verdict

    def test_sampling_extends_an_undecided_verdict_up_to_the_cap(self):
        """Straddling data gets more blocks in steps, then stays inconclusive at the cap."""
        requested: list[int] = []

        def take(count: int) -> list[Block]:
            requested.append(count)
            return [Block(ABBA, (1.0, 1.05 + 0.01 * (i % 3 - 1), 1.05, 1.0)) for i in range(count)]

        decision = sample_until_decided(take, paired_ratios, 1.05, first=30, most=100)
        assert requested == [30, 30, 30, 10]
        assert decision.verdict == "inconclusive"
        assert len(decision.blocks) == 100

    def test_sampling_stops_once_decided(self):
        """A clear difference is decided on the first blocks."""
        blocks = [Block(ABBA, (1.0, 1.2 + 0.001 * i, 1.2, 1.0)) for i in range(30)]
        decision = sample_until_decided(
            lambda n: blocks[:n], paired_ratios, 1.05, first=30, most=120
        )
        assert decision.verdict == "fail"
        assert len(decision.blocks) == 30


class TestScalingFloor:
    def test_waiting_provider_must_reach_the_cap(self):
        """A 5 ms call with 100 us of CPU could reach 16x, so it must reach the 2x cap."""
        assert scaling_floor(CallProfile(100e-6, 0.0049), 16, 2.0) == 2.0

    def test_cpu_bound_provider_is_not_asked_to_beat_the_gil(self):
        """A call that is all CPU can reach about 1x, so half of that is enough."""
        assert scaling_floor(CallProfile(0.002, 0.0), 16, 2.0) == pytest.approx(0.5)


class TestCallProfile:
    def test_load_is_not_counted_as_waiting(self):
        """A call that load delayed once is still all CPU: its least wait beyond CPU is none."""
        profile = CallProfile.of([0.0001, 0.0031, 0.0001], [0.0001, 0.0001, 0.0001])
        assert profile.wait == 0.0
        assert profile.ceiling(16) == pytest.approx(1.0)

    def test_a_call_that_always_waits_waits(self):
        """Every call sleeps 2 ms beyond 100 us of CPU: 16 callers could reach 16x."""
        profile = CallProfile.of([0.0021, 0.0035, 0.0021], [0.0001, 0.0001, 0.0001])
        assert profile.wait == pytest.approx(0.002)
        assert profile.ceiling(16) == 16.0

    def test_cpu_beside_the_call_is_not_the_calls(self):
        """Another thread burning CPU during a 1 ms call does not make the call cost 5 ms."""
        profile = CallProfile.of([0.001, 0.001], [0.005, 0.0009])
        assert profile.cpu == pytest.approx(0.00095)

    def test_mismatched_timings_are_refused(self):
        """A profile needs one CPU time per wall time, and at least one call."""
        with pytest.raises(ValueError, match="one wall and one CPU time per call"):
            CallProfile.of([0.1], [])
        with pytest.raises(ValueError, match="got 0 and 0"):
            CallProfile.of([], [])

    def test_a_sleeping_call_waits_and_a_computing_one_does_not(self):
        """Measured in this thread: sleeps show as waits, CPU as CPU."""
        sleeping = profile_calls(lambda: time.sleep(0.002), 0.05)
        assert sleeping.wait > 0.0015
        assert sleeping.ceiling(16) > 2.0

        def compute() -> int:
            return sum(range(20_000))

        assert profile_calls(compute, 0.05).ceiling(16) < 2.0


class TestPerfPlan:
    def test_plan_from_catalogue_defaults(self):
        """The defaults give 30 blocks, up to 120, of at least 1 ms."""
        plan = PerfPlan.from_settings(Settings(CATALOGUE))
        assert (plan.samples, plan.max_samples, plan.min_sample_seconds) == (30, 120, 0.001)
        assert not plan.long

    def test_long_run_multiplies_samples_and_durations(self):
        """perf_long=true asks for 4x the samples and sample length."""
        plan = PerfPlan.from_settings(Settings(CATALOGUE, {"perf_long": "true"}))
        assert (plan.samples, plan.min_sample_seconds, plan.long) == (120, 0.004, True)

    def test_fewer_than_30_samples_is_refused(self):
        """The spec asks for at least 30 paired samples."""
        with pytest.raises(ValueError, match=r"at least 30.*10"):
            PerfPlan.from_settings(Settings(CATALOGUE, {"perf_samples": "10"}))


def _psi(path, stalled_us: int) -> None:
    path.write_text(
        f"some avg10=0.00 avg60=0.00 avg300=0.00 total={stalled_us}\n"
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )


class TestCpuPressure:
    def test_the_share_is_stalled_time_over_the_window(self, tmp_path) -> None:
        """Half a window's worth of PSI stall time is a share of about one half."""
        psi = tmp_path / "cpu"
        _psi(psi, 1_000_000)
        with CpuPressure(str(psi)) as pressure:
            started = time.perf_counter()
            time.sleep(0.2)
            _psi(psi, 1_000_000 + int((time.perf_counter() - started) * 0.5e6))
        assert pressure.share is not None
        assert 0.35 < pressure.share <= 0.5
        assert pressure.saturated

    def test_a_quiet_machine_excuses_nothing(self, tmp_path) -> None:
        """Without stall time a missed rule stands as a failure."""
        psi = tmp_path / "cpu"
        _psi(psi, 5)
        with CpuPressure(str(psi)) as pressure:
            time.sleep(0.01)
        assert pressure.share == 0.0
        assert pressure.excuse(gross=False, what="p99 is 20 ms against 10 ms") is None

    def test_a_saturated_machine_excuses_only_a_miss_that_is_not_gross(self, tmp_path) -> None:
        """Under pressure a small miss is excused with the figure; a gross one still fails."""
        psi = tmp_path / "cpu"
        _psi(psi, 0)
        with CpuPressure(str(psi)) as pressure:
            time.sleep(0.05)
            _psi(psi, 10_000_000)
        excuse = pressure.excuse(gross=False, what="p99 is 20 ms against 10 ms")
        assert excuse is not None
        assert excuse.startswith("p99 is 20 ms against 10 ms, but some task")
        assert "100%" in excuse
        assert pressure.excuse(gross=True, what="p99 is 900 ms against 10 ms") is None

    def test_without_psi_the_share_is_unknown_and_nothing_is_excused(self, tmp_path) -> None:
        """Where the kernel has no /proc/pressure/cpu the verdict is judged as before."""
        with CpuPressure(str(tmp_path / "missing")) as pressure:
            pass
        assert pressure.share is None
        assert not pressure.saturated
        assert pressure.excuse(gross=False, what="anything") is None
