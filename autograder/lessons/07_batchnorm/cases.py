"""Lesson 07's cases: the worked example, the case tables (each row's seed draws its values
through `harness.cases.seed`, fresh when grading), their tolerances and the fresh cases."""

import numpy as np

from ...compare import Tolerance
from ...harness import cases as drawn

# The worked example: two channels of 8 values, mean (5, 2), biased variance (4, 1).
HAND_X = np.array([[2, 1], [4, 1], [4, 1], [4, 1], [5, 3], [5, 3], [7, 3], [9, 3]], dtype="float32")
HAND_MEAN = np.array([5.0, 2.0])
HAND_VARIANCE = np.array([4.0, 1.0])

# The dtype policy of the mixed-precision cases: Keras's layer keeps float32 weights, computes
# in float32 from float16 inputs and returns float16.
MIXED = "mixed_float16"
# (input shape, seed) of the batch_statistics cases, compared with NumPy in float64.
STATISTICS_CASES = {
    "public": [((32, 4), 1), ((4, 5, 5, 3), 2), ((2, 3, 7, 1), 3)],
    "hidden": [((2, 1), 4), ((1, 6, 6, 5), 5), ((64, 16), 6), ((3, 1, 1, 8), 7)],
}
# (input shape, constructor arguments, seed) of the training-mode drawn.
TRAINING_CASES = {
    "public": [
        ((32, 5), {}, 11),
        ((4, 5, 5, 3), {}, 12),
        ((3, 6, 4, 4), {"epsilon": 0.1}, 13),
        ((8, 3, 3, 2), {"center": False}, 14),
        ((16, 6), {"scale": False, "epsilon": 0.01}, 15),
        ((8, 3, 3, 4), {"dtype": MIXED}, 81),
    ],
    "hidden": [
        ((2, 3), {}, 16),
        ((1, 7, 7, 4), {}, 17),
        ((5, 2, 9, 1), {"center": False, "scale": False}, 18),
        ((64, 10), {"epsilon": 1e-5}, 19),
        ((2, 16, 16, 8), {"epsilon": 0.5}, 20),
        ((16, 5), {"epsilon": 0.01, "dtype": MIXED}, 82),
    ],
}
# (input shape, constructor arguments, seed) of the training-mode cases called with a mask
# (about 60% of the positions kept, the others 0 as after `Masking`): Keras takes the batch
# statistics over the kept positions only.
MASKED_TRAINING_CASES = {
    "public": [((6, 4, 4, 3), {}, 91), ((12, 5), {"epsilon": 0.01}, 92)],
    "hidden": [((2, 5, 5, 4), {"center": False}, 93), ((16, 3), {"scale": False}, 94)],
}
# (input shape, constructor arguments, number of training steps, seed): moving statistics.
# The batches are small or the momentum low, so that n against n - 1 shows in the moving
# variance; no momentum is near 0.5, where the two momentum conventions meet.
MOVING_CASES = {
    "public": [
        ((16, 4), {"momentum": 0.9}, 4, 21),
        ((4, 4, 4, 3), {}, 3, 22),
        ((2, 5, 3, 2), {"momentum": 0.7, "epsilon": 0.05}, 5, 23),
        ((8, 3, 3, 4), {"momentum": 0.9, "dtype": MIXED}, 3, 83),
    ],
    "hidden": [
        ((3, 2), {"momentum": 0.0}, 3, 24),
        ((8, 6, 6, 5), {"momentum": 0.95, "center": False}, 4, 25),
        ((32, 3), {"momentum": 0.999}, 6, 26),
        ((1, 3, 3, 6), {"momentum": 0.8, "scale": False}, 3, 27),
    ],
}
# The moving-statistics cases called with a mask (the same mask at every step).
MASKED_MOVING_CASES = {
    "public": [((4, 3, 3, 2), {"momentum": 0.8}, 3, 95)],
    "hidden": [((10, 4), {"momentum": 0.9}, 2, 96)],
}
# (input shape, constructor arguments, seed) of the inference-mode drawn. A batch of images
# comes first: a layer wrong in inference mode fails on it, with a picture of its feature maps.
INFERENCE_CASES = {
    "public": [
        ((2, 5, 5, 3), {"epsilon": 0.1}, 32),
        ((8, 4), {}, 31),
        ((1, 6), {}, 33),
        ((4, 3, 3, 2), {"dtype": MIXED}, 84),
    ],
    "hidden": [
        ((1, 4, 4, 2), {}, 34),
        ((16, 3, 3, 5), {"center": False, "epsilon": 1e-4}, 35),
        ((5, 7), {"scale": False}, 36),
    ],
}
# Inference-mode cases under mixed precision with gamma +-70,000, beyond float16's largest value
# (65,504): Keras keeps gamma float32, a layer that reads or keeps it as float16 gets inf. The
# moving variance is scaled by 70,000^2 too, so that the outputs stay as small as elsewhere.
LARGE_GAMMA = 7e4
LARGE_GAMMA_CASES = {
    "public": [((4, 3, 3, 2), {"dtype": MIXED}, 85)],
    "hidden": [((6, 5), {"epsilon": 0.01, "dtype": MIXED}, 86)],
}
# Inference-mode cases called with a mask (about 60% of the positions kept, as in
# MASKED_TRAINING_CASES): Keras normalizes with the moving statistics all the same, the mask
# choosing only which values make the batch statistics of training mode.
MASKED_INFERENCE_CASES = {
    "public": [((4, 3, 3, 2), {}, 97)],
    "hidden": [((12, 4), {"epsilon": 0.01}, 98)],
}
# (input shape, seed) of the batchnorm_backward cases, compared with autodiff in float64.
BACKWARD_CASES = {
    "public": [((8, 3), 0.001, 41), ((2, 4, 4, 2), 0.01, 42), ((3, 5), 0.1, 43)],
    "hidden": [
        ((2, 1), 0.001, 44),
        ((1, 5, 5, 3), 0.001, 45),
        ((64, 8), 1e-5, 46),
        ((4, 3, 2, 6), 0.5, 47),
    ],
}

# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 3

STATISTICS_TOL = Tolerance(
    1e-5,
    1e-4,
    "float32 means and variances of at most 1,024 values, summed in any order; the variance "
    "may be computed as mean(x^2) - mean(x)^2, as the inputs' means are at most 3 standard "
    "deviations from 0",
)
HAND_TOL = Tolerance(1e-5, 1e-6, "small whole numbers: exact up to float32 rounding")
OUTPUT_TOL = Tolerance(
    1e-4,
    1e-4,
    "float32 normalized values of size up to ~10; the statistics may be summed in any order "
    "and the division done as a multiplication by 1 / sqrt(variance + epsilon)",
)
MOVING_TOL = Tolerance(
    1e-5,
    1e-4,
    "float32 moving averages of a few batch statistics; each step adds a rounding error of "
    "about 1e-6 relative",
)
GRADIENT_TOL = Tolerance(
    1e-4,
    1e-4,
    "float32 gradients of a weighted sum of the outputs: sums over the batch of values of "
    "size up to ~100 for the channels of small variance",
)
BACKWARD_TOL = Tolerance(
    1e-5,
    1e-4,
    "gradients of size ~1 to ~100; a float32 computation stays within this bound, a float64 "
    "one far within it",
)
MIXED_TOL = Tolerance(
    1e-3,
    2e-3,
    "mixed precision: both layers compute in float32 from the same float16 inputs and round "
    "the output to float16, where a float32 result computed in another order may round to "
    "the neighbouring float16 (one unit in the last place, 2^-10 relative)",
)
FIT_TOL = Tolerance(
    1e-4,
    1e-3,
    "a few SGD steps from the same weights on the same batches: float32 rounding differences "
    "of each step carry over to the next",
)


def pick(table: dict, hidden: bool, draw, masked: dict | None = None) -> list:
    """`drawn.rows` of `table` (and `EXTRA_HIDDEN` drawn); with `masked`, each row ends in
    whether it is called with a mask, and the rows of `masked` follow."""
    rows = drawn.rows(table, hidden, draw, EXTRA_HIDDEN)
    if masked is None:
        return rows
    return [*((*row, False) for row in rows), *((*row, True) for row in drawn.rows(masked, hidden))]


def statistics(hidden: bool) -> list:
    return pick(STATISTICS_CASES, hidden, lambda rng: (draw_shape(rng), 0))


def training(hidden: bool) -> list:
    return pick(TRAINING_CASES, hidden, draw_training_case, MASKED_TRAINING_CASES)


def moving(hidden: bool) -> list:
    return pick(MOVING_CASES, hidden, draw_moving_case, MASKED_MOVING_CASES)


def inference(hidden: bool) -> list:
    """(shape, kwargs, seed, large gamma, masked) rows: the large-gamma rows, then the masked."""
    rows = pick(INFERENCE_CASES, hidden, draw_inference_case, LARGE_GAMMA_CASES)
    masked = drawn.rows(MASKED_INFERENCE_CASES, hidden)
    return [*((*row, False) for row in rows), *((*row, False, True) for row in masked)]


def backward(hidden: bool) -> list:
    return pick(BACKWARD_CASES, hidden, draw_backward_case)


def wide(rng, low, high) -> float:
    """A number in [low, high], log-uniform."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def channel_spread(rng, channels):
    """Per channel (scale, offset): scales from 0.05 to 3 (the first channel, when there are
    several, of scale 0.05, small next to epsilon), offsets within 3 scales of 0."""
    scales = np.exp(rng.uniform(np.log(0.05), np.log(3.0), channels))
    if channels > 1:
        scales[0] = 0.05
    return scales, scales * rng.uniform(-3.0, 3.0, channels)


def draw_batches(rng, shape, count, spread):
    """`count` batches of `shape` whose channel statistics drift from batch to batch."""
    scales, offsets = spread
    channels = shape[-1]
    batches = []
    for _ in range(count):
        stretch = rng.uniform(0.7, 1.4, channels)
        shift = scales * rng.uniform(-0.5, 0.5, channels)
        x = rng.normal(size=shape) * scales * stretch + offsets + shift
        batches.append(x.astype("float32"))
    return batches


def draw_weights(rng, channels, kwargs, spread):
    """Weights for a layer with `kwargs` (no gamma without scale, no beta without center):
    gamma of either sign, moving statistics near (not at) the inputs' statistics."""
    scales, offsets = spread
    values = {}
    if kwargs.get("scale", True):
        values["gamma"] = rng.uniform(0.5, 2.0, channels) * rng.choice([-1.0, 1.0], channels)
    if kwargs.get("center", True):
        values["beta"] = rng.normal(size=channels)
    values["moving_mean"] = offsets + scales * rng.normal(size=channels)
    values["moving_variance"] = scales**2 * rng.uniform(0.3, 3.0, channels)
    return {name: value.astype("float32") for name, value in values.items()}


def case_data(shape, kwargs, seed, count, large_gamma=False):
    """(batches, weights) of a case, from a generator seeded by `drawn.seed(seed)`; with
    `large_gamma`, gamma is +-LARGE_GAMMA and the moving variance LARGE_GAMMA^2 times larger."""
    rng = np.random.default_rng(drawn.seed(seed))
    spread = channel_spread(rng, shape[-1])
    weights = draw_weights(rng, shape[-1], kwargs, spread)
    if large_gamma:
        weights["gamma"] = np.copysign(LARGE_GAMMA, weights["gamma"]).astype("float32")
        weights["moving_variance"] *= np.float32(LARGE_GAMMA**2)
    return draw_batches(rng, shape, count, spread), weights


def draw_mask(shape, seed, batches):
    """A mask for inputs `shape` (booleans shaped like them without the channel axis) that
    keeps about 60% of the positions, at least 2; the positions it drops are set to 0 in
    `batches`, as `Masking` pads. Returns (mask, words for the case)."""
    rng = np.random.default_rng(drawn.seed(seed + 500))
    mask = rng.random(shape[:-1]) < 0.6
    mask.reshape(-1)[:2] = True
    for batch in batches:
        batch[~mask] = 0.0
    words = f" with a mask keeping {int(mask.sum())} of {mask.size} positions (the others 0)"
    return mask, words


def draw_shape(rng):
    """(N, C) with 2 <= N <= 64, or (N, H, W, C) with N * H * W >= 2: at most 1,024 values a
    channel, within what the tolerances are proven for."""
    if rng.integers(2):
        return (int(rng.integers(2, 65)), int(rng.integers(1, 17)))
    while True:
        shape = tuple(int(n) for n in rng.integers(1, [5, 9, 9, 9]))
        if shape[0] * shape[1] * shape[2] >= 2:
            return shape


def draw_kwargs(rng, momentum=False):
    kwargs = {}
    if rng.integers(2):
        kwargs["epsilon"] = round(wide(rng, 1e-5, 0.5), 6)
    if rng.integers(4) == 0:
        kwargs["center"] = False
    if rng.integers(4) == 0:
        kwargs["scale"] = False
    if momentum:
        zero = rng.integers(4) == 0  # drawn first, the momentum itself only when not 0
        kwargs["momentum"] = 0.0 if zero else round(float(rng.uniform(0.7, 0.999)), 3)
    return kwargs


def hand_example():
    """(x, mean, variance, words): the worked example; when grading, in disguise: its rows
    shuffled, each channel times a whole number and plus another, maybe as 2 images of 2x2."""
    if not drawn.drawing():
        return HAND_X, HAND_MEAN, HAND_VARIANCE, ""
    rng = drawn.generator()
    a = rng.integers(2, 6, size=2)
    b = rng.integers(-9, 10, size=2)
    x = HAND_X[rng.permutation(8)] * a + b
    words = f", rows shuffled, channels times {a.tolist()} plus {b.tolist()}"
    if rng.integers(2):
        x = x.reshape(2, 2, 2, 2)
        words += ", as 2 images of 2x2"
    return x.astype("float32"), HAND_MEAN * a + b, HAND_VARIANCE * a**2, words


def fit_case(seed):
    """Data, labels and the starting weights of the small model of the fit checks."""
    rng = np.random.default_rng(drawn.seed(seed))
    x = (rng.normal(size=(48, 6, 6, 2)) * [0.5, 2.0] + [1.0, -0.5]).astype("float32")
    y = x[:, :3, :, 0].mean(axis=(1, 2)) > x[:, 3:, :, 1].mean(axis=(1, 2)) - 1.5
    kernel = rng.normal(scale=0.4, size=(3, 3, 2, 4)).astype("float32")
    conv = {"kernel": kernel, "bias": rng.normal(scale=0.1, size=4).astype("float32")}
    norm = {
        "gamma": rng.uniform(0.5, 1.5, 4).astype("float32"),
        "beta": rng.normal(scale=0.2, size=4).astype("float32"),
        "moving_mean": rng.normal(size=4).astype("float32"),
        "moving_variance": rng.uniform(0.5, 4.0, 4).astype("float32"),
    }
    dense = {
        "kernel": rng.normal(scale=0.5, size=(4, 1)).astype("float32"),
        "bias": np.zeros(1, "float32"),
    }
    return x, y.astype("float32"), [conv, norm, None, None, dense]


def fit_evaluation(x):
    """What the fitted models predict on: 8 training images, and 8 scaled and shifted (batch
    statistics would hide the shift; the moving statistics show it)."""
    return np.concatenate([x[:8], 3.0 * x[8:16] + 1.0])


def fit_spec(norm):
    return [
        ("keras", "Conv2D", (4, 3), {"padding": "same"}),
        norm,
        ("keras", "Activation", ("relu",), {}),
        ("keras", "GlobalAveragePooling2D", (), {}),
        ("keras", "Dense", (1,), {"activation": "sigmoid"}),
    ]


FIT_SETTINGS = {"loss": "binary_crossentropy", "learning_rate": 0.1, "epochs": 4, "batch_size": 16}


def autodiff_backward(x, gamma, grad_output, epsilon):
    """(grad_x, grad_gamma, grad_beta) of keras.layers.BatchNormalization in training mode,
    by TensorFlow's automatic differentiation in float64."""
    import keras
    import tensorflow as tf

    x = np.asarray(x, np.float64)
    layer = keras.layers.BatchNormalization(epsilon=epsilon, dtype="float64")
    layer.build(x.shape)
    layer.gamma.assign(np.asarray(gamma, np.float64))
    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = tf.reduce_sum(layer(inputs, training=True) * np.asarray(grad_output, np.float64))
    grad_x, grad_gamma, grad_beta = tape.gradient(loss, [inputs, layer.gamma, layer.beta])
    return grad_x.numpy(), grad_gamma.numpy(), grad_beta.numpy()


def backward_data(shape, seed):
    rng = np.random.default_rng(drawn.seed(seed))
    scales, offsets = channel_spread(rng, shape[-1])
    x = rng.normal(size=shape) * scales + offsets
    gamma = rng.uniform(0.5, 2.0, shape[-1]) * rng.choice([-1.0, 1.0], shape[-1])
    return x, gamma, rng.normal(size=shape)


def draw_training_case(rng):
    return draw_shape(rng), draw_kwargs(rng), 0


def draw_moving_case(rng):
    return draw_shape(rng), draw_kwargs(rng, momentum=True), int(rng.integers(2, 6)), 0


def draw_inference_case(rng):
    shape = draw_shape(rng)
    if rng.integers(3) == 0:
        shape = (1, *shape[1:])  # a batch of one
    return shape, draw_kwargs(rng), 0


def draw_backward_case(rng):
    return draw_shape(rng), round(wide(rng, 1e-5, 0.5), 6), 0
