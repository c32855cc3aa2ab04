"""A small pretrained convolutional base that ships with the course, and its two tasks.

Keras applications (`keras.applications.MobileNetV2`, ...) download their weights the first
time they are built, which fails offline and in many classrooms. This package ships a network
of its own instead, trained by `python -m course.pretrained.train`:

- the **source task** it was trained on: 24 classes of glyphs, the digits 0-9 and the capital
  letters B C D E F G J K L N P Q R S, rendered by `course.data.letters` in the course's
  default fonts (`course.data.DIGIT_FONTS`) with strong random rotation, shear, zoom and noise;
- the **base**: three blocks Conv2D (no bias) -> BatchNormalization -> ReLU, the first two
  followed by 2x2 max pooling; (28, 28, 1) images in, (7, 7, 96) feature maps out;
- the **target task** the lessons transfer it to: ten new classes, the capital letters that
  look the same in a mirror (A H M O T U V W X Y), in fonts the base never saw
  (`course.data.EXTRA_FONTS`), rotated and noisier beyond anything it was trained on.

The base expects its inputs preprocessed by `preprocess_input` (pixels scaled from [0, 1] to
[-1, 1]), as Keras applications expect theirs preprocessed by their own `preprocess_input`.

Nothing here touches the network. `keras_application` builds a Keras application from the local
Keras cache when its weights are there, and otherwise says in one line how to get them.
"""

import json
import os
from functools import cache
from pathlib import Path

import numpy as np

from course.data import EXTRA_FONTS, SYMMETRIC_LETTERS, keras_home, letters

FOLDER = Path(__file__).resolve().parent
WEIGHTS = FOLDER / "glyphs_cnn.weights.h5"  # the source model: the base and its 24-class head
RECORD = FOLDER / "glyphs_cnn.json"  # how it was trained and what it scored

BASE_NAME = "glyph_base"
INPUT_SHAPE = (28, 28, 1)
WIDTHS = (24, 48, 96)

# The source task: digits and capital letters that change in a mirror (none of the target's),
# in the default fonts, with stronger jitter than course.data.digits's default.
SOURCE_CLASSES = "0123456789BCDEFGJKLNPQRS"
SOURCE_JITTER = {"max_rotation": 25.0, "shear": 0.3, "scale": (0.7, 1.2), "noise": 0.15}
SOURCE_SPLITS = {"train": (30_000, 11), "test": (3_000, 12)}  # (images, seed)

# The target task: new classes, new fonts, rotations (up to 30 degrees) and noise beyond the
# source's.
TARGET_CLASSES = SYMMETRIC_LETTERS
TARGET_FONTS = EXTRA_FONTS
TARGET_JITTER = {"max_rotation": 30.0, "noise": 0.2}


def preprocess_input(x):
    """Scale images from [0, 1] to [-1, 1], the range the base was trained on.

    Works on NumPy arrays, tensors and symbolic `keras.Input`s alike (it is plain arithmetic).
    """
    return x * 2.0 - 1.0


def source_data(split="train", n=None):
    """The source task's images `(x, y)` (y indexes into `SOURCE_CLASSES`): `split` "train"
    (30,000 images) or "test" (3,000), or only their first `n` when `n` is given."""
    if split not in SOURCE_SPLITS:
        raise ValueError(f"Expected `split` to be 'train' or 'test'. Received: split={split!r}")
    size, seed = SOURCE_SPLITS[split]
    return letters(size if n is None else n, SOURCE_CLASSES, seed=seed, **SOURCE_JITTER)


def target_data(n, seed=0):
    """`n` images of the target task: `(x, y)`, letters `TARGET_CLASSES` (y indexes into it),
    in `TARGET_FONTS`, balanced; float32 (n, 28, 28, 1) in [0, 1]."""
    return letters(n, TARGET_CLASSES, seed=seed, fonts=TARGET_FONTS, **TARGET_JITTER)


def build_base(name=BASE_NAME):
    """The base's architecture with fresh (untrained) weights: a functional `keras.Model`.

    Layers, in order: `block{i}_conv` (3x3, 'same', no bias), `block{i}_bn`, `block{i}_relu`
    for i = 1, 2, 3, with `block1_pool` and `block2_pool` (2x2 max pooling) after the first two
    blocks. Input (None, 28, 28, 1) preprocessed by `preprocess_input`; output (None, 7, 7, 96).
    """
    import keras
    from keras import layers

    inputs = keras.Input(INPUT_SHAPE, name="images")
    x = inputs
    for block, width in enumerate(WIDTHS, start=1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{block}_conv")(x)
        x = layers.BatchNormalization(name=f"block{block}_bn")(x)
        x = layers.ReLU(name=f"block{block}_relu")(x)
        if block < len(WIDTHS):
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
    return keras.Model(inputs, x, name=name)


def build_source_model(base=None):
    """The source classifier: raw images in [0, 1] -> `preprocess_input` -> base -> global
    average pooling -> Dense(24, softmax). A fresh base is built when none is given."""
    import keras
    from keras import layers

    base = build_base() if base is None else base
    inputs = keras.Input(INPUT_SHAPE, name="images")
    x = layers.Rescaling(2.0, offset=-1.0, name="preprocess")(inputs)  # = preprocess_input
    x = base(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(len(SOURCE_CLASSES), activation="softmax", name="glyphs")(x)
    return keras.Model(inputs, outputs, name="glyphs_cnn")


def load_source_model():
    """The source classifier with the shipped weights (raw [0, 1] images in, 24 class
    probabilities out). Offline: the weights are a file of this package."""
    if not WEIGHTS.is_file():
        raise FileNotFoundError(
            f"the pretrained weights are missing ({WEIGHTS}); reinstall the course package or "
            "recreate them with `python -m course.pretrained.train`"
        )
    model = build_source_model()
    model.load_weights(WEIGHTS)
    return model


def load_base():
    """A new copy of the pretrained base (a functional `keras.Model` named "glyph_base"),
    all weights trainable as loaded. Each call returns a new, independent model."""
    base = build_base()
    base.set_weights(load_source_model().get_layer(BASE_NAME).get_weights())
    return base


@cache
def _record_text() -> str:
    return RECORD.read_text()


def record() -> dict:
    """How the shipped weights were made and what they scored: the JSON record that
    `python -m course.pretrained.train` wrote next to them."""
    return json.loads(_record_text())


def source_accuracy(model=None, batch_size=500, n=None) -> tuple[int, int]:
    """(correct, total) of the source classifier (default: the shipped one) on the source test
    set (or on its first `n` images)."""
    model = load_source_model() if model is None else model
    x, y = source_data("test", n)
    predictions = np.argmax(model.predict(x, batch_size=batch_size, verbose=0), axis=1)
    return int(np.sum(predictions == y)), len(y)


# --- Keras applications, from the local cache only ------------------------------------------------

APPLICATIONS = {
    # name: (constructor in keras.applications, cached file for include_top=False, input size)
    "MobileNetV2": (
        "MobileNetV2",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5",
        (96, 96, 3),
    ),
}


class WeightsUnavailable(RuntimeError):
    """A Keras application's weights are not in the local Keras cache."""


def keras_application_path(name="MobileNetV2") -> Path:
    """Where Keras caches the ImageNet weights of application `name` (without its top)."""
    if name not in APPLICATIONS:
        raise ValueError(f"Expected `name` to be one of {tuple(APPLICATIONS)}. Received: {name!r}")
    return keras_home() / "models" / APPLICATIONS[name][1]


def keras_application_cached(name="MobileNetV2") -> bool:
    """Whether `keras_application(name)` finds its weights in the local Keras cache."""
    return keras_application_path(name).is_file()


def keras_application_hint(name="MobileNetV2") -> str:
    """One line on how to put the application's weights into the Keras cache."""
    constructor, _, shape = APPLICATIONS[name]
    return (
        f"{name}'s ImageNet weights are not in the Keras cache ({keras_application_path(name)}); "
        f'on a machine with internet, run `python -c "import keras; keras.applications.'
        f'{constructor}(input_shape={shape}, include_top=False)"` once and copy '
        f"{keras_home() / 'models'} here (or point KERAS_HOME at a copy)."
    )


def keras_application(name="MobileNetV2"):
    """The Keras application `name` without its classifier (`include_top=False`), with ImageNet
    weights read from the local Keras cache; never downloads.

    Raises `WeightsUnavailable` (its message is `keras_application_hint(name)`) when the
    weights are not cached. Its inputs are `APPLICATIONS[name][2]` images preprocessed with
    `keras.applications.<module>.preprocess_input` (for MobileNetV2: [0, 255] -> [-1, 1]).
    """
    path = keras_application_path(name)
    if not path.is_file():
        raise WeightsUnavailable(keras_application_hint(name))
    import keras

    constructor, _, shape = APPLICATIONS[name]
    build = getattr(keras.applications, constructor)
    return build(input_shape=shape, include_top=False, weights=os.fspath(path))


__all__ = [
    "APPLICATIONS",
    "BASE_NAME",
    "INPUT_SHAPE",
    "SOURCE_CLASSES",
    "TARGET_CLASSES",
    "TARGET_FONTS",
    "WeightsUnavailable",
    "build_base",
    "build_source_model",
    "keras_application",
    "keras_application_cached",
    "keras_application_hint",
    "keras_application_path",
    "load_base",
    "load_source_model",
    "preprocess_input",
    "record",
    "source_accuracy",
    "source_data",
    "target_data",
]
