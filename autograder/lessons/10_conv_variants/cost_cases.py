"""Lesson 10's cost cases: the counts of parameters and multiplications worked by hand from
the lecture notes' formulas (the tests confirm them against Keras's parameter counts); when
grading, every case is redrawn in the same form and its answer taken from the formula.
"""

from fractions import Fraction

import numpy as np

from ...compare import Tolerance
from ...harness import cases
from ...judge import Case

# cost_ratio's answers are exact fractions. A ratio computed in float32 (keras.ops's default) is
# off by a few roundings of 6e-8 (relative) at most; a formula that drops a term or the multiplier
# is off by far more: the smaller term, M / N or M / (kh kw), is at least 1 / 3482 of the ratio
# on every case, stored or drawn (N below 600, kh and kw below 60).
RATIO_TOL = Tolerance(1e-9, 1e-6, "float32 ratios, a few roundings of 6e-8 relative each")

# (kernel_size, in_channels, filters[, use_bias]) -> parameters of a standard convolution. The
# lecture's digit network (5x5x1 -> 4, 5x5x4 -> 8, 4x4x8 -> 12) and its fully connected layer
# of 4 inputs and 2 outputs written as a 1x1 convolution (4 * 2 + 2).
CONV_PARAMETERS_CASES = {
    "public": [
        (((5, 5), 1, 4), 104),
        (((5, 5), 4, 8), 808),
        (((4, 4), 8, 12), 1548),
        (((1, 1), 4, 2), 10),
        (((3, 3), 32, 64), 18496),
    ],
    "hidden": [
        (((3, 3), 3, 16, False), 432),
        (((7, 7), 3, 64), 9472),
        (((1, 1), 512, 1024), 525312),
        (((3, 5), 2, 3), 93),
        (((2, 2), 1, 1, False), 4),
    ],
}
# (kernel_size, in_channels, filters[, depth_multiplier[, use_bias]]) -> parameters of a
# depthwise-separable convolution: kh kw C M + C M filters (+ filters).
SEPARABLE_PARAMETERS_CASES = {
    "public": [
        (((3, 3), 32, 64), 2400),
        (((3, 3), 3, 16, 2), 166),
        (((5, 5), 4, 8, 1, False), 132),
    ],
    "hidden": [
        (((3, 3), 512, 512), 267264),
        (((1, 1), 4, 2), 14),
        (((3, 2), 2, 5, 3, False), 66),
        (((7, 7), 1, 1), 51),
    ],
}
# (output_size, kernel_size, in_channels, filters) -> multiplications of a convolution.
# The lecture's K * K * W * W: one channel, one filter; MobileNet's second layer.
CONV_MULTIPLICATIONS_CASES = {
    "public": [
        (((28, 28), (3, 3), 1, 1), 7056),
        (((28, 28), (5, 5), 1, 4), 78400),
        (((112, 112), (3, 3), 32, 64), 231211008),
    ],
    "hidden": [
        (((14, 14), (5, 5), 4, 8), 156800),
        (((7, 5), (1, 1), 12, 3), 1260),
        (((1, 1), (28, 28), 1, 10), 7840),
        (((10, 6), (3, 2), 2, 5), 3600),
    ],
}
# (output_size, kernel_size, in_channels, filters[, depth_multiplier]) -> multiplications of a
# depthwise-separable convolution: oh ow (kh kw C M + C M filters).
SEPARABLE_MULTIPLICATIONS_CASES = {
    "public": [
        (((112, 112), (3, 3), 32, 64), 29302784),
        (((28, 28), (3, 3), 1, 1), 7840),
        (((8, 8), (5, 5), 3, 16, 2), 15744),
    ],
    "hidden": [
        (((14, 14), (3, 3), 512, 512), 52283392),
        (((5, 7), (1, 1), 4, 4), 700),
        (((6, 4), (3, 2), 2, 3, 3), 1296),
    ],
}
# (kernel_size, in_channels, filters[, depth_multiplier]) -> the separable convolution's share
# of the standard one's multiplications: 1 / N + 1 / K^2 with depth_multiplier 1.
COST_RATIO_CASES = {
    "public": [
        (((3, 3), 32, 64), Fraction(1, 64) + Fraction(1, 9)),
        (((3, 3), 512, 512), Fraction(1, 512) + Fraction(1, 9)),
        (((5, 5), 16, 32), Fraction(1, 32) + Fraction(1, 25)),
    ],
    "hidden": [
        (((7, 7), 1, 1), Fraction(1, 1) + Fraction(1, 49)),
        (((3, 3), 8, 16, 2), Fraction(2, 16) + Fraction(2, 9)),
        (((3, 5), 4, 10), Fraction(1, 10) + Fraction(1, 15)),
        (((1, 1), 3, 6), Fraction(1, 6) + 1),
    ],
}
# (output_size, kernel_size[, separable]) -> multiplications of one channel: K K W W for a
# (K, K) kernel, 2 K W W for one that is the outer product of a column and a row (ratio 2/K).
SPATIAL_CASES = {
    "public": [
        (((28, 28), (3, 3)), 7056),
        (((28, 28), (3, 3), True), 4704),
        (((32, 32), (5, 5)), 25600),
        (((32, 32), (5, 5), True), 10240),
    ],
    "hidden": [
        (((6, 9), (3, 5)), 810),
        (((6, 9), (3, 5), True), 432),
        (((100, 100), (1, 1), True), 20000),
        (((10, 10), (7, 7), False), 4900),
    ],
}


def conv_parameters_formula(kernel_size, in_channels, filters, use_bias=True):
    (kh, kw) = kernel_size
    return kh * kw * in_channels * filters + (filters if use_bias else 0)


def separable_parameters_formula(kernel_size, in_channels, filters, multiplier=1, use_bias=True):
    (kh, kw), middle = kernel_size, in_channels * multiplier
    return kh * kw * middle + middle * filters + (filters if use_bias else 0)


def conv_multiplications_formula(output_size, kernel_size, in_channels, filters):
    return int(np.prod(output_size)) * int(np.prod(kernel_size)) * in_channels * filters


def separable_multiplications_formula(output_size, kernel_size, in_channels, filters, m=1):
    positions, taps = int(np.prod(output_size)), int(np.prod(kernel_size))
    return positions * (taps * in_channels * m + in_channels * m * filters)


def cost_ratio_formula(kernel_size, in_channels, filters, multiplier=1):
    taps = int(np.prod(kernel_size))
    return Fraction(multiplier, filters) + Fraction(multiplier, taps)


def spatial_formula(output_size, kernel_size, separable=False):
    (oh, ow), (kh, kw) = output_size, kernel_size
    return oh * ow * (kh + kw) if separable else oh * ow * kh * kw


def _draw_costs(rng, args):
    """Fresh arguments of the same form as `args` (the same count, booleans kept)."""
    fresh = []
    for value in args:
        if isinstance(value, bool):
            fresh.append(value)
        elif isinstance(value, tuple):
            fresh.append((int(rng.integers(1, 60)), int(rng.integers(1, 60))))
        else:
            fresh.append(int(rng.integers(1, 600)))
    return tuple(fresh)


def _costs(name, table, formula):
    """The cases of `name`: the stored ones; when grading, each redrawn in the same form, then
    random cases (hidden), the answers from `formula`."""

    def drawn(hidden: bool) -> list[Case]:
        rows = table["hidden" if hidden else "public"]
        if cases.drawing():
            rng = cases.generator()
            calls = [_draw_costs(rng, args) for args, _ in rows]
            extra = cases.pick([], lambda g: _draw_costs(g, rows[0][0]), 2 if hidden else 0)
            rows = [(args, formula(*args)) for args in calls + extra]
        return [Case(args, answer, f"{name}{args!r}") for args, answer in rows]

    drawn.__name__ = name
    return drawn


conv_parameters = _costs("conv_parameters", CONV_PARAMETERS_CASES, conv_parameters_formula)
separable_parameters = _costs(
    "separable_parameters", SEPARABLE_PARAMETERS_CASES, separable_parameters_formula
)
conv_multiplications = _costs(
    "conv_multiplications", CONV_MULTIPLICATIONS_CASES, conv_multiplications_formula
)
separable_multiplications = _costs(
    "separable_multiplications", SEPARABLE_MULTIPLICATIONS_CASES, separable_multiplications_formula
)
cost_ratio = _costs("cost_ratio", COST_RATIO_CASES, cost_ratio_formula)
spatial_multiplications = _costs("spatial_multiplications", SPATIAL_CASES, spatial_formula)
