"""The telemetry suite fails each deliberately broken instrumentation on exactly its requirement."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from opentelemetry.test.globals_test import reset_metrics_globals, reset_trace_globals

import broken_telemetry
from broken_telemetry import ShimCapture
from chatmodels.conformance.requirements import CATALOGUE
from scaffold import Case, caught, declared, params
from test_catches_gaps import CAUGHT_HERE

OURS = {r.id for r in CATALOGUE if r.area == "OTEL"}
catches = pytest.mark.catches

#: Every broken capture (the library's instrumentation, broken) and broken provider (its own
#: instrumentation, broken) that broken_telemetry declares, each with the requirements run.
CASES = declared(broken_telemetry)

GENAI = ("--chatmodels-setting", "otel_semconv=genai-0.1.0")
SEMCONV = ("--chatmodels-setting", "otel_semconv=semconv-1.41.1")
#: The metric requirements a run cannot judge when the metrics follow another edition.
METRIC_CHECKS = {"OTEL-010", "OTEL-011", "OTEL-012", "OTEL-013"}

#: (catches mark, provider whose own instrumentation emits one edition, run's setting,
#: a metric it emits, the edition the run checks)
EDITION_CASES = [
    (
        catches("OTEL-017"),
        "EmitsSemconvProvider",
        GENAI,
        "gen_ai.client.operation.duration",
        "genai-0.1.0",
    ),
    (
        catches("OTEL-017"),
        "EmitsGenAiProvider",
        SEMCONV,
        "gen_ai.client.inference.duration",
        "semconv-1.41.1",
    ),
]

CONFTEST = """
import pytest
from broken_telemetry import {name}

@pytest.fixture
def chatmodels_telemetry():
    capture = {name}()
    yield capture
    capture.shutdown()
"""


@pytest.fixture(scope="module", autouse=True)
def _import_suites_once() -> None:
    """Import the suite modules here, so each in-process run reuses them instead of re-importing."""
    suites = importlib.import_module("chatmodels.conformance.suites")
    importlib.import_module("chatmodels.conformance.report")
    for info in pkgutil.iter_modules(suites.__path__, f"{suites.__name__}."):
        importlib.import_module(info.name)


@pytest.fixture(autouse=True)
def _restore_otel_globals() -> Iterator[None]:
    """Undo the global providers a broken instrumentation installs in this process."""
    yield
    reset_trace_globals()
    reset_metrics_globals()


class TestCatchesTelemetry:
    @pytest.mark.parametrize("case", params(CASES))
    def test_broken_instrumentation_is_caught(self, pytester, run_conformance, case: Case) -> None:
        """An instrumentation, broken one way, fails its requirement and no other."""
        target: str | None = case.target
        if issubclass(getattr(broken_telemetry, case.name), ShimCapture):
            pytester.makeconftest(CONFTEST.format(name=case.name))
            target = None  # the reference, reported through the broken capture
        case.check(run_conformance(target, "--chatmodels-requirements", case.selected))

    @catches("OTEL-001")
    def test_telemetry_provider_without_the_protocol_is_caught(self, run_conformance):
        """Declaring telemetry without instrumented() fails OTEL-001; the rest is inconclusive."""
        run = run_conformance(
            "broken_telemetry:NoInstrumentedMethodProvider",
            "--chatmodels-suite",
            "telemetry",
        )
        run.assert_caught("OTEL-001")
        assert "instrumented(tracer_provider, meter_provider)" in run.messages["OTEL-001"][0]
        others = {r: s for r, s in run.statuses.items() if r != "OTEL-001"}
        assert set(others.values()) == {"inconclusive"}, others

    @catches("OTEL-016")
    def test_global_setter_is_named_once(self, pytester, run_conformance):
        """OTEL-016 names the OTel call and the line that made it, once, not once per attempt."""
        pytester.makeconftest(CONFTEST.format(name="SetsGlobalTracerCapture"))
        run = run_conformance(None, "--chatmodels-requirements", "OTEL-016")
        run.assert_caught("OTEL-016")
        (message,) = run.messages["OTEL-016"]
        assert "set_tracer_provider() from instrument() at broken_telemetry.py:" in message
        assert message.count("tried to set a global provider again") == 1, message
        assert "changed the global tracer provider" in message

    def test_every_requirement_has_a_catching_case(self):
        """Each OTEL requirement has at least one broken instrumentation that fails it."""
        editions = {c[0].args[0] for c in EDITION_CASES}
        assert caught(CASES) | editions == OURS - CAUGHT_HERE

    @pytest.mark.parametrize("setting", [SEMCONV, GENAI], ids=["semconv-1.41.1", "genai-0.1.0"])
    def test_reference_passes_the_whole_suite(self, run_conformance, setting):
        """The reference, instrumented by the library, passes every requirement in each edition."""
        run = run_conformance(None, "--chatmodels-suite", "telemetry", *setting)
        run.assert_all_pass()
        assert set(run.statuses) == OURS, sorted(OURS - set(run.statuses))

    def test_correct_own_instrumentation_passes_the_whole_suite(self, run_conformance):
        """A provider declaring telemetry with a correct instrumented() passes every requirement."""
        run = run_conformance(
            "broken_telemetry:SelfInstrumentedProvider", "--chatmodels-suite", "telemetry"
        )
        run.assert_all_pass()
        assert set(run.statuses) == OURS, sorted(OURS - set(run.statuses))


class TestEditions:
    """Each edition of the conventions judges metrics by its own names (otel_semconv)."""

    @pytest.mark.parametrize(
        ("requirement_id", "broken", "setting", "emitted", "checked"),
        [pytest.param(c[0].args[0], *c[1:], id=c[1], marks=c[0]) for c in EDITION_CASES],
    )
    def test_another_editions_metrics_fail_otel_017_only(
        self, run_conformance, requirement_id, broken, setting, emitted, checked
    ):
        """Metrics of the other edition fail OTEL-017; the metric checks are inconclusive."""
        run = run_conformance(
            f"broken_telemetry:{broken}", "--chatmodels-suite", "telemetry", *setting
        )
        run.assert_caught(requirement_id)
        (message,) = run.messages[requirement_id]
        assert emitted in message, message
        assert f"otel_semconv={checked}" in message, message
        statuses = {r: run.statuses[r] for r in METRIC_CHECKS}
        assert set(statuses.values()) == {"inconclusive"}, (statuses, run.messages)
        assert all("see OTEL-017" in run.messages[r][0] for r in METRIC_CHECKS)

    @pytest.mark.parametrize(
        ("correct", "setting"),
        [("EmitsSemconvProvider", SEMCONV), ("EmitsGenAiProvider", GENAI)],
        ids=["semconv-1.41.1", "genai-0.1.0"],
    )
    def test_an_instrumentation_in_the_checked_edition_passes(
        self, run_conformance, correct, setting
    ):
        """The same instrumentations pass every requirement when the run checks their edition."""
        run = run_conformance(
            f"broken_telemetry:{correct}", "--chatmodels-suite", "telemetry", *setting
        )
        run.assert_all_pass()
        assert set(run.statuses) == OURS, sorted(OURS - set(run.statuses))

    @catches("OTEL-012")
    def test_genai_token_counters_as_histograms_fail_otel_012(self, pytester, run_conformance):
        """genai v0.1.0 counts tokens with counters; histograms under those names fail OTEL-012."""
        pytester.makeconftest(CONFTEST.format(name="TokenCountersAsHistogramsCapture"))
        run = run_conformance(
            None, "--chatmodels-requirements", "OTEL-010,OTEL-011,OTEL-012,OTEL-017", *GENAI
        )
        run.assert_caught("OTEL-012")
        assert "expected a counter" in run.messages["OTEL-012"][0]
