"""Per-key build locks for the container that turn a cycle across threads into an error.

One thread finds its own cycles from the keys it is building. Two threads that build the
two ends of a cycle at once would instead each hold one lock and wait for the other's, for
ever; a wait-for graph finds that before either blocks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(eq=False, slots=True)
class _Wait:
    """What one build chain is waiting for, and the keys it was building when it asked."""

    wanted: object
    building: tuple[object, ...]


class BuildLocks:
    """Hand out one lock per key; refuse, with the cycle spelled out, a wait that would deadlock.

    A *chain* is one resolution: the outermost ``get`` and every nested ``get`` made by the
    factories it runs. Its identity is any object the caller keeps for the chain's lifetime.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._owners: dict[object, object] = {}
        self._waits: dict[object, _Wait] = {}

    def lock_for(self, key: object) -> threading.Lock:
        """The lock guarding the build of *key*."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def start_waiting(
        self, key: object, chain: object, building: tuple[object, ...]
    ) -> tuple[object, ...] | None:
        """Record that *chain* waits for *key*; return the cycle instead if that would deadlock."""
        with self._guard:
            cycle = self._cycle(key, chain, building)
            if cycle is None:
                self._waits[chain] = _Wait(key, building)
            return cycle

    def stopped_waiting(self, chain: object) -> None:
        """*chain* has the lock it waited for, or gave up on it."""
        with self._guard:
            self._waits.pop(chain, None)

    @contextmanager
    def owned(self, key: object, chain: object, lock: threading.Lock) -> Iterator[None]:
        """Mark *chain* as the holder of *key*'s acquired *lock*; release both on exit."""
        with self._guard:
            self._owners[key] = chain
        try:
            yield
        finally:
            with self._guard:
                self._owners.pop(key, None)
            lock.release()

    def _cycle(
        self, key: object, chain: object, building: tuple[object, ...]
    ) -> tuple[object, ...] | None:
        """Follow owner-waits-for links from *key*; the keys of the cycle if they lead back."""
        path = [_Wait(key, building)]
        seen = {chain}
        wanted = key
        while True:
            owner = self._owners.get(wanted)
            if owner is None:
                return None
            if owner is chain:
                break
            if owner in seen:  # a cycle among other chains: theirs to report
                return None
            seen.add(owner)
            step = self._waits.get(owner)
            if step is None:
                return None
            path.append(step)
            wanted = step.wanted
        keys: list[object] = []
        before = wanted  # the key this chain holds that the last chain waits for
        for step in path:
            start = step.building.index(before) if before in step.building else 0
            keys.extend(step.building[start:])
            before = step.wanted
        keys.append(wanted)
        return tuple(keys)
