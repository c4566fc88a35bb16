"""The one registry type: the named implementations of one kind.

Scoring rules, registry checks, panel reducers, ranking methods and weight methods are each a
:class:`Registry`: a read-only mapping from a name to an entry, filled with
:meth:`Registry.register` (also a decorator) where the implementations live, and read with
:meth:`Registry.lookup`, which refuses an unknown name with the one error template
(:func:`evalkit.errors.choice_message`: the accepted names and the closest one).  The rubric
and profile models check names against the registry itself, never against a copy of its
names, so a newly registered entry is accepted everywhere at once.

An entry is whatever the kind needs: a function (a ranking kernel), or a small object carrying
a function and what belongs to it (a reducer and its fast path over rater counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar, overload

from evalkit.errors import EvalkitError, choice_message

__all__ = ["Registry", "RegistryError"]

T = TypeVar("T")


class RegistryError(EvalkitError, LookupError):
    """An unknown name, or a name registered twice."""


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind, in registration order.

    Parameters
    ----------
    kind : str
        What an entry is, for messages (``"ranking method"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...
    @overload
    def register(self, name: str, entry: T) -> T: ...

    def register(self, name: str, entry: Any = None) -> Any:
        """Add ``entry`` under ``name`` (or, without ``entry``, return a decorator that does)."""
        if entry is None:
            return lambda obj: self.register(name, obj)
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def lookup(self, name: object, *, param: str = "name", func: str | None = None) -> T:
        """The entry named ``name``; an unknown name raises :class:`RegistryError` naming the
        parameter and function it came from and the accepted names."""
        try:
            return self._entries[name]  # type: ignore[index]
        except (KeyError, TypeError):
            raise RegistryError(choice_message(param, func or f"the {self.kind} registry", name,
                                               self._entries)) from None

    def __getitem__(self, name: str) -> T:
        return self.lookup(name)

    def get(self, name: object, default: Any = None) -> Any:  # type: ignore[override]
        return self._entries.get(name, default)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"
