"""Argument checks shared by `course.data` and `course.plot` (Keras-style error messages)."""

import numbers

import numpy as np


def integer(name, value, minimum=1):
    """Returns `value` as an `int`, or raises `ValueError` if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"Expected `{name}` to be an integer >= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def non_negative_number(name, value):
    """Returns `value` as a `float`, or raises `ValueError` if it is not a number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"Expected `{name}` to be a number >= 0. Received: {name}={value!r}")
    return float(value)


def number_range(name, value, low=None, high=None):
    """Returns `value` as a `(lo, hi)` pair of floats with `low <= lo <= hi <= high`."""
    ok = isinstance(value, tuple | list) and len(value) == 2
    ok = ok and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)
    if ok:
        lo, hi = float(value[0]), float(value[1])
        ok = lo <= hi and (low is None or lo >= low) and (high is None or hi <= high)
    if not ok:
        bounds = (
            f"{'-inf' if low is None else low} <= lo <= hi <= {'inf' if high is None else high}"
        )
        raise ValueError(
            f"Expected `{name}` to be a pair (lo, hi) of numbers with {bounds}. "
            f"Received: {name}={value!r}"
        )
    return lo, hi


def int_pair(name, value):
    """Returns `value` as a pair of ints, or raises `ValueError`."""
    ok = isinstance(value, tuple | list) and len(value) == 2
    ok = ok and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    if not ok:
        raise ValueError(
            f"Expected `{name}` to be a pair of integers (dy, dx). Received: {name}={value!r}"
        )
    return int(value[0]), int(value[1])


def as_array(name, value):
    """Converts `value` (NumPy array, list, Keras variable or tensor) to a NumPy array."""
    try:
        return np.asarray(value)
    except Exception as e:  # e.g. a ragged list
        raise ValueError(
            f"Expected `{name}` to be an array. Received: {name} of type {type(value).__name__}"
        ) from e
