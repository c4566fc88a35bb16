"""A cache of what is prepared once from a national run's frames and read by every province.

A national run evaluates 32 provinces on the same tables; what each province would otherwise
recompute from the whole tables (positions of its rows, codes, a national reduction) is
prepared once and kept while its frames live.  An entry is keyed by the frames' identities (and
an optional extra key), held through weak references and checked by identity and length, so it
never serves another dataset or a frame changed in length; entries whose frames are gone are
dropped.  The prepared value is read-only: callers never change what they get.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

__all__ = ["FrameCache"]

T = TypeVar("T")


class FrameCache:
    """Prepared values per (frames, extra key); see the module docstring."""

    def __init__(self) -> None:
        self._entries: dict[Any, tuple[tuple[Any, ...], tuple[int, ...], Any]] = {}

    def get(self, frames: Sequence[Any], build: Callable[[], T], extra: Hashable = None) -> T:
        """The value prepared from ``frames`` (and ``extra``), built with ``build()`` on a miss."""
        key = (tuple(id(x) for x in frames), extra)
        sizes = tuple(len(x) for x in frames)
        hit = self._entries.get(key)
        if hit is not None and all(r() is x for r, x in zip(hit[0], frames, strict=True)) and hit[1] == sizes:
            return hit[2]
        for k in [k for k, v in self._entries.items() if any(r() is None for r in v[0])]:
            del self._entries[k]  # frames gone
        value = build()
        self._entries[key] = (tuple(weakref.ref(x) for x in frames), sizes, value)
        return value
