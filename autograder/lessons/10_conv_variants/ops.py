"""Operations added with lesson 10."""

from decimal import Decimal
from numbers import Integral, Rational


def call_as_number(fn, *args):
    """`fn(*args)`, an exact fraction or decimal (a `fractions.Fraction`, any `numbers.Rational`
    but an integer, a `decimal.Decimal`) turned into a float: a number, but no plain data, it
    would cross the grading sandbox as an object the check cannot read."""
    value = fn(*args)
    if isinstance(value, Decimal) or (
        isinstance(value, Rational) and not isinstance(value, Integral)
    ):
        return float(value)
    return value


OPERATIONS = (call_as_number,)

__all__ = [operation.__name__ for operation in OPERATIONS]
