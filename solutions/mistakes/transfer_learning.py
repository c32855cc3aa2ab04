"""Wrong versions of lesson 09's code, each making one catalogued mistake.

Written the way students write them, not as edits of the reference.
"""

import keras
from keras import ops

from course import pretrained
from solutions.mistakes import WrongVersion
from solutions.transfer_learning import train_head

# --- RandomFlip.call ----------------------------------------------------------------------------


def call_one_decision(self, inputs, training=True):
    """Draws a single random number and flips the whole batch with it."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    if self.mode != "vertical":
        flip = keras.random.uniform((), seed=self.generator) < 0.5
        images = ops.where(flip, images[:, :, ::-1, :], images)
    if self.mode != "horizontal":
        flip = keras.random.uniform((), seed=self.generator) < 0.5
        images = ops.where(flip, images[:, ::-1, :, :], images)
    return images


def call_two_modes_only(self, inputs, training=True):
    """Tests for "horizontal" and "vertical" only: "horizontal_and_vertical" never flips."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    for axis, wanted in ((2, "horizontal"), (1, "vertical")):
        if self.mode == wanted:
            flip = keras.random.uniform((ops.shape(images)[0], 1, 1, 1), seed=self.generator)
            images = ops.where(flip < 0.5, ops.flip(images, axis=axis), images)
    return images


def call_ignores_training(self, inputs, training=True):
    """Flips whatever training says."""
    images = ops.cast(inputs, self.compute_dtype)
    flips = keras.random.uniform((ops.shape(images)[0], 2, 1, 1, 1), seed=self.generator) < 0.5
    if self.mode in ("horizontal", "horizontal_and_vertical"):
        images = ops.where(flips[:, 0], ops.flip(images, axis=2), images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
        images = ops.where(flips[:, 1], ops.flip(images, axis=1), images)
    return images


def call_numpy_decisions(self, inputs, training=True):
    """Decides with NumPy's generator, seeded once, as in a NumPy data pipeline."""
    import numpy as np

    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    if not hasattr(self, "numpy_rng"):
        self.numpy_rng = np.random.default_rng(self.seed)
    for axis, wanted in ((2, "horizontal"), (1, "vertical")):
        if self.mode in (wanted, "horizontal_and_vertical"):
            flip = self.numpy_rng.random(images.shape[0]) < 0.5
            images = ops.where(np.reshape(flip, (-1, 1, 1, 1)), ops.flip(images, axis), images)
    return images


def call_axes_swapped(self, inputs, training=True):
    """Takes axis 1 for horizontal and axis 2 for vertical."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    batch = ops.shape(images)[0]
    if self.mode in ("horizontal", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < 0.5
        images = ops.where(flip, ops.flip(images, axis=1), images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < 0.5
        images = ops.where(flip, ops.flip(images, axis=2), images)
    return images


def call_last_axis(self, inputs, training=True):
    """Flips the last axis for horizontal, thinking of an image as rows of pixels."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    batch = ops.shape(images)[0]
    if self.mode in ("horizontal", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < 0.5
        images = ops.where(flip, ops.flip(images, axis=-1), images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.generator) < 0.5
        images = ops.where(flip, ops.flip(images, axis=1), images)
    return images


def call_integer_seed(self, inputs, training=True):
    """Passes the integer seed to keras.random on every call."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    batch = ops.shape(images)[0]
    if self.mode in ("horizontal", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.seed) < 0.5
        images = ops.where(flip, ops.flip(images, axis=2), images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
        flip = keras.random.uniform((batch, 1, 1, 1), seed=self.seed) < 0.5
        images = ops.where(flip, ops.flip(images, axis=1), images)
    return images


def call_decisions_drawn_once(self, inputs, training=True):
    """Draws the decisions from the generator at the first call and keeps them on self."""
    images = ops.cast(inputs, self.compute_dtype)
    if not training:
        return images
    if getattr(self, "coins", None) is None:
        one_per_image = (ops.shape(images)[0], 1, 1, 1)
        self.coins = (
            keras.random.uniform(one_per_image, seed=self.generator) < 0.5,
            keras.random.uniform(one_per_image, seed=self.generator) < 0.5,
        )
    if self.mode in ("horizontal", "horizontal_and_vertical"):
        images = ops.where(self.coins[0], ops.flip(images, axis=2), images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
        images = ops.where(self.coins[1], ops.flip(images, axis=1), images)
    return images


# --- freeze --------------------------------------------------------------------------------------


def freeze_compares(model):
    """Compares instead of assigning: nothing is frozen."""
    model.trainable == False  # noqa: E712, B015
    return model


def freeze_conv_only(model):
    """Freezes the convolutions and forgets the BatchNormalization layers."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            layer.trainable = False
    return model


def freeze_weights_only(model):
    """Flags every weight as not trainable and leaves the layers trainable."""
    for weight in model.weights:
        weight.trainable = False
    return model


# --- TransferModel.call -------------------------------------------------------------------------


def model_call_raw_images(self, images, training=False):
    """Feeds the base the raw [0, 1] images."""
    x = images
    if self.augmentation is not None:
        x = self.augmentation(x, training=training)
    features = self.base(x, training=False)
    return self.classifier(self.pool(features))


def model_init_no_softmax(self, base, num_classes, augmentation=None, **kwargs):
    """A Dense head without an activation: scores, not probabilities."""
    super().__init__(**kwargs)
    self.base = base
    self.num_classes = num_classes
    self.augmentation = augmentation
    self.pool = keras.layers.GlobalAveragePooling2D()
    self.classifier = keras.layers.Dense(num_classes)


def model_call_passes_training(self, images, training=False):
    """Passes the model's training flag to the base as well."""
    x = images
    if self.augmentation is not None:
        x = self.augmentation(x, training=training)
    features = self.base(pretrained.preprocess_input(x), training=training)
    return self.classifier(self.pool(features))


def model_call_default_training(self, images, training=False):
    """Calls the base without saying training=False."""
    x = images if self.augmentation is None else self.augmentation(images, training=training)
    return self.classifier(self.pool(self.base(pretrained.preprocess_input(x))))


def model_call_augments_always(self, images, training=False):
    """Calls the augmentation with training=True, since it is meant for training."""
    x = images
    if self.augmentation is not None:
        x = self.augmentation(x, training=True)
    features = self.base(pretrained.preprocess_input(x), training=False)
    return self.classifier(self.pool(features))


def model_call_no_augmentation(self, images, training=False):
    """Stores the augmentation layer and never uses it."""
    features = self.base(pretrained.preprocess_input(images), training=False)
    return self.classifier(self.pool(features))


# --- unfreeze_from and fine_tune ----------------------------------------------------------------


def unfreeze_layers_only(base, layer_name):
    """Sets the flags of the top layers but leaves the base itself frozen."""
    seen = False
    for layer in base.layers:
        seen = seen or layer.name == layer_name
        layer.trainable = seen
    return base


def unfreeze_weights_only(base, layer_name):
    """Unfreezes the base, then flags the weights of the layers before layer_name as frozen."""
    names = [layer.name for layer in base.layers]
    if layer_name not in names:
        raise ValueError(f"no layer {layer_name!r} in the base")
    base.trainable = True
    for layer in base.layers[: names.index(layer_name)]:
        for weight in layer.weights:
            weight.trainable = False
    return base


def fine_tune_without_compile(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
    """Fits again, with the optimizer and trainable weights of the first compile."""
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)


def fine_tune_head_rate(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
    """Reuses train_head and forgets to pass the low learning rate on."""
    return train_head(model, x, y, epochs=epochs, batch_size=batch_size)


M = "solutions.mistakes.transfer_learning"

WRONG_VERSIONS = (
    WrongVersion(
        "batch_flip",
        {"RandomFlip.call": f"{M}:call_one_decision"},
        ("test_random_flip_modes", "test_random_flip_per_image"),
    ),
    WrongVersion(
        "never_flips",
        {"RandomFlip.call": f"{M}:call_two_modes_only"},
        ("test_random_flip_modes", "test_random_flip_per_image"),
    ),
    WrongVersion(
        "flips_at_inference",
        {"RandomFlip.call": f"{M}:call_ignores_training"},
        ("test_random_flip_inference",),
    ),
    WrongVersion(
        "axes_swapped", {"RandomFlip.call": f"{M}:call_axes_swapped"}, ("test_random_flip_modes",)
    ),
    WrongVersion(
        "channels_flipped", {"RandomFlip.call": f"{M}:call_last_axis"}, ("test_random_flip_modes",)
    ),
    WrongVersion(
        "same_flips_every_call",
        {"RandomFlip.call": f"{M}:call_integer_seed"},
        ("test_random_flip_per_image",),
    ),
    WrongVersion(
        "flips_kept_on_self",
        {"RandomFlip.call": f"{M}:call_decisions_drawn_once"},
        ("test_random_flip_per_image",),
    ),
    WrongVersion(
        "numpy_flips",
        {"RandomFlip.call": f"{M}:call_numpy_decisions"},
        ("test_random_flip_per_image",),
    ),
    WrongVersion(
        "base_not_frozen", {"freeze": f"{M}:freeze_compares"}, ("test_freeze",), "compares"
    ),
    WrongVersion(
        "base_not_frozen", {"freeze": f"{M}:freeze_conv_only"}, ("test_freeze",), "conv_only"
    ),
    WrongVersion(
        "weights_frozen_layers_not", {"freeze": f"{M}:freeze_weights_only"}, ("test_freeze",)
    ),
    WrongVersion(
        "preprocessing_skipped",
        {"TransferModel.call": f"{M}:model_call_raw_images"},
        ("test_transfer_model",),
    ),
    WrongVersion(
        "no_softmax",
        {"TransferModel.__init__": f"{M}:model_init_no_softmax"},
        ("test_transfer_model",),
    ),
    WrongVersion(
        "base_in_training_mode",
        {"TransferModel.call": f"{M}:model_call_passes_training"},
        ("test_transfer_model",),
        variant="passes_training",
    ),
    WrongVersion(
        "base_in_training_mode",
        {"TransferModel.call": f"{M}:model_call_default_training"},
        ("test_transfer_model",),
        variant="default_training",
    ),
    WrongVersion(
        "augmentation_at_inference",
        {"TransferModel.call": f"{M}:model_call_augments_always"},
        ("test_transfer_model",),
    ),
    WrongVersion(
        "augmentation_ignored",
        {"TransferModel.call": f"{M}:model_call_no_augmentation"},
        ("test_transfer_model",),
    ),
    WrongVersion(
        "base_left_frozen", {"unfreeze_from": f"{M}:unfreeze_layers_only"}, ("test_unfreeze_from",)
    ),
    WrongVersion(
        "weights_frozen_layers_not",
        {"unfreeze_from": f"{M}:unfreeze_weights_only"},
        ("test_unfreeze_from",),
    ),
    WrongVersion(
        "no_recompile", {"fine_tune": f"{M}:fine_tune_without_compile"}, ("test_fine_tune",)
    ),
    WrongVersion(
        "fine_tune_rate_too_high", {"fine_tune": f"{M}:fine_tune_head_rate"}, ("test_fine_tune",)
    ),
)
