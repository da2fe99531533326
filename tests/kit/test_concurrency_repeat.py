"""The concurrency suite gives the reference the same passing verdicts run after run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from test_catches_concurrency import CONC_IDS, CONCURRENCY_ONLY

_RUNS = 20


class TestConcurrencyRepeat:
    @pytest.mark.slow
    def test_twenty_runs_against_the_reference_are_identical_passes(
        self, run_conformance: Callable[..., Any]
    ) -> None:
        """20 default-load runs against the reference all pass, with identical verdicts."""
        verdicts: list[dict[str, str]] = []
        seconds: list[float] = []
        for _ in range(_RUNS):
            start = time.perf_counter()
            run = run_conformance(None, *CONCURRENCY_ONLY)
            seconds.append(time.perf_counter() - start)
            run.assert_all_pass()
            verdicts.append(dict(run.statuses))
        timing = ", ".join(f"{s:.1f}" for s in seconds)
        flaky = [i for i, v in enumerate(verdicts) if v != verdicts[0]]
        assert not flaky, f"runs {flaky} differ from run 0 {verdicts[0]}; wall times (s): {timing}"
        passed = {r for r, status in verdicts[0].items() if status == "passed"}
        assert passed >= CONC_IDS, verdicts[0]
        print(f"\n{_RUNS} concurrency runs, wall times (s): {timing}")
