"""Lesson 10's checks of what a convolution costs: parameters and multiplications of standard,
depthwise-separable and spatially separable convolutions, exact counts against the cases of
`cost_cases.py`.
"""

from fractions import Fraction

import numpy as np

from ...compare import compare
from ...judge import returns, whole_number
from ...student import run
from . import cost_cases as cases
from .forbidden import FORBIDDEN


def _count(what, table, formula):
    return returns(
        what,
        table,
        FORBIDDEN,
        f"{what} gives the right count on {{count}} cases",
        agrees=lambda got, expected: whole_number(got) == expected,
        explain=(f"formula: {formula}",),
    )


check_conv_parameters = _count(
    "conv_parameters", cases.conv_parameters, "kh * kw * in_channels * filters (+ filters)"
)
check_separable_parameters = _count(
    "separable_parameters",
    cases.separable_parameters,
    "kh * kw * C * M (depthwise) + C * M * filters (pointwise) (+ filters), M the multiplier",
)
check_conv_multiplications = _count(
    "conv_multiplications",
    cases.conv_multiplications,
    "oh * ow positions, each output channel a sum of kh * kw * in_channels products",
)
check_separable_multiplications = _count(
    "separable_multiplications",
    cases.separable_multiplications,
    "oh * ow * (kh * kw * C * M + C * M * filters), M the multiplier",
)
check_spatial_multiplications = _count(
    "spatial_multiplications",
    cases.spatial_multiplications,
    "oh * ow * kh * kw; separable: oh * ow * (kh + kw), a column pass then a row pass",
)


def _same_ratio(got, expected: Fraction) -> bool:
    value = float(np.asarray(got, float).reshape(()))
    return compare(value, float(expected), cases.RATIO_TOL) is None


def _ratio(cost_ratio, case):
    """The student's ratio on `case` (a Fraction or a Decimal crosses as a float)."""
    return run("cost_ratio", cost_ratio, *case.args, forbidden=FORBIDDEN, case=case.text)


def _ratio_lines(case) -> list[str]:
    return [
        f"{case.expected.numerator} / {case.expected.denominator} = {float(case.expected):.10g}",
        "ratio = separable multiplications / standard multiplications = M / filters + "
        "M / (kh * kw): the positions cancel",
    ]


check_cost_ratio = returns(
    "cost_ratio",
    cases.cost_ratio,
    FORBIDDEN,
    "cost_ratio gives 1/N + 1/K^2 (times the multiplier) on {count} cases",
    headline="{call} returned {got!r}; expected {expected.numerator} / {expected.denominator}.",
    agrees=_same_ratio,
    call=_ratio,
    explain=_ratio_lines,
)
