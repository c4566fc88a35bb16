"""Parameter checks: one checker per recurring kind of input, one message template.

A public function checks its input once and hands plain values to a kernel that checks
nothing.  The checks that recur — an array of numbers of a given shape, a
weight vector, a name among names, a positive integer, a number in an interval, a list of
labels — live here, so that every function refuses the same mistake with the same sentence:
:func:`evalkit.errors.param_message` (``The 'x' parameter of f must be …; got … instead.``)
or, for a name, :func:`evalkit.errors.choice_message` (the accepted names and the closest).

Every checker takes the parameter's name, the function's name and the error class to raise
(the calling module's own, e.g. ``RankError``, an :class:`~evalkit.errors.EvalkitError` that
is also a ``ValueError``), and returns the value as the kernel wants it.

* :func:`numeric_array` — a float array of a given dimension (square, a minimum shape),
  free of infinite values, of NaN and of negative values unless allowed;
* :func:`weight_vector` — ``n`` non-negative numbers with a positive sum;
* :func:`one_of` — a name among names (a tuple, a mapping's keys or a
  :class:`~evalkit.registry.Registry`);
* :func:`boolean`, :func:`positive_int`, :func:`int_in`, :func:`positive_number`,
  :func:`number_between` — scalars;
* :func:`sized` — a sequence of ``n`` items (one label per row).
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Sized
from typing import Any

import numpy as np

from evalkit.errors import choice_message, param_message

__all__ = [
    "boolean",
    "int_in",
    "number_between",
    "numeric_array",
    "one_of",
    "positive_int",
    "positive_number",
    "sized",
    "weight_vector",
]

ErrorType = type[Exception]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _at_least(min_shape: tuple[int, ...]) -> str:
    """``at least 2 rows and 1 column`` (an axis of minimum 0 is not named)."""
    if len(min_shape) == 1:
        return f"at least {_count(min_shape[0], 'value')}"
    if len(min_shape) == 2:
        axes = [_count(n, noun) for n, noun in zip(min_shape, ("row", "column"), strict=True) if n > 0]
        return "at least " + " and ".join(axes)
    return f"at least the shape {min_shape}"


def _shown(value: Any) -> str:
    """``value`` as a reader should see it in a message (a list for an array)."""
    try:
        return repr(np.asarray(value).tolist())
    except Exception:  # noqa: BLE001 - any object has a repr
        return repr(value)


def numeric_array(
    x: Any,
    param: str,
    func: str,
    error: ErrorType,
    *,
    ndim: int | None = 2,
    what: str = "array",
    square: bool = False,
    column: bool = False,
    min_shape: tuple[int, ...] = (),
    allow_nan: bool = False,
    allow_inf: bool = False,
    nonnegative: bool = False,
) -> np.ndarray:
    """``x`` as a float64 array, or raise ``error`` with the one template.

    Parameters
    ----------
    x : array_like
        The value to check.
    param, func : str
        The parameter's and the function's names, for the message.
    error : type of Exception
        What to raise (the calling module's error class).
    ndim : int or None, default 2
        The number of dimensions required (None: any).
    what : str, default "array"
        What the array is, for the message (``"(candidates, criteria) matrix"``).
    square : bool, default False
        The last two axes must have the same length.
    column : bool, default False
        A 1-D ``x`` reads as a single column (with ``ndim=2``).
    min_shape : tuple of int, default ()
        The smallest length of each axis (``(2, 2)``: at least two rows and two columns).
    allow_nan, allow_inf, nonnegative : bool
        Whether NaN and infinite values are allowed, and whether negative values are refused.

    Returns
    -------
    ndarray of float64
        ``np.asarray(x, dtype=float)`` (a view of ``x`` when it already is one).

    Notes
    -----
    The checks run in this order, and the first that fails is reported: numbers, number of
    dimensions (and squareness), minimum shape, infinite values, NaN, negative values.
    """
    dims = f"{ndim}-D " if ndim is not None else ""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise error(param_message(param, func, f"a numeric {dims}{what}",
                                  f"a {type(x).__name__} with non-numeric values")) from None
    if column and arr.ndim == 1:
        arr = arr[:, None]
    kind = f"square {what}" if square and ndim == 2 else f"{dims}{what}"
    if (ndim is not None and arr.ndim != ndim) or (square and (arr.ndim < 2 or arr.shape[-1] != arr.shape[-2])):
        raise error(param_message(param, func, f"a {kind}", f"an array of shape {arr.shape}"))
    if min_shape and any(have < need for have, need in zip(arr.shape, min_shape, strict=False)):
        raise error(param_message(param, func, f"a {kind} with {_at_least(min_shape)}", f"shape {arr.shape}"))
    if not allow_inf and np.isinf(arr).any():
        n_inf = int(np.isinf(arr).sum())
        raise error(param_message(param, func, "free of infinite values", f"{n_inf} infinite value(s)"))
    if not allow_nan and np.isnan(arr).any():
        n_nan = int(np.isnan(arr).sum())
        raise error(param_message(param, func, "complete (no missing values)", f"{n_nan} NaN value(s)"))
    if nonnegative and (arr < 0).any():
        n_neg = int((arr < 0).sum())
        raise error(param_message(param, func, "non-negative", f"{n_neg} negative value(s)"))
    return arr


def weight_vector(w: Any, n: int, param: str, func: str, error: ErrorType) -> np.ndarray:
    """``w`` as ``n`` finite non-negative float weights with a positive sum (not normalised).

    Any shape of ``n`` values is read flat (a ``(1, n)`` row is fine).
    """
    must = f"{n} non-negative numbers with a positive sum"
    try:
        arr = np.asarray(w, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise error(param_message(param, func, must, f"a {type(w).__name__} with non-numeric values")) from None
    if arr.shape != (n,) or not np.all(np.isfinite(arr)) or np.any(arr < 0) or not arr.sum() > 0:
        raise error(param_message(param, func, must, _shown(w)))
    return arr


def one_of(value: Any, names: Collection[str], param: str, func: str, error: ErrorType) -> str:
    """``value`` when it is one of ``names`` (a str among them), else ``error`` with
    :func:`~evalkit.errors.choice_message` (the names in their order, the closest one)."""
    if isinstance(value, str) and value in names:
        return value
    raise error(choice_message(param, func, value, names))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def boolean(value: Any, param: str, func: str, error: ErrorType) -> bool:
    """``value`` as a bool when it is one (Python's or numpy's), else ``error``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise error(param_message(param, func, "a bool", repr(value)))


def int_in(value: Any, low: int, high: int, param: str, func: str, error: ErrorType) -> int:
    """``value`` as an int when it is an integer in ``[low, high]`` (never a bool)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and low <= value <= high:
        return int(value)
    raise error(param_message(param, func, f"an integer in [{low}, {high}]", repr(value)))


def positive_int(value: Any, param: str, func: str, error: ErrorType) -> int:
    """``value`` as an int when it is an integer ≥ 1 (never a bool)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value >= 1:
        return int(value)
    raise error(param_message(param, func, "a positive integer", repr(value)))


def positive_number(value: Any, param: str, func: str, error: ErrorType) -> float:
    """``value`` as a float when it is a finite real number > 0 (never a bool)."""
    if _is_number(value) and np.isfinite(value) and value > 0:
        return float(value)
    raise error(param_message(param, func, "a positive number", repr(value)))


def non_negative_number(value: Any, param: str, func: str, error: ErrorType) -> float:
    """``value`` as a float when it is a finite real number >= 0 (never a bool)."""
    if _is_number(value) and np.isfinite(value) and value >= 0:
        return float(value)
    raise error(param_message(param, func, "a number >= 0", repr(value)))


def number_between(value: Any, low: float, high: float, param: str, func: str, error: ErrorType) -> float:
    """``value`` as a float when it is a real number strictly between ``low`` and ``high``."""
    if _is_number(value) and low < value < high:
        return float(value)
    raise error(param_message(param, func, f"a number in ({low:g}, {high:g})", repr(value)))


def sized(value: Sized, n: int, param: str, func: str, error: ErrorType, *, noun: str = "name") -> None:
    """Refuse a sequence whose length is not ``n`` (``labels``: one name per row)."""
    if len(value) != n:
        raise error(param_message(param, func, _count(n, noun), str(len(value))))
