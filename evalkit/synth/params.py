"""The parameters of a generation, checked once where they enter (the one error template).

``scale`` (:data:`SCALES`), ``seed`` (a non-negative integer), ``as_of`` (a date between 2021
and 2099, read by :func:`evalkit.dates.parse_date`), ``province`` (a provincial code), ``fmt``
(:data:`FORMATS`) and, at the national scale only, ``n_apps`` (at least :data:`MIN_APPS`).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from evalkit.data import identifiers
from evalkit.dates import parse_date
from evalkit.errors import EvalkitError, choice_message, param_message

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_PROVINCE",
    "FORMATS",
    "MIN_APPS",
    "SCALES",
    "GenerateError",
    "check_format",
    "check_n_apps",
    "check_params",
]

SCALES: tuple[str, ...] = ("sample", "province", "national")
FORMATS: tuple[str, ...] = ("csv", "parquet")
DEFAULT_AS_OF = _dt.date(2026, 9, 1)
DEFAULT_PROVINCE = "44"
#: Smallest ``n_apps`` (the planted cases and every province's panel need a few hundred apps).
MIN_APPS = 1000


class GenerateError(EvalkitError, ValueError):
    """A parameter of the generator is invalid."""


def check_params(scale: object, seed: object, as_of: object, province: object, fmt: object = "csv",
                 func: str = "generate") -> tuple[str, int, np.datetime64, str, str]:
    """``(scale, seed, as_of as a day, province, fmt)``, checked; ``as_of=None`` is the default.

    Raises
    ------
    GenerateError
        Naming the first parameter that is invalid (``as_of``: :class:`~evalkit.dates.DateError`
        when it is not a date).
    """
    if scale not in SCALES:
        raise GenerateError(choice_message("scale", func, scale, SCALES))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise GenerateError(param_message("seed", func, "a non-negative integer", repr(seed)))
    if as_of is None:
        as_of = DEFAULT_AS_OF
    day = np.datetime64(parse_date(as_of, func=func).date(), "D")
    if not np.datetime64("2021-01-01") <= day <= np.datetime64("2099-12-31"):
        raise GenerateError(param_message("as_of", func, "between 2021-01-01 and 2099-12-31", repr(as_of)))
    if province not in identifiers.PROVINCE_CODES:
        raise GenerateError(param_message(
            "province", func, f"a provincial code ({', '.join(identifiers.PROVINCE_CODES)})", repr(province)))
    check_format(fmt, func)
    return str(scale), int(seed), day, str(province), str(fmt)


def check_format(fmt: object, func: str) -> None:
    """Raise :class:`GenerateError` unless ``fmt`` is one of :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise GenerateError(choice_message("fmt", func, fmt, FORMATS))


def check_n_apps(n_apps: object, scale: str, func: str = "generate") -> int | None:
    """``n_apps`` checked: ``None``, or an integer of at least :data:`MIN_APPS` at the national
    scale (the only one it applies to)."""
    if n_apps is None:
        return None
    if scale != "national":
        raise GenerateError(param_message("n_apps", func, "given at the national scale only",
                                          f"n_apps={n_apps!r} with scale={scale!r}"))
    if isinstance(n_apps, bool) or not isinstance(n_apps, (int, np.integer)) or n_apps < MIN_APPS:
        raise GenerateError(param_message("n_apps", func, f"an integer >= {MIN_APPS}", repr(n_apps)))
    return int(n_apps)
