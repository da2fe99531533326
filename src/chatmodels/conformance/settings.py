"""Suite tunables and budget overrides, parsed once and checked against the catalogue."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from chatmodels.conformance.catalogue.run import RENAMED
from chatmodels.conformance.requirements import Catalogue

__all__ = ["Settings", "SettingsError", "describe_settings"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_BUDGET_PREFIX = "budget."


_Value = float | int | bool | str


class SettingsError(ValueError):
    """A setting key is unknown or its value has the wrong form."""


def _parse(
    key: str, raw: str, default: float | int | bool | str, choices: tuple[str, ...] = ()
) -> float | int | bool | str:
    text = raw.strip()
    if choices and text not in choices:
        msg = f"setting {key!r} must be one of {list(choices)!r}, got {raw!r}"
        raise SettingsError(msg)
    try:
        if isinstance(default, bool):
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = type(default).__name__
        msg = f"setting {key!r} must be a {kind} like {default!r}, got {raw!r}"
        raise SettingsError(msg) from None
    return text


def describe_settings(catalogue: Catalogue) -> list[str]:
    """One aligned line per tunable (key, default, unit, meaning), then the budget overrides."""
    rows = [("SETTING", "DEFAULT", "UNIT", "MEANING")]
    for key, setting in sorted(catalogue.settings.items()):
        meaning = setting.help + (
            f" One of: {', '.join(setting.choices)}." if setting.choices else ""
        )
        rows.append((key, _show(setting.default), setting.unit or "-", meaning))
    for requirement in catalogue:
        if requirement.budget is not None:
            key = f"{_BUDGET_PREFIX}{requirement.id}"
            meaning = f"budget of {requirement.id}: {requirement.title}"
            rows.append((key, _show(requirement.budget), requirement.unit or "-", meaning))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]


def _show(value: _Value) -> builtins.str:
    """A default as typed on the command line; an empty text shows as "" so columns hold."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value) or '""'


class Settings:
    """Read-only typed view of the tunables; unset keys give the catalogue default."""

    def __init__(
        self, catalogue: Catalogue, raw: Mapping[builtins.str, builtins.str] | None = None
    ) -> None:
        self._catalogue = catalogue
        known = catalogue.settings
        values: dict[builtins.str, _Value] = {key: s.default for key, s in known.items()}
        budgets: dict[builtins.str, float] = {}
        for key, text in (raw or {}).items():
            if key.startswith(_BUDGET_PREFIX):
                req_id = key[len(_BUDGET_PREFIX) :]
                if req_id not in catalogue or catalogue.get(req_id).budget is None:
                    with_budget = [r.id for r in catalogue if r.budget is not None]
                    msg = f"{key!r} names no budgeted requirement; budgeted ones: {with_budget!r}"
                    raise SettingsError(msg)
                budgets[req_id] = float(_parse(key, text, 0.0))
            elif key in known:
                values[key] = _parse(key, text, known[key].default, known[key].choices)
            elif key in RENAMED:
                msg = f"setting {key!r} is now {RENAMED[key]!r}; use {RENAMED[key]}={text}"
                raise SettingsError(msg)
            else:
                msg = f"unknown setting {key!r}; known settings: {sorted(known)!r}"
                raise SettingsError(msg)
        self._values = values
        self._budgets = budgets

    def int(self, key: builtins.str) -> builtins.int:
        """The integer tunable *key*."""
        return int(self._value(key))

    def float(self, key: builtins.str) -> builtins.float:
        """The float tunable *key*."""
        return float(self._value(key))

    def bool(self, key: builtins.str) -> builtins.bool:
        """The boolean tunable *key*."""
        return bool(self._value(key))

    def str(self, key: builtins.str) -> builtins.str:
        """The string tunable *key*."""
        return str(self._value(key))

    def budget(self, requirement_id: builtins.str) -> builtins.float | None:
        """The budget for *requirement_id*: the override if set, else the catalogue's."""
        if requirement_id in self._budgets:
            return self._budgets[requirement_id]
        return self._catalogue.get(requirement_id).budget

    def _value(self, key: builtins.str) -> _Value:
        try:
            return self._values[key]
        except KeyError:
            msg = f"unknown setting {key!r}; known settings: {sorted(self._values)!r}"
            raise SettingsError(msg) from None
