"""The context every builder of the generator shares: the parameters, the scale's size, the
review batches and the seeded random streams.

Each builder (``providers``, ``apps``, ``submissions``, ``assessments``, ``panel``, ``ahp``,
``complaints``, ``violations``, ``waivers``) draws from its own stream, :meth:`World.rng`
(``[seed, crc32(stream name)]``), so the builders are independent of each other's draws; within
a stream the draws happen in a fixed order.  What a builder made for the later ones (the
providers, the apps, the candidates, ...) is returned as a small frozen object and passed on
explicitly by :func:`evalkit.synth.generate.generate_tables`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from evalkit.synth.catalogue import SIZES, Size
from evalkit.synth.draws import stream_rng

__all__ = ["Batch", "World", "batches"]


@dataclass(frozen=True)
class Batch:
    """A review batch (round): submissions open and close, the panel meets."""

    label: str
    open_on: np.datetime64
    close_on: np.datetime64
    panel_on: np.datetime64


def batches(as_of: np.datetime64) -> tuple[Batch, Batch]:
    """The latest review batch whose panel (and second Delphi round) is over, and the one before."""
    year = int(str(as_of)[:4])
    found: list[Batch] = []
    for y in range(year, year - 4, -1):
        for half in (2, 1):
            month = 3 if half == 1 else 9
            panel_month = "06" if half == 1 else "12"
            b = Batch(
                f"{y}-{half}",
                np.datetime64(f"{y}-{month:02d}-01"),
                np.datetime64(f"{y}-{month + 1:02d}-30"),
                np.datetime64(f"{y}-{panel_month}-10"),
            )
            if b.panel_on + np.timedelta64(30, "D") <= as_of:
                found.append(b)
            if len(found) == 2:
                return found[0], found[1]
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class World:
    """What every builder reads: the checked parameters, the size, the two review batches.

    Attributes
    ----------
    scale : {"sample", "province", "national"}
    seed : int
    as_of : numpy.datetime64
        The day the data describes (no event after it).
    province : str
        The province of the ``province`` scale.
    size : Size
        The scale's size and mix (:data:`evalkit.synth.catalogue.SIZES`).
    latest, previous : Batch
        The latest review batch that is over, and the one before.
    """

    scale: str
    seed: int
    as_of: np.datetime64
    province: str
    size: Size
    latest: Batch
    previous: Batch

    @classmethod
    def make(cls, scale: str, seed: int, as_of: np.datetime64, province: str,
             n_apps: int | None = None) -> World:
        """The world of checked parameters; ``n_apps`` gives the national mix at another size
        (growth benchmarks: providers = apps / 5, schools in proportion to the apps)."""
        size = SIZES[scale]
        if n_apps is not None:
            size = dataclasses.replace(size, apps=n_apps, providers=n_apps // 5,
                                       schools=max(1, round(size.schools * n_apps / size.apps)))
        latest, previous = batches(as_of)
        return cls(scale, seed, as_of, province, size, latest, previous)

    def rng(self, stream: str) -> np.random.Generator:
        """The random stream ``stream`` (a fresh generator: call once per builder)."""
        return stream_rng(self.seed, stream)

    def ago(self, n_days: int) -> np.datetime64:
        """The day ``n_days`` before ``as_of``."""
        return self.as_of - np.timedelta64(n_days, "D")
