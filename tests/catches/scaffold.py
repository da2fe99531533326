"""One way to declare a deliberately broken provider and the requirement it must fail.

A ``broken_<area>.py`` module declares each case where the provider is defined::

    EmptyAnswerProvider = broken(EmptyAnswer, catches="CORE-001")

and its ``test_catches_<area>.py`` runs :func:`cases` of that module through one parametrized
test, which decides how the area's suites are run and ends with :meth:`Case.check`.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import pytest

from chatmodels.providers.reference import REFERENCE_METADATA, ReferenceChatModel, ReferenceProvider

T = TypeVar("T")

#: The attribute, in a declared object's own ``__dict__``, that holds its declarations.
_DECLARED = "__catches__"


@dataclass(frozen=True)
class Case:
    """One broken provider (or capture, or server defect) and what its run must fail."""

    requirement: str
    target: str
    also: frozenset[str] = frozenset()
    because: str = ""
    only: str | None = None
    args: tuple[str, ...] = ()
    declared_in: str = ""

    @property
    def name(self) -> str:
        """The provider's name in its module (or the defect's name in its plan)."""
        return self.target.rpartition(":")[2]

    @property
    def selected(self) -> str:
        """The requirements a run of this case selects: *only*, else the requirement's area."""
        return self.only or self.requirement.split("-")[0]

    @property
    def with_also(self) -> str:
        """The requirement and its documented others, comma-joined: a run of exactly them."""
        return ",".join(sorted({self.requirement, *self.also}))

    def check(self, run: Any) -> None:
        """The one assertion: *requirement* failed, and nothing else but the documented *also*."""
        __tracebackhide__ = True
        run.assert_caught(self.requirement, also=self.also)


def reference_provider(
    model_class: type[ReferenceChatModel], *, latency: float | None = None, **metadata: Any
) -> type[ReferenceProvider]:
    """A ReferenceProvider making *model_class*, with *latency* (if given) and metadata replaced."""
    declared = dataclasses.replace(REFERENCE_METADATA, **metadata)

    class Provider(ReferenceProvider):
        metadata = declared
        chat_model_class: ClassVar[type[ReferenceChatModel]] = model_class

        def __init__(self, options: Mapping[str, Any] | None = None) -> None:
            pinned = {} if latency is None else {"latency": latency}
            super().__init__({**pinned, **(options or {})})

    Provider.__name__ = Provider.__qualname__ = model_class.__name__ + "Provider"
    return Provider


def broken(
    target: Any,
    *,
    catches: str,
    also: Iterable[str] = (),
    because: str = "",
    only: str | None = None,
    args: tuple[str, ...] = (),
    latency: float | None = None,
    **metadata: Any,
) -> Any:
    """Declare that *target* must fail *catches*; a reference model class is wrapped first.

    *also* lists the other requirements it fails too, and *because* says why (required with
    *also*); *only* and *args* narrow or extend the area's run for this case.
    """
    case = _case(catches, also, because, only, args, sys._getframe(1).f_globals["__name__"])
    if isinstance(target, type) and issubclass(target, ReferenceChatModel):
        target = reference_provider(target, latency=latency, **metadata)
    elif latency is not None or metadata:
        msg = "latency= and metadata changes only apply to a reference model class"
        raise TypeError(msg)
    return _declare(target, case)


def catching(
    catches: str,
    *,
    also: Iterable[str] = (),
    because: str = "",
    only: str | None = None,
    args: tuple[str, ...] = (),
) -> Any:
    """The same declaration as a class decorator, for a provider (or capture) class."""
    module = sys._getframe(1).f_globals["__name__"]
    return lambda target: _declare(target, _case(catches, also, because, only, args, module))


def _case(
    catches: str,
    also: Iterable[str],
    because: str,
    only: str | None,
    args: tuple[str, ...],
    module: str,
) -> Case:
    if also and not because:
        msg = f"{catches}: say why it also fails {sorted(also)} (because=...)"
        raise ValueError(msg)
    return Case(catches, "", frozenset(also), because, only, args, module)


def _declare(target: T, case: Case) -> T:
    setattr(target, _DECLARED, (*vars(target).get(_DECLARED, ()), case))
    return target


def declared(module: ModuleType) -> list[Case]:
    """Every case *module* declares, in definition order, each naming ``module:attribute``."""
    found: list[Case] = []
    for attribute, value in vars(module).items():
        for case in getattr(value, "__dict__", {}).get(_DECLARED, ()):
            if case.declared_in == module.__name__:
                found.append(dataclasses.replace(case, target=f"{module.__name__}:{attribute}"))
    return found


def from_plan(plan: Mapping[str, str]) -> list[Case]:
    """The cases of a fault-server defect plan: each defect name with the requirement it breaks."""
    return [Case(requirement, defect) for defect, requirement in plan.items()]


def params(cases: Iterable[Case], prefix: str = "") -> list[Any]:
    """One ``pytest.param`` per case, marked ``catches(ID)`` (the catalogue test collects it)."""
    return [
        pytest.param(
            case,
            id=f"{prefix}{case.requirement}-{case.name}",
            marks=pytest.mark.catches(case.requirement),
        )
        for case in cases
    ]


def caught(cases: Iterable[Case]) -> set[str]:
    """The requirement IDs *cases* catch."""
    return {case.requirement for case in cases}


def check_covers(cases: Iterable[Case], expected: Iterable[str], where: str) -> None:
    """Fail, naming *where* to declare them, unless *cases* catch exactly *expected*."""
    have, want = caught(cases), set(expected)
    problems = [
        f"{i} has no catching broken provider: declare one with catches={i!r} in {where}"
        for i in sorted(want - have)
    ] + [f"{i} is declared in {where} but is not this area's: move it" for i in sorted(have - want)]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
