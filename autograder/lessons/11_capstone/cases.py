"""Lesson 11's cases: residual blocks compared with the trusted block built from Keras layers
(stored rows, and rows drawn at random when grading), their tolerance, and the data and
thresholds of the trained network's check (each with how it was measured)."""

import numpy as np

from ...compare import Tolerance
from ...contract import describe_call
from ...guard import ForbiddenOps
from ...harness import cases

# The capstone builds its block from keras.layers: nothing is forbidden.
NOTHING = ForbiddenOps("nothing", (), "every keras layer may be used here")

# (input shape, filters, keyword arguments, seed): identity skips, projections for a change of
# channels, of stride, and of both; the fifth public row strides along the width alone, with
# the same channels, so that a block which reads only strides[0] (for its projection or its
# output shape) fails it. The batches hold 4 or more images so that batch statistics
# differ from the moving ones, but for the fifth hidden row's single image (its statistics are
# those of its 3 * 4 positions), which a block treating a batch of one apart fails.
# A row of five, (input shape, filters, keyword arguments, input scale, seed), draws its inputs
# with that standard deviation instead of 1: the last row of each table has an identity skip,
# which carries the inputs to the output unnormalized, so that a quarter or more of its outputs
# exceed 6 in both modes (a final ReLU6 for ReLU showed in one or two values of the others).
BLOCK_CASES = {
    "public": [
        ((4, 6, 6, 4), 4, {}, 1),
        ((4, 6, 6, 3), 5, {}, 2),
        ((4, 7, 7, 4), 4, {"strides": 2}, 3),
        ((4, 8, 8, 2), 6, {"strides": 2, "momentum": 0.9, "epsilon": 0.01}, 4),
        ((4, 6, 7, 3), 3, {"strides": (1, 2)}, 9),
        ((4, 6, 5, 3), 3, {}, 10.0, 11),
    ],
    "hidden": [
        ((5, 7, 5, 3), 3, {"kernel_size": 5}, 5),
        ((4, 9, 8, 1), 4, {"kernel_size": (3, 1)}, 6),
        ((6, 8, 9, 5), 3, {"strides": (2, 1)}, 7),
        ((4, 5, 5, 3), 8, {"strides": 3, "momentum": 0.9, "epsilon": 0.01}, 8),
        ((1, 5, 7, 2), 4, {"strides": 2}, 10),
        ((4, 7, 6, 2), 2, {"kernel_size": 5}, 10.0, 12),
    ],
}
# Blocks whose output shapes (computed and symbolic) the contract checks besides the public
# rows': sizes the stride does not divide, where rounding n / s to the nearest whole number
# (Python's round(2.5) is 2, round(4.5) is 4, round(7 / 3) is 2), or flooring it, is not
# ceil(n / s) as padding='same' gives.
SHAPE_CASES = [
    ((2, 5, 9, 3), 4, {"strides": 2}, 13),
    ((2, 7, 7, 3), 4, {"strides": 3}, 14),
]
# When grading, hidden block checks add this many rows drawn at random.
EXTRA_HIDDEN = 2

# Both blocks run the same Keras convolutions and batch normalizations on the same float32
# numbers; a block written another way (its own skip test, ops.add instead of +) reorders at
# most a sum of 5 * 5 * 8 products and a batch mean over 6 * 9 * 8 values per channel, and
# divides by a standard deviation of at least sqrt(epsilon) = 0.03 (a few 1e-6 at worst).
BLOCK_TOL = Tolerance(1e-4, 1e-4, "float32 sums of at most 200 products, in another order")


def draw_row(rng):
    """A fresh (input shape, filters, keyword arguments, 0) row."""
    channels, filters = (int(v) for v in rng.integers(1, 7, size=2))
    kwargs = {}
    if rng.integers(2):
        kwargs["strides"] = int(rng.integers(1, 4))
    if rng.integers(3) == 0:
        kwargs["kernel_size"] = int(rng.choice([1, 3, 5]))
    size = tuple(int(v) for v in rng.integers(3, 10, size=2))
    return ((int(rng.integers(4, 7)), *size, channels), filters, kwargs, 0)


def block_rows(hidden: bool) -> list[tuple]:
    return cases.rows(BLOCK_CASES, hidden, draw_row, EXTRA_HIDDEN)


def describe(row) -> str:
    shape, filters, kwargs = row[:3]
    scaled = f" of standard deviation {row[3]:g}" if len(row) > 4 else ""
    return f"{describe_call('ResidualBlock', (filters,), kwargs)} on inputs {shape}{scaled}"


def inputs(row) -> np.ndarray:
    return cases.normal(row[0], row[-1], row[3] if len(row) > 4 else 1.0)


def sublayer_values(layers: dict, seed: int) -> dict[str, list[np.ndarray]]:
    """Weights for the trusted block's sublayers ({name: arrays in Keras's order}): kernels of
    about unit gain, and batch normalizations whose gamma, beta and moving statistics are far
    from their initial values, so that every one of them shows in the output."""
    rng = np.random.default_rng(cases.seed(7000 + seed))
    values = {}
    for name, layer in layers.items():
        if name.startswith(("conv", "projection")) and not name.endswith("_bn"):
            shape = tuple(layer.kernel.shape)
            fan_in = shape[0] * shape[1] * shape[2]
            values[name] = [rng.normal(scale=fan_in**-0.5, size=shape).astype("float32")]
        else:
            n = int(layer.gamma.shape[0])
            values[name] = [
                rng.uniform(0.5, 1.5, n).astype("float32"),
                rng.normal(scale=0.3, size=n).astype("float32"),
                rng.normal(scale=0.5, size=n).astype("float32"),
                rng.uniform(0.3, 2.0, n).astype("float32"),
            ]
    return values


# --- the trained network ------------------------------------------------------------------------
# The network is trained on TRAIN_IMAGES digits and judged on TEST_IMAGES others, both drawn
# with `course.data.synthetic.digits` from seeds the notebook never uses (fresh ones when
# grading). The reference network (solutions/capstone.py), measured on the course's shared
# 2-core machine under the grader's guard: 99.0% to 99.3% on four fresh draws after 16 to 23 s
# of training on one thread, 14 to 17 s on two; in the grading sandbox, capped at one core,
# 19 s (load 3), where before it ran 16 batches per Python call (`steps_per_execution`) it
# took 46 to 91 s (load 6 to 9): the guard's profiler makes each Python call dearer there.
TRAIN_IMAGES, TEST_IMAGES = 4000, 2000
# The notebook asks for 10 softmax outputs: each digit's outputs are at least 0 and sum to 1
# within this. A float32 softmax sums to 1 within 1e-6, a float16 one (mixed precision) within
# 10 * 2^-11 = 5e-3; the outputs of a network without its softmax (logits) do not come near.
PROBABILITY_TOL = 0.01
TRAIN_SEED, TEST_SEED = 1101, 1102
MIN_ACCURACY = 0.98
MAX_SECONDS = 60.0
# build_network's arguments, exercised after the training: another number of classes and
# another input shape (colour images of 32x32), on which the model predicts two images.
OTHER_NETWORK = {"num_classes": 4, "input_shape": (32, 32, 3)}
