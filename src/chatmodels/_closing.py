"""One home for the four context-manager methods of everything that closes."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_T = TypeVar("_T", bound="Closing")


class Closing:
    """``with`` and ``async with`` support for a class that defines close() and aclose()."""

    __slots__ = ()

    def close(self) -> None:
        """Release resources; subclasses implement it."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release resources from async code; subclasses implement it."""
        raise NotImplementedError

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self: _T) -> _T:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
