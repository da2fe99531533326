"""The fault hook: models whose every call fails as the upstream API would, one per error code.

A provider offers the hook by listing the option ``fault_code`` in ``optional_options``; set
to an upstream code (``chatmodels.errors.UPSTREAM_CODES``), every call of its models fails the
way the remote API fails with that code, through the provider's own error mapping. ERR-001,
ERR-002 and CONC-003 use it to see every code; a provider without it is unsupported there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chatmodels.conformance.outcomes import INCONCLUSIVE, UNSUPPORTED
from chatmodels.conformance.subject import Subject
from chatmodels.conformance.suites._bounded import call_within
from chatmodels.errors import UPSTREAM_CODES, ChatModelError, ErrorCode
from chatmodels.provider import ChatModel, ProviderMetadata

__all__ = ["HOOK_OPTION", "HookedModels", "hooked_models", "offers_fault_hook"]

#: The provider option that turns the hook on.
HOOK_OPTION = "fault_code"
#: Options that keep a hooked call quick (no retries), set when the provider declares them.
_QUICK_OPTIONS = {"max_retries": "0"}


def offers_fault_hook(metadata: ProviderMetadata) -> bool:
    """Tell whether the provider lists the ``fault_code`` option."""
    return HOOK_OPTION in (*metadata.optional_options, *metadata.required_options)


@dataclass(slots=True)
class HookedModels:
    """A model per upstream code the hook took, and the codes it refused, with the reason."""

    models: dict[ErrorCode, ChatModel] = field(default_factory=dict)
    refused: dict[ErrorCode, str] = field(default_factory=dict)

    def refusal_note(self) -> str:
        """The codes left unchecked because the hook refused them, for an inconclusive verdict."""
        shown = "; ".join(f"{c.value!r}: {why}" for c, why in self.refused.items())
        return (
            f"the fault hook refused {len(self.refused)} upstream code(s), left unchecked: {shown}"
        )

    def skip_if_incomplete(self) -> None:
        """A clean verdict over fewer codes than asked is not a pass: it is inconclusive."""
        if self.refused:
            pytest.skip(INCONCLUSIVE + self.refusal_note())

    def close(self, bound: float) -> None:
        """Close every model, each bounded."""
        for model in self.models.values():
            call_within(model.close, "close()", bound)


def hooked_models(subject: Subject, requirement: str) -> HookedModels:
    """One model per upstream code, or an ``[unsupported]`` skip when there is no hook."""
    metadata = subject.metadata
    if not offers_fault_hook(metadata):
        pytest.skip(
            f"{UNSUPPORTED}provider {metadata.name!r} offers no fault hook (option "
            f"{HOOK_OPTION!r}), which {requirement} needs to see upstream errors; see "
            "README 'The fault hook'"
        )
    declared = {*metadata.optional_options, *metadata.required_options}
    quick = {k: v for k, v in _QUICK_OPTIONS.items() if k in declared}
    hooked = HookedModels()
    for code in UPSTREAM_CODES:
        try:
            provider = subject.make_provider({**quick, HOOK_OPTION: code.value})
            hooked.models[code] = provider.create_chat_model(subject.model_name)
        except ChatModelError as exc:
            hooked.refused[code] = str(exc)
        except LookupError as exc:
            pytest.skip(f"{UNSUPPORTED}the provider cannot be re-created with options: {exc}")
    return hooked
