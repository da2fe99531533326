"""Run profiles: named sets of suite settings (and provider options) sized for a kind of subject.

``--chatmodels-profile real-model`` sizes every suite for one slow model behind a server that
answers one request at a time on a CPU (~70 tokens/s): short answers, few and low loads, long
per-call limits. The user's own settings and options still win over a profile's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chatmodels.provider import ProviderMetadata

__all__ = ["PROFILES", "Profile", "profile_named"]


@dataclass(frozen=True, slots=True)
class Profile:
    """Settings applied under the user's, and provider options applied where declared."""

    name: str
    description: str
    settings: Mapping[str, str] = field(default_factory=dict)
    provider_options: Mapping[str, str] = field(default_factory=dict)

    def options_for(self, metadata: ProviderMetadata) -> dict[str, str]:
        """The profile's provider options that *metadata* declares."""
        declared = {*metadata.required_options, *metadata.optional_options}
        return {k: v for k, v in self.provider_options.items() if k in declared}


_REAL_MODEL = Profile(
    "real-model",
    "one real model served one request at a time on a CPU: short answers, low loads, long limits",
    settings={
        "call_timeout": "120",
        "run_budget": "3600",
        "preflight_timeout": "120",
        "stream_close_timeout": "10",
        "msg_long_input_words": "300",
        "timeout_slack": "2.0",
        "conc_threads": "2",
        "conc_calls_per_thread": "2",
        "conc_async_tasks": "4",
        "conc_cancel_streams": "4",
        "conc_timeout": "300",
        "conc_solo_workers": "1",
        "otel_threads": "2",
        "otel_calls": "1",
        "perf_samples": "30",
        "perf_max_samples": "30",
        "perf_latency_seconds": "0.3",
        "perf_throughput_seconds": "0.25",
        "wire_call_timeout": "120",
        "wire_max_tokens": "48",
    },
    provider_options={
        "default.max_tokens": "40",  # a whole get_weather call: 24 cut its arguments
        "default.temperature": "0",
        "timeout": "120",
    },
)

PROFILES: dict[str, Profile] = {
    "default": Profile("default", "the suites as shipped, for in-process and fast providers"),
    _REAL_MODEL.name: _REAL_MODEL,
}


def profile_named(name: str | None) -> Profile:
    """Look a profile up; an unknown name is a ValueError listing the known ones."""
    try:
        return PROFILES[name or "default"]
    except KeyError:
        msg = f"unknown profile {name!r}; expected one of {sorted(PROFILES)!r}"
        raise ValueError(msg) from None
