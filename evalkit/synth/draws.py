"""Small random helpers of the generator: seeded streams, picks from pools, numbers as text,
person names, phone numbers, resident ID numbers and e-mail addresses.
"""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evalkit.data import identifiers
from evalkit.synth import names as N
from evalkit.synth.catalogue import CODE_INDEX, CODES

__all__ = [
    "choose",
    "days",
    "emails",
    "group_rows",
    "int_text",
    "num_text",
    "objects",
    "person_names",
    "phones",
    "resident_ids",
    "stream_rng",
]


def stream_rng(seed: int, stream: str) -> np.random.Generator:
    """The random stream named ``stream``: seeded with ``[seed, crc32(stream)]``."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode("ascii"))])


def objects(values: tuple[str, ...] | list[str]) -> np.ndarray:
    """``values`` as a numpy array of Python strings (``dtype=object``)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def choose(rng: np.random.Generator, pool: tuple[str, ...], n: int,
           p: tuple[float, ...] | np.ndarray | None = None) -> np.ndarray:
    """``n`` draws from ``pool`` (weights ``p``, normalised; uniform without)."""
    if p is not None:
        p = np.asarray(p, dtype=float) / np.sum(p)
    return objects(pool)[rng.choice(len(pool), size=n, p=p)]


def int_text(values: np.ndarray, width: int = 0) -> np.ndarray:
    """Integers as (zero-padded) text, vectorised through Arrow."""
    arr = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    if width:
        arr = pc.utf8_lpad(arr, width=width, padding="0")
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def num_text(values: np.ndarray) -> np.ndarray:
    """Floats as shortest round-trip text (``8`` for 8.0), vectorised through Arrow."""
    arr = pa.array(np.asarray(values, dtype=np.float64)).cast(pa.string())
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def days(values: np.ndarray) -> np.ndarray:
    """Numbers of days (rounded) as ``timedelta64[D]``."""
    return np.round(values).astype(np.int64).astype("timedelta64[D]")


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Chinese names: a surname and one or (60%) two given characters."""
    given = choose(rng, N.GIVEN, n)
    two = rng.random(n) < 0.6
    given = np.where(two, given + choose(rng, N.GIVEN, n), given)
    return choose(rng, N.SURNAMES, n) + given


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mobile numbers ``1[3-9]xxxxxxxxx``."""
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    return int_text(10**10 + second * 10**9 + rest)


def resident_ids(rng: np.random.Generator, n: int, province: np.ndarray) -> np.ndarray:
    """18-character resident ID numbers with a valid GB 11643 (ISO 7064 MOD 11-2) check digit."""
    capital = np.array([identifiers.PROVINCES[c].capital_division[:4] for c in CODES], dtype=object)
    county = capital[np.array([CODE_INDEX[c] for c in province], dtype=np.int64)] if n else capital[:0]
    county = county + int_text(rng.integers(1, 13, n), 2)
    adult = rng.random(n) < 0.6
    birth = np.where(
        adult,
        np.datetime64("1972-01-01") + days(rng.integers(0, 365 * 22, n)),
        np.datetime64("2008-01-01") + days(rng.integers(0, 365 * 11, n)),
    )
    digits17 = county + np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "").astype(object)
    digits17 = digits17 + int_text(rng.integers(1, 1000, n), 3)
    if n == 0:
        return digits17
    m = np.frombuffer("".join(digits17).encode("ascii"), dtype=np.uint8).reshape(n, 17) - 48
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = (12 - (m.astype(np.int64) @ weights) % 11) % 11
    return digits17 + objects(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X"])[check]


def emails(rng: np.random.Generator, n: int) -> np.ndarray:
    """E-mail addresses: pinyin, a separator, pinyin, a number, a common domain."""
    local = choose(rng, N.PINYIN, n) + choose(rng, ("", ".", "_"), n) + choose(rng, N.PINYIN, n)
    return local + int_text(rng.integers(1, 9999, n)) + "@" + choose(rng, N.MAIL_DOMAINS, n)


def group_rows(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row order grouping ``keys`` (stable), start offsets and counts per group."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return order, starts, counts

