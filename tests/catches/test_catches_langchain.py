"""Through the langchain bridge, each broken LangChain model fails exactly its requirement."""

from __future__ import annotations

# In-process runs drop the modules they imported; import the heavy ones once up front.
import httpcore  # noqa: F401
import pytest

import broken_langchain
import chatmodels.conformance.faults
import chatmodels.providers.langchain  # noqa: F401
from scaffold import Case, declared, params

#: LangChain's own per-call cost makes the default 256-task load slow on a busy 2-core machine;
#: the lighter load the README gives for real providers is plenty to show cross-talk.
LOAD = (
    "--chatmodels-setting",
    "conc_threads=8",
    "--chatmodels-setting",
    "conc_calls_per_thread=4",
    "--chatmodels-setting",
    "conc_async_tasks=32",
    "--chatmodels-setting",
    "conc_timeout=120",
)

#: Every broken LangChain model broken_langchain declares (the FAULT one with HTTP options).
CASES = declared(broken_langchain)


class TestCatchesLangChain:
    @pytest.mark.parametrize("case", params(CASES))
    # The inner run is in-process: ChatOpenAI's leaked sockets (waived, CONC-009/010) may be
    # collected after it ends, inside this test.
    @pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    @pytest.mark.filterwarnings("ignore::ResourceWarning")
    def test_broken_langchain_model_is_caught(self, run_conformance, case: Case) -> None:
        """A LangChain model with one defect fails its requirement and no other."""
        run = run_conformance(
            case.target,
            *case.args,
            *LOAD,
            "--assert=plain",
            "--chatmodels-setting",
            "fault_latency=1.0",
            "--chatmodels-requirements",
            case.with_also,
        )
        case.check(run)

    def test_the_correct_echo_fake_passes_the_same_requirements(self, run_conformance):
        """The echo fake the broken ones derive from passes each of their requirements."""
        run = run_conformance(
            "broken_langchain:Echo",
            *LOAD,
            "--assert=plain",
            "--chatmodels-requirements",
            "CONC-002,STREAM-001,USAGE-001",
        )
        run.assert_all_pass()
        assert {"CONC-002", "STREAM-001", "USAGE-001"} <= {
            r for r, s in run.statuses.items() if s == "passed"
        }
