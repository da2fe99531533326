"""Options of the langchain provider: which model class, its constructor keywords, our own knobs."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel as LCChatModel

from chatmodels.errors import InvalidConfigError
from chatmodels.providers._langchain_messages import StreamFinish

__all__ = [
    "OUR_OPTIONS",
    "PROVIDER_NAME",
    "LangChainSettings",
    "ModelMaker",
    "constructor_fields",
    "load_class",
    "parse_settings",
]

PROVIDER_NAME = "langchain"

#: Options the bridge reads itself; every other option is a constructor keyword of the model.
OUR_OPTIONS = ("class", "capabilities", "stream_finish", "deterministic")

#: Options always passed as text, never decoded as JSON literals.
_TEXT_OPTIONS = frozenset({"model", "base_url", "class"})

ModelMaker = Callable[..., LCChatModel]


def _invalid(msg: str) -> InvalidConfigError:
    return InvalidConfigError(msg, op="create_provider", provider=PROVIDER_NAME)


def load_class(path: object) -> ModelMaker:
    """Import ``module:Name`` (or ``module.Name``) and check it makes LangChain chat models."""
    if not isinstance(path, str) or not path.strip():
        msg = (
            "option 'class' must be an import path like 'langchain_openai:ChatOpenAI', "
            f"got {path!r}"
        )
        raise _invalid(msg)
    module_name, sep, name = path.strip().partition(":")
    if not sep:
        module_name, _, name = module_name.rpartition(".")
    if not module_name or not name:
        msg = f"option 'class' must be 'module:ClassName', got {path!r}"
        raise _invalid(msg)
    try:
        target = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        msg = f"option 'class'={path!r} could not be imported: {type(exc).__name__}: {exc}"
        raise _invalid(msg) from exc
    if not (isinstance(target, type) and issubclass(target, LCChatModel)) and not callable(target):
        msg = f"option 'class'={path!r} is {target!r}; expected a LangChain BaseChatModel class"
        raise _invalid(msg)
    result: ModelMaker = target
    return result


def constructor_fields(maker: object) -> frozenset[str] | None:
    """The keywords a model class accepts (field names and aliases), None when unknown."""
    if not (isinstance(maker, type) and issubclass(maker, LCChatModel)):
        return None
    names: set[str] = set()
    for name, info in maker.model_fields.items():
        names.add(name)
        if info.alias:
            names.add(info.alias)
    return frozenset(names)


def _decoded(name: str, value: object) -> object:
    """Decode a text option that reads as a JSON literal (a number, a bool, a list...)."""
    if not isinstance(value, str) or name in _TEXT_OPTIONS:
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return value if isinstance(decoded, str) else decoded


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    msg = f"option {name!r} must be true or false, got {value!r}"
    raise _invalid(msg)


@dataclass(frozen=True)
class LangChainSettings:
    """The parsed options: constructor keywords, and what the bridge itself was told."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    capabilities: str | None = None
    stream_finish: StreamFinish = "strict"
    deterministic: bool = False

    def __repr__(self) -> str:
        return (
            f"LangChainSettings(kwargs={sorted(self.kwargs)!r}, capabilities="
            f"{self.capabilities!r}, stream_finish={self.stream_finish!r}, "
            f"deterministic={self.deterministic!r})"
        )


def parse_settings(
    options: Mapping[str, Any], accepted: frozenset[str] | None, secrets: frozenset[str]
) -> LangChainSettings:
    """Split *options* into ours and the model's, refusing keywords the model class lacks."""
    finish = str(options.get("stream_finish", "strict")).strip().lower()
    if finish not in ("strict", "lenient"):
        given = options["stream_finish"]
        msg = f"option 'stream_finish' must be 'strict' or 'lenient', got {given!r}"
        raise _invalid(msg)
    kwargs = {
        name: value if name in secrets else _decoded(name, value)
        for name, value in options.items()
        if name not in OUR_OPTIONS
    }
    if accepted is not None:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            msg = (
                f"the model class takes no keyword {unknown[0]!r}; expected one of the "
                f"bridge's options {list(OUR_OPTIONS)!r} or the class's fields "
                f"{sorted(accepted)!r}"
            )
            raise _invalid(msg)
    capabilities = options.get("capabilities")
    return LangChainSettings(
        kwargs=kwargs,
        capabilities=None if capabilities is None else str(capabilities),
        stream_finish="lenient" if finish == "lenient" else "strict",
        deterministic=_flag("deterministic", options.get("deterministic", False)),
    )
