"""evalkit.checks: each checker returns what the kernel wants, or raises the caller's error
class with the one message template ("The 'x' parameter of f must be …; got … instead.")."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit import checks
from evalkit.errors import EvalkitError
from evalkit.registry import Registry


class CheckError(EvalkitError, ValueError):
    """The caller's error class (a module's own)."""


def _message(call) -> str:
    with pytest.raises(CheckError) as err:
        call()
    return str(err.value)


# --------------------------------------------------------------------------------------------
# numeric_array
# --------------------------------------------------------------------------------------------


def test_numeric_array_returns_a_float_view() -> None:
    x = np.arange(6, dtype=float).reshape(2, 3)
    out = checks.numeric_array(x, "x", "f", CheckError)
    assert out is x  # already float64: no copy
    assert checks.numeric_array([[1, 2], [3, 4]], "x", "f", CheckError).dtype == np.float64
    # a 1-D input read as one column
    assert checks.numeric_array([1, 2, 3], "x", "f", CheckError, column=True).shape == (3, 1)


@pytest.mark.parametrize(
    ("x", "kwargs", "message"),
    [
        ([["a", "b"]], {},
         "The 'x' parameter of f must be a numeric 2-D array; got a list with non-numeric values instead."),
        ([1.0, 2.0], {}, "The 'x' parameter of f must be a 2-D array; got an array of shape (2,) instead."),
        (np.ones((2, 3)), {"square": True, "what": "matrix"},
         "The 'x' parameter of f must be a square matrix; got an array of shape (2, 3) instead."),
        (np.ones((1, 2)), {"min_shape": (2, 1)},
         "The 'x' parameter of f must be a 2-D array with at least 2 rows and 1 column; got shape (1, 2) instead."),
        (np.ones((2, 2, 1)), {"ndim": 3, "min_shape": (1, 1, 2)},
         "The 'x' parameter of f must be a 3-D array with at least the shape (1, 1, 2); "
         "got shape (2, 2, 1) instead."),
        ([[1.0, np.inf], [np.nan, 1.0]], {"allow_nan": True},
         "The 'x' parameter of f must be free of infinite values; got 1 infinite value(s) instead."),
        ([[1.0, np.nan], [np.nan, 1.0]], {},
         "The 'x' parameter of f must be complete (no missing values); got 2 NaN value(s) instead."),
        ([[1.0, -2.0]], {"nonnegative": True},
         "The 'x' parameter of f must be non-negative; got 1 negative value(s) instead."),
    ],
)
def test_numeric_array_refuses_with_the_template(x, kwargs, message: str) -> None:
    assert _message(lambda: checks.numeric_array(x, "x", "f", CheckError, **kwargs)) == message


def test_numeric_array_allows_what_it_is_told() -> None:
    x = [[1.0, np.nan], [np.inf, -1.0]]
    out = checks.numeric_array(x, "x", "f", CheckError, allow_nan=True, allow_inf=True)
    assert np.isnan(out[0, 1]) and np.isinf(out[1, 0])
    assert checks.numeric_array(np.ones((2, 3, 3)), "m", "f", CheckError, ndim=3, square=True).shape == (2, 3, 3)
    assert checks.numeric_array(7.0, "x", "f", CheckError, ndim=None).shape == ()


# --------------------------------------------------------------------------------------------
# weight_vector, one_of and the scalars
# --------------------------------------------------------------------------------------------


def test_weight_vector() -> None:
    np.testing.assert_array_equal(checks.weight_vector([[1, 3]], 2, "w", "f", CheckError), [1.0, 3.0])
    for bad in ([1, 2, 3], [1, -1], [0, 0], [1, np.nan]):
        msg = _message(lambda bad=bad: checks.weight_vector(bad, 2, "w", "f", CheckError))
        assert msg.startswith("The 'w' parameter of f must be 2 non-negative numbers with a positive sum; got [")
    assert "non-numeric" in _message(lambda: checks.weight_vector(["a", "b"], 2, "w", "f", CheckError))


def test_one_of_takes_names_or_a_registry() -> None:
    assert checks.one_of("ratio", ("nominal", "ratio"), "level", "f", CheckError) == "ratio"
    registry: Registry = Registry("method")
    registry.register("topsis", len)
    assert checks.one_of("topsis", registry, "method", "f", CheckError) == "topsis"
    assert _message(lambda: checks.one_of("topsys", registry, "method", "f", CheckError)) == (
        "The 'method' parameter of f must be one of ['topsis']; got 'topsys' instead. "
        "Did you mean 'topsis'? Available: topsis."
    )
    # a non-string never matches (not even an unhashable one)
    assert "got None instead" in _message(lambda: checks.one_of(None, ("a",), "p", "f", CheckError))
    assert "got ['a'] instead" in _message(lambda: checks.one_of(["a"], ("a",), "p", "f", CheckError))


@pytest.mark.parametrize(
    ("call", "good", "bad", "must"),
    [
        (checks.boolean, [True, np.bool_(False)], [1, "yes", None], "a bool"),
        (checks.positive_int, [1, np.int64(7)], [0, -1, 1.0, True, "3"], "a positive integer"),
        (checks.positive_number, [0.5, 3, np.float32(2)], [0, -1.0, np.inf, np.nan, True, "1"],
         "a positive number"),
    ],
)
def test_scalar_checks(call, good: list, bad: list, must: str) -> None:
    for value in good:
        assert call(value, "p", "f", CheckError) == value
    for value in bad:
        assert _message(lambda v=value: call(v, "p", "f", CheckError)) == (
            f"The 'p' parameter of f must be {must}; got {value!r} instead."
        )


def test_interval_checks() -> None:
    assert checks.int_in(np.int32(3), 1, 30, "k", "f", CheckError) == 3
    for value in (0, 31, 2.0, True):
        assert _message(lambda v=value: checks.int_in(v, 1, 30, "k", "f", CheckError)) == (
            f"The 'k' parameter of f must be an integer in [1, 30]; got {value!r} instead."
        )
    assert checks.number_between(0.1, 0, 1, "threshold", "f", CheckError) == 0.1
    for value in (0, 1, 2, False, "0.1"):
        assert _message(lambda v=value: checks.number_between(v, 0, 1, "threshold", "f", CheckError)) == (
            f"The 'threshold' parameter of f must be a number in (0, 1); got {value!r} instead."
        )


def test_sized() -> None:
    checks.sized(["a", "b"], 2, "labels", "f", CheckError)
    assert _message(lambda: checks.sized(["a"], 3, "labels", "f", CheckError)) == (
        "The 'labels' parameter of f must be 3 names; got 1 instead."
    )
    assert _message(lambda: checks.sized([], 1, "labels", "f", CheckError)) == (
        "The 'labels' parameter of f must be 1 name; got 0 instead."
    )
