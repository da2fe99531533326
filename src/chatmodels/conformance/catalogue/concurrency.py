"""Requirements and tunables of the concurrency suite: one shared model under threads and tasks.

Every test is bounded by ``conc_timeout`` and draws any randomness from ``conc_seed``, which
failure messages quote so a failing run can be repeated exactly. The default load (64 threads x
8 calls, 256 tasks, 100 cancelled streams) suits in-process and local providers. For a real HTTP
provider, recommended settings are ``conc_threads=16``, ``conc_calls_per_thread=4``,
``conc_async_tasks=64``, ``conc_cancel_streams=20`` and ``conc_timeout=120``, e.g.
``--chatmodels-setting conc_threads=16 --chatmodels-setting conc_async_tasks=64``.
"""

from __future__ import annotations

from chatmodels.conformance.catalogue._types import Level, Requirement, Setting
from chatmodels.provider import Capability

MUST, SHOULD = Level.MUST, Level.SHOULD

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "CONC-001",
        MUST,
        "Concurrent calls on one shared model each return a valid result",
        "Applications share one model between request threads and tasks; a call that fails "
        "or returns a malformed result only under load breaks in production first.",
    ),
    Requirement(
        "CONC-002",
        MUST,
        "Under concurrency every caller gets the answer to its own request",
        "A provider that shares a response buffer, cache slot or counter between callers "
        "hands one user's answer or token bill to another.",
    ),
    Requirement(
        "CONC-003",
        MUST,
        "Under concurrency a failing call raises only ChatModelError, upstream failures included",
        "Callers handle ChatModelError; a bare RuntimeError or KeyError escaping from a race, "
        "or from an upstream error met by many callers at once, bypasses their retry and "
        "fallback logic.",
    ),
    Requirement(
        "CONC-004",
        MUST,
        "Async calls never block the event loop",
        "A synchronous sleep or socket read inside async code stalls every other task on the "
        "loop, so one slow call freezes a whole server.",
        Capability.ASYNC,
    ),
    Requirement(
        "CONC-005",
        MUST,
        "Cancelling some in-flight streams ends them promptly and leaves the others intact",
        "Servers cancel streams when clients disconnect; a provider that ignores cancellation "
        "keeps paying for abandoned work, and one that hangs on it leaks tasks. A cancelled "
        "stream must end with asyncio.CancelledError: a provider that turns it into an error "
        "breaks asyncio.timeout and task groups.",
        Capability.CANCELLATION,
    ),
    Requirement(
        "CONC-006",
        MUST,
        "Closing a model under load lets in-flight calls finish or fail with code closed",
        "Shutdown happens while requests are running; a close that strands in-flight calls "
        "hangs the shutdown of the whole application.",
    ),
    Requirement(
        "CONC-007",
        MUST,
        "Calls started after close raise ChatModelError with code closed",
        "A closed model whose calls still go out uses released connections and hides "
        "shutdown bugs; callers rely on the closed error to stop.",
    ),
    Requirement(
        "CONC-008",
        MUST,
        "The thread count returns to its baseline after a load",
        "A provider that leaves a thread behind per call exhausts the process after enough "
        "requests.",
    ),
    Requirement(
        "CONC-009",
        MUST,
        "Open file descriptors return to their baseline after a load",
        "Sockets or files leaked per call run into the descriptor limit and then every "
        "connection in the process fails.",
    ),
    Requirement(
        "CONC-010",
        SHOULD,
        "Load and close leave no unclosed socket or file behind (no ResourceWarning)",
        "An unclosed socket is a connection the server keeps open until it times out; "
        "Python reports it only as a warning that is easy to miss.",
    ),
    Requirement(
        "CONC-011",
        MUST,
        "Load and close leave no coroutine unawaited",
        "An unawaited coroutine is work silently never done: a request not sent, a "
        "connection not released, a metric not recorded.",
    ),
    Requirement(
        "CONC-012",
        MUST,
        "Concurrent register, create, list and unregister keep a consistent registry",
        "Plugins register providers while requests create them; a provider factory that "
        "is not safe to call from many threads loses providers or fails at random.",
    ),
    Requirement(
        "CONC-013",
        MUST,
        "Concurrent creation gives one singleton and a distinct model per other request",
        "Containers build a shared model once while workers create their own; a provider "
        "whose model creation races hands one model to two owners.",
    ),
    Requirement(
        "CONC-014",
        MUST,
        "After streams are cancelled or closed early, and conc_cancel_grace seconds, no task "
        "of the provider is left on the loop and the thread count is back at its baseline",
        "A producer task or thread that keeps reading an abandoned answer pays for tokens "
        "nobody reads and holds its connection; under steady cancellations they pile up until "
        "the process runs out of connections, threads or memory.",
        Capability.CANCELLATION,
    ),
)

SETTINGS: tuple[Setting, ...] = (
    Setting("conc_threads", 64, "Threads calling the shared model at once.", unit="threads"),
    Setting(
        "conc_calls_per_thread",
        8,
        "Calls each thread makes, invoke and stream mixed.",
        unit="calls",
    ),
    Setting(
        "conc_async_tasks", 256, "Concurrent ainvoke/astream tasks on one event loop.", unit="tasks"
    ),
    Setting(
        "conc_cancel_streams",
        100,
        "In-flight astream consumers; half are cancelled.",
        unit="streams",
    ),
    Setting(
        "conc_timeout",
        30.0,
        "Seconds any concurrency test may run before it fails as hung.",
        unit="s",
    ),
    Setting(
        "conc_cancel_grace",
        2.0,
        "Seconds CONC-014 waits for a provider's work on abandoned streams to stop; ample on a "
        "busy machine, far shorter than a whole answer of a provider that keeps producing.",
        unit="s",
    ),
    Setting("conc_seed", 0, "Seed of every random choice, quoted in failures for re-runs."),
    Setting(
        "conc_solo_workers",
        8,
        "Callers computing the reference answers apart from the load.",
        unit="callers",
    ),
)
