"""Lesson 08's case tables, tolerances and fresh draws. A row's seed draws inputs that never
hold a zero; a drawn row has seed 0 and the check gives it one from its position. No output is
stored: what a correct output is follows from the output itself (which values it kept).
"""

from functools import partial

import numpy as np

from ... import statistics
from ...compare import Tolerance
from ...harness import cases
from . import mistakes as catalogue

# (input shape, noise_shape) -> expected mask shape, for mask_shape.
MASK_SHAPE_CASES = {
    "public": [
        ((4, 5, 6), None),
        ((4, 5, 6), (None, 1, None)),
        ((2, 3, 3, 8), (None, 1, 1, None)),
        ((7, 10), (1, None)),
        ((3, 4), (3, 1)),
    ],
    "hidden": [
        ((2, 8, 8, 3), (None, None, 1, 1)),
        ((5,), (None,)),
        ((1, 1, 1), (1, 1, 1)),
        ((6, 2, 9), (6, None, 9)),
        ((3, 4, 5, 6, 7), (None, 1, None, 1, None)),
        ((9, 1, 4), None),
    ],
}
# (input shape, noise_shape) for mask_shape inside a compiled function, the batch size unknown
# (the hidden check): its expected mask shape has None where the input's size is unknown.
TRACED_MASK_SHAPE_CASES = (((8, 5, 6), (None, 1, None)), ((4, 7), None), ((3, 2, 9), (1, None, 1)))
# (input shape, rate, seed): every output value is 0 or x / (1 - rate).
KEPT_CASES = {
    "public": [((6, 200), 0.2, 1), ((4, 5, 6, 8), 0.5, 2), ((3, 150), 0.75, 3)],
    "hidden": [
        ((2, 7, 7, 16), 0.1, 4),
        ((5, 300), 0.9, 5),
        ((2, 3, 4, 5, 6), 0.35, 6),
        ((4, 50), 0.0, 7),
        ((4, 50), 1.0, 8),
        ((1, 1), 0.6, 9),
    ],
}
# (input shape, rate, seed): the number of kept values lies in its binomial band. Few samples
# with long rows, at rates where reading `rate` as the keep probability shows.
RATE_CASES = {
    "public": [((2, 10_000), 0.2, 11), ((1, 40, 250), 0.7, 12)],
    "hidden": [
        ((2, 8000), 0.1, 13),
        ((4, 3000), 0.85, 14),
        ((1, 100, 100), 0.35, 15),
        ((2, 6000), 0.6, 16),
    ],
}
# (input shape, noise_shape, rate, seed).
NOISE_CASES = {
    "public": [
        ((6, 20, 16), (None, 1, None), 0.3, 21),
        ((5, 4, 30), (5, 4, 1), 0.6, 22),
    ],
    "hidden": [
        ((8, 6, 6, 24), (None, 1, 1, None), 0.25, 23),
        ((10, 64), (1, None), 0.4, 24),
        ((6, 5, 7, 8), (None, 5, 1, None), 0.7, 25),
        ((24, 12, 40), (None, None, 1), 0.5, 26),
        ((4, 6, 5, 8), None, 0.35, 27),  # the default: no axis shared
    ],
}
# (input shape, data_format or None for the default, rate, seed).
SPATIAL_CASES = {
    "public": [
        ((32, 4, 4, 64), None, 0.25, 31),
        ((32, 64, 3, 3), "channels_first", 0.6, 32),
    ],
    "hidden": [
        ((64, 2, 2, 40), "channels_last", 0.8, 33),
        ((20, 100, 2, 3), "channels_first", 0.15, 34),
        ((50, 5, 5, 50), None, 0.4, 35),
    ],
}
# (input shape, noise_shape, rate, seed). At rate=1 every value is dropped and the gradient is
# 0 everywhere (Keras's own layer gives no gradient at all, which is the same); dividing by
# 1 - rate = 0 inside the graph makes it NaN even where the output is a clean 0.
GRADIENT_CASES = (
    ((6, 120), None, 0.3, 101),
    ((4, 10, 12), (None, 1, None), 0.6, 102),
    ((4, 50), None, 1.0, 103),
)
# (args, kwargs) of the layers whose config and shapes are compared with Keras's.
CONTRACT_SETUPS = (
    ((0.3,), {}),
    ((0.5,), {"noise_shape": [None, 1, 4], "seed": 7}),  # a list: Keras stores a tuple
    ((0.0,), {}),
    ((1.0,), {"seed": 3}),
)
SPATIAL_SETUPS = (((0.3,), {}), ((0.5,), {"data_format": "channels_first", "seed": 4}))
CONTRACT_SHAPES = ((2, 5, 4), (None, 7), (None, None, 3, 8))
SPATIAL_SHAPES = ((2, 5, 5, 3), (None, 4, 6, 8))
INVALID_RATES = (1.5, -0.1)
INVALID_DATA_FORMAT = "channels_middle"  # SpatialDropout2D refuses it with a ValueError

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3
pick = partial(cases.rows, extra=EXTRA_HIDDEN)

KEPT_TOL = Tolerance(
    0.0,
    1e-6,
    "a kept value is x / (1 - rate) in float32, computed as a division or as a product with "
    "1 / (1 - rate): a few units in the last place apart (float32's unit is 1.2e-7)",
)
IDENTITY_TOL = Tolerance(0.0, 1e-7, "at inference the inputs come back unchanged")
SEED_TOL = Tolerance(0.0, 0.0, "the same seed draws the same mask: the same numbers exactly")
GRADIENT_TOL = Tolerance(
    1e-7,
    1e-5,
    "d out / d x of a kept value is 1 / (1 - rate): float32 products of two numbers of size "
    "~1 (upstream times the scale), compared with the exact value in float64",
)


def inputs(shape, seed) -> np.ndarray:
    """Inputs with random signs and |x| in [0.5, 2] (never 0), fresh when grading."""
    return catalogue.probe_input(shape, cases.seed(seed))


def layer_seed(seed) -> int:
    return cases.seed(1000 + seed) % 2**31


def expected_mask_shape(input_shape, noise_shape):
    noise_shape = noise_shape or (None,) * len(input_shape)
    return tuple(n if m is None else m for n, m in zip(input_shape, noise_shape, strict=True))


def vary_bound(p, mask_shape_, axis):
    """P(a correct mask of `mask_shape_` is the same across all slices along `axis`)."""
    copies = mask_shape_[axis]
    return statistics.all_equal(p, copies, int(np.prod(mask_shape_)) // copies)


def _sizes(rng, low, high, rank):
    return tuple(int(n) for n in rng.integers(low, high, size=rank))


def _far_from_half(rng):
    """A rate at least 0.1 away from 0.5, where reading it as the keep probability shows."""
    return float(np.round(rng.choice([rng.uniform(0.1, 0.4), rng.uniform(0.6, 0.9)]), 2))


def _redraw_mask_case(rng, case):
    """Fresh sizes for a stored case, with the same rank and the same pattern of None, 1 and
    explicit sizes in noise_shape."""
    shape, noise = case
    sizes = _sizes(rng, 2, 40, len(shape))
    if noise is None:
        return sizes, None
    return sizes, tuple(
        entry if entry in (None, 1) else size if entry == old_size else int(rng.integers(1, 40))
        for size, old_size, entry in zip(sizes, shape, noise, strict=True)
    )


def _draw_mask_case(rng):
    sizes = _sizes(rng, 1, 30, int(rng.integers(1, 6)))
    if rng.integers(5) == 0:
        return sizes, None
    return sizes, tuple((None, 1, size)[int(rng.integers(3))] for size in sizes)


def mask_shape_cases(hidden):
    """The stored cases; when grading, the public ones with fresh sizes and the hidden ones
    followed by EXTRA_HIDDEN drawn ones."""
    if not cases.drawing() or hidden:
        return pick(MASK_SHAPE_CASES, hidden, _draw_mask_case)
    rng = cases.generator()
    return [_redraw_mask_case(rng, case) for case in MASK_SHAPE_CASES["public"]]


def draw_kept_case(rng):
    shape = _sizes(rng, 1, 12, int(rng.integers(1, 5)))
    return shape, float(np.round(rng.uniform(0.05, 0.95), 2)), 0


def draw_rate_case(rng):
    """A fresh (shape, rate, seed): 6,000 to 20,000 values in at most 3 samples, a rate at
    least 0.1 away from 0.5."""
    rate = _far_from_half(rng)
    batch = int(rng.integers(1, 4))
    per_sample = int(rng.integers(6000, 20_001)) // batch
    return (batch, per_sample), rate, 0


def draw_noise_case(rng):
    """A fresh (shape, noise_shape, rate, seed) with a None batch entry and at least one 1."""
    rank = int(rng.integers(2, 5))
    shape = (int(rng.integers(4, 13)), *_sizes(rng, 2, 13, rank - 1))
    noise = [None, *((None, 1, size)[int(rng.integers(3))] for size in shape[1:])]
    noise[1 + int(rng.integers(rank - 1))] = 1
    rate = float(np.round(rng.uniform(0.2, 0.8), 2))
    return shape, tuple(noise), rate, 0


def draw_spatial_case(rng):
    """A fresh (shape, data_format, rate, seed): 1,000 to 4,000 feature maps, a rate at
    least 0.1 away from 0.5."""
    data_format = (None, "channels_last", "channels_first")[int(rng.integers(3))]
    batch, channels = int(rng.integers(16, 49)), int(rng.integers(64, 84))
    height, width = _sizes(rng, 1, 5, 2)
    if data_format == "channels_first":
        shape = (batch, channels, height, width)
    else:
        shape = (batch, height, width, channels)
    return shape, data_format, _far_from_half(rng), 0
