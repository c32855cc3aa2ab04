"""Lesson 09's cases: the RandomFlip tables and their false-failure bound, the workflow's data
and thresholds (each with how it was measured), the pretrained base's features as oracle."""

from functools import cache, partial

import numpy as np

from ... import student
from ...compare import Tolerance
from ...guard import ForbiddenOps
from ...harness import cases

FLIP_OPS = (
    "keras.layers.RandomFlip.get_random_transformation",
    "keras.layers.RandomFlip.transform_images",
    "keras.layers.RandomFlip._flip_inputs",
    "tensorflow.image.flip_left_right",
    "tensorflow.image.flip_up_down",
    "tensorflow.image.random_flip_left_right",
    "tensorflow.image.random_flip_up_down",
    "tensorflow.image.stateless_random_flip_left_right",
    "tensorflow.image.stateless_random_flip_up_down",
)
# What lesson 09 forbids in every graded call (its workflow checks too: they call student code).
FLIPS = ForbiddenOps(
    "a built-in random flip",
    FLIP_OPS,
    "this lesson asks you to flip with ops.flip (or a reversed slice such as x[:, :, ::-1]) and "
    "to draw each image's decision yourself with keras.random.uniform",
)
perform = partial(student.perform, forbidden=FLIPS)
run = partial(student.run, forbidden=FLIPS)

MODES = ("horizontal", "vertical", "horizontal_and_vertical")
WHAT = {
    "unchanged": "left as it was",
    "horizontal": "mirrored left to right (width axis reversed)",
    "vertical": "mirrored top to bottom (height axis reversed)",
    "both": "turned by 180 degrees (both axes reversed)",
    "channels": "given its channels in reverse order",
    "other": "changed into something that is neither the image nor a flip of it",
}

# (mode, input shape, seed) of the modes check: batches of distinct random images, small ones
# but many: with 800 images or more, the band a fair coin stays in is within 0.39n..0.61n, so
# a coin of 1/3 or 0.69 fails (with 64 images, anything from 0.3 to 0.7 usually passed).
MODE_CASES = {
    "public": [
        ("horizontal", (800, 5, 7, 2), 1),
        ("vertical", (800, 6, 5, 1), 2),
        ("horizontal_and_vertical", (1000, 4, 6, 3), 3),
    ],
    "hidden": [
        ("horizontal", (900, 9, 4, 1), 4),
        ("vertical", (900, 3, 8, 3), 5),
        ("horizontal_and_vertical", (1200, 7, 7, 1), 6),
        ("horizontal_and_vertical", (800, 2, 3, 4), 7),
    ],
}
# (mode, input shape, seed) of the per-image check: 2+ channels, so reversing them is a change.
PER_IMAGE_CASES = {
    "public": [("horizontal", (64, 6, 6, 2), 11), ("horizontal_and_vertical", (64, 5, 4, 3), 12)],
    "hidden": [("vertical", (64, 8, 5, 2), 13), ("horizontal", (80, 3, 9, 3), 14)],
}
# When grading, hidden checks add this many cases drawn at random.
EXTRA_HIDDEN = 2
# (mode, input shape, seed) of the calls inside a tf.function traced for any batch size.
COMPILED_CASE = ("horizontal", (64, 6, 5, 2), 15)

# A correct layer flips each axis of each image with probability 1/2, independently. A count of
# flips outside the central interval of Binomial(n, 1/2) that holds all but FLIP_FALSE_FAILURE
# of the probability fails: at most one correct layer in a billion fails per count.
FLIP_FALSE_FAILURE = 1e-9

# num_classes, images, seed of the TransferModel check.
MODEL_CASES = {"public": [(10, 6, 21)], "hidden": [(3, 5, 22), (24, 4, 23)]}
# Layer names unfreeze_from is called with.
UNFREEZE_CASES = {"public": ["block3_conv"], "hidden": ["block2_conv", "block3_bn", "block2_pool"]}
# Names of no layer of the base, which unfreeze_from refuses: "block3" is only the start of some.
UNKNOWN_LAYERS = ("no_such_layer", "block3")

HEAD_IMAGES, TEST_IMAGES = 100, 300  # 10 labelled images per class; a test set of 30 per class
HEAD_EPOCHS, HEAD_BATCH, HEAD_RATE = 10, 16, 1e-2
# fine_tune's learning rate: not its default 1e-4, so a fine_tune that ignores it is caught.
TUNE_HEAD_EPOCHS, TUNE_EPOCHS, TUNE_RATE = 6, 5, 5e-5
# fine_tune's batch size: not train_head's default 16, so a fine_tune that drops it is caught.
TUNE_BATCH = 20
# Measured over 100 fresh grading seeds (benchmarks/transfer_learning_checks.py): a head trained
# as above on 10 letters per class scores 0.77 on average on 300 test images, never below 0.71;
# 0.55 leaves room for other CPUs and draws. A head that learned nothing scores about 0.10.
HEAD_THRESHOLD = 0.55
# Over the same seeds, fine-tuning block 3 at 1e-4 for 5 epochs changed the test accuracy by
# -0.027 to +0.057; at the head's rate 1e-2 it fell by 0.31 on average (0.09 to 0.55). At
# TUNE_RATE, 5e-5, over 20 seeds: -0.037 to +0.047. A drop of more than 0.10 means the
# pretrained weights were damaged.
TUNE_MAX_DROP = 0.10

OUTPUT_TOL = Tolerance(
    1e-5,
    1e-4,
    "the same float32 convolutions, summed in another order by the pooling and the head",
)


def noise(shape, seed) -> np.ndarray:
    """Distinct random images (float32): no image equals any of its flips."""
    return np.random.default_rng(cases.seed(seed)).normal(size=shape).astype("float32")


def flip_count_bounds(n: int, p: float = 0.5) -> tuple[int, int]:
    """The counts of flips (of n images, each flipped with probability p) a correct layer
    stays within but for a probability of FLIP_FALSE_FAILURE."""
    from scipy.stats import binom

    low = int(binom.ppf(FLIP_FALSE_FAILURE / 2, n, p))
    high = int(binom.isf(FLIP_FALSE_FAILURE / 2, n, p))
    return low, high


def _draw_flip_case(rng, min_channels=1, images=(64, 160)):
    """A fresh (mode, input shape, seed): `images` (fewest, most) images, 2 to 11 pixels a side."""
    mode = MODES[int(rng.integers(len(MODES)))]
    height, width = (int(v) for v in rng.integers(2, 12, size=2))
    channels = int(rng.integers(min_channels, 5))
    return mode, (int(rng.integers(images[0], images[1] + 1)), height, width, channels), 0


def _draw_model_case(rng):
    """A fresh (num_classes, images, seed): 2 to 30 classes, 2 to 8 images."""
    return int(rng.integers(2, 31)), int(rng.integers(2, 9)), 0


def _draw_layer_name(rng):
    names = base_layers()[1:]
    return names[int(rng.integers(len(names)))]


# `*_cases(hidden)`: the stored rows; when grading, hidden adds EXTRA_HIDDEN drawn ones.
mode_cases = partial(
    cases.rows, MODE_CASES, draw=partial(_draw_flip_case, images=(800, 1200)), extra=EXTRA_HIDDEN
)
per_image_cases = partial(
    cases.rows, PER_IMAGE_CASES, draw=partial(_draw_flip_case, min_channels=2), extra=EXTRA_HIDDEN
)
model_cases = partial(cases.rows, MODEL_CASES, draw=_draw_model_case, extra=EXTRA_HIDDEN)
unfreeze_cases = partial(cases.rows, UNFREEZE_CASES, draw=_draw_layer_name, extra=EXTRA_HIDDEN)


def target(n, seed):
    """`n` labelled images of the target task (letters), drawn from `seed`."""
    from course import pretrained

    return pretrained.target_data(n, seed=cases.seed(seed))


@cache
def local_base():
    """A copy of the pretrained base in the grader, never changed: the oracle of the features."""
    from course import pretrained

    return pretrained.load_base()


@cache
def base_layers() -> tuple[str, ...]:
    return tuple(layer.name for layer in local_base().layers)


def base_parameters() -> int:
    return int(local_base().count_params())


def features(x, preprocess=True) -> np.ndarray:
    """Global average of the pretrained base's feature maps (inference mode), float64."""
    from course import pretrained

    inputs = pretrained.preprocess_input(np.asarray(x, "float32")) if preprocess else x
    maps = np.asarray(local_base()(np.asarray(inputs, "float32"), training=False))
    return maps.astype(np.float64).mean(axis=(1, 2))


def head_output(feats, kernel, bias, softmax=True) -> np.ndarray:
    """The probabilities (or logits) of a Dense head with `kernel` and `bias` on `feats`."""
    logits = feats @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)
    if not softmax:
        return logits
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
