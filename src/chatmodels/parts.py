"""Content parts: a message's text, images and other media, in the order the user gave them.

Text and images are built in; ``MediaPart`` is the extension point for audio, files and any
other kind. A provider lists the extra kinds it reads in ``BaseChatModel.supported_parts``;
the base class refuses the others with UnsupportedError instead of dropping them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from chatmodels.errors import InvalidInputError

__all__ = [
    "ContentPart",
    "ImagePart",
    "MediaPart",
    "TextPart",
    "coerce_part",
    "data_uri_type",
]

_DATA_URI = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>[A-Za-z0-9+/=\s]+)$")
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_DETAILS = ("auto", "low", "high")
_BUILT_IN_KINDS = ("text", "image")


def _invalid(field_name: str, value: object, expected: str) -> InvalidInputError:
    shown = value if not isinstance(value, str) or len(value) <= 80 else value[:77] + "..."
    msg = f"{field_name} must be {expected}, got {shown!r}"
    return InvalidInputError(msg, op="message")


def data_uri_type(uri: str) -> str | None:
    """The media type of a base64 ``data:`` URI, or None when *uri* is not one."""
    match = _DATA_URI.match(uri)
    return match.group("type") if match else None


@dataclass(frozen=True, slots=True)
class TextPart:
    """A piece of a message's text."""

    text: str
    kind: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise _invalid("TextPart.text", self.text, "a string")


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image, by an http(s) URL or a base64 ``data:image/...`` URI; ``detail`` is a hint."""

    url: str
    detail: str | None = None
    kind: ClassVar[str] = "image"

    def __post_init__(self) -> None:
        if not isinstance(self.url, str) or not (
            self.url.startswith(("https://", "http://"))
            or (data_uri_type(self.url) or "").startswith("image/")
        ):
            expected = "an http(s) URL or a base64 data URI of an image ('data:image/png;base64,')"
            raise _invalid("ImagePart.url", self.url, expected)
        if self.detail is not None and self.detail not in _DETAILS:
            raise _invalid("ImagePart.detail", self.detail, f"None or one of {_DETAILS!r}")

    @property
    def media_type(self) -> str | None:
        """The image's media type when it is given inline, else None."""
        return data_uri_type(self.url)


@dataclass(frozen=True, slots=True)
class MediaPart:
    """Any other medium (``kind`` 'audio', 'file', ...): a URL, a data URI or bare base64."""

    kind: str
    data: str
    media_type: str = ""
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not _KIND.match(self.kind):
            raise _invalid("MediaPart.kind", self.kind, "a lowercase name such as 'audio'")
        if self.kind in _BUILT_IN_KINDS:
            raise _invalid("MediaPart.kind", self.kind, "not 'text' or 'image' (use their parts)")
        if not isinstance(self.data, str) or not self.data:
            raise _invalid("MediaPart.data", self.data, "a non-empty string")
        if not isinstance(self.media_type, str):
            raise _invalid("MediaPart.media_type", self.media_type, "a string like 'audio/wav'")
        if self.name is not None and not isinstance(self.name, str):
            raise _invalid("MediaPart.name", self.name, "None or a file name")


ContentPart = TextPart | ImagePart | MediaPart

_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def _from_mapping(value: Mapping[str, Any]) -> ContentPart:
    """Read an OpenAI chat-completions part: text, image_url, input_audio or file."""
    kind = value.get("type")
    body = value.get(kind) if isinstance(kind, str) else None
    if kind == "text" and isinstance(value.get("text"), str):
        return TextPart(value["text"])
    if kind == "image_url" and isinstance(body, str):
        return ImagePart(body)
    if kind == "image_url" and isinstance(body, Mapping):
        return ImagePart(body.get("url"), body.get("detail"))  # type: ignore[arg-type]
    if kind == "input_audio" and isinstance(body, Mapping):
        audio_format = str(body.get("format", ""))
        media_type = _AUDIO_TYPES.get(audio_format, f"audio/{audio_format}")
        return MediaPart("audio", body.get("data"), media_type)  # type: ignore[arg-type]
    if kind == "file" and isinstance(body, Mapping):
        data = body.get("file_data") or body.get("file_id")
        media_type = data_uri_type(str(data)) or ""
        return MediaPart("file", data, media_type, body.get("filename"))  # type: ignore[arg-type]
    expected = "a content part: str, TextPart, ImagePart, MediaPart, or a mapping of type "
    expected += "'text', 'image_url', 'input_audio' or 'file'"
    raise _invalid("content part", dict(value), expected)


def coerce_part(value: object) -> ContentPart:
    """Normalise one part: a part object, a string (text) or an OpenAI-style mapping."""
    if isinstance(value, (TextPart, ImagePart, MediaPart)):
        return value
    if isinstance(value, str):
        return TextPart(value)
    if isinstance(value, Mapping):
        return _from_mapping(value)
    raise _invalid("content part", value, "a str, TextPart, ImagePart, MediaPart or mapping")
