"""Lesson 09, transfer learning: the augmentation layer RandomFlip, and reusing a pretrained base
for new classes (freeze it, put a new head on its feature maps, train the head, then fine-tune
the top of the base at a low learning rate).

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
from keras import ops

from course import pretrained


def standardize_data_format(data_format):
    """This course's layers work on channels-last images only."""
    value = data_format or "channels_last"
    if value != "channels_last":
        raise ValueError(
            "This lesson's layers support data_format='channels_last' only. "
            f"Received: data_format={data_format!r}"
        )
    return value


class RandomFlip(keras.layers.Layer):
    """Mirror each image at random while training, a drop-in for `keras.layers.RandomFlip`.

    A horizontal flip mirrors an image left to right (it reverses the width axis); a vertical
    flip mirrors it top to bottom (it reverses the height axis). Each image of a batch decides
    on its own, with probability 1/2, whether it is flipped. At inference (`training=False`)
    the images pass through unchanged.

    Args:
        mode: `"horizontal"`, `"vertical"` or `"horizontal_and_vertical"` (default), which
            flips each axis with probability 1/2. (Keras 3 makes one decision per image for
            both axes in this mode, so its images are either unchanged or turned by 180
            degrees; both are valid augmentations.)
        seed: an int for reproducible flips (two layers with the same seed flip the same
            images), or `None`.
        data_format: `None` or `"channels_last"`.

    Not supported: channels-first images (refused with a `ValueError`), and the bounding
    boxes and segmentation masks that Keras's augmentation layers also transform
    (`bounding_box_format`, dict inputs).

    Call arguments:
        inputs: images of shape (batch, height, width, channels), or one image (height, width,
            channels).
        training: `True` (default, as in Keras: a direct call flips) or `False` (inference:
            no flips). `fit` passes `True`, `predict` and `evaluate` pass `False`.

    Output: the images, flipped or not, with the input's shape, as floats of the layer's
    dtype (float32 by default).
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in self.MODES:
            raise ValueError(f"`mode` must be one of {self.MODES}. Received: mode={mode!r}")
        self.mode = mode
        self.seed = seed
        self.data_format = standardize_data_format(data_format)
        ### BEGIN SOLUTION
        self.generator = keras.random.SeedGenerator(seed)
        ### END SOLUTION

    def call(self, inputs, training=True):
        """Flip each image of the batch, or not, as the mode says; no flips at inference."""
        images = ops.cast(inputs, self.compute_dtype)
        if len(images.shape) == 3:  # a single image (height, width, channels): a batch of one
            return self.call(images[None], training=training)[0]
        ### BEGIN SOLUTION
        if not training:
            return images
        one_per_image = (ops.shape(images)[0], 1, 1, 1)
        if self.mode in ("horizontal", "horizontal_and_vertical"):
            flip = keras.random.uniform(one_per_image, seed=self.generator) < 0.5
            images = ops.where(flip, ops.flip(images, axis=2), images)  # width: left <-> right
        if self.mode in ("vertical", "horizontal_and_vertical"):
            flip = keras.random.uniform(one_per_image, seed=self.generator) < 0.5
            images = ops.where(flip, ops.flip(images, axis=1), images)  # height: top <-> bottom
        return images
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """Flipping keeps the shape."""
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "mode": self.mode,
            "seed": self.seed,
            "data_format": self.data_format,
        }


def freeze(model):
    """Freeze `model`: none of its weights may change in training. Returns `model`.

    After this, `model.trainable_weights` is empty and every weight is among
    `model.non_trainable_weights`; its BatchNormalization layers also stop updating their
    moving statistics (Keras runs a frozen BatchNormalization in inference mode).
    """
    ### BEGIN SOLUTION
    model.trainable = False
    return model
    ### END SOLUTION


class TransferModel(keras.Model):
    """A pretrained convolutional base with a new head for new classes.

    images -> augmentation (training only) -> `pretrained.preprocess_input` -> base (always in
    inference mode) -> GlobalAveragePooling2D -> Dense(num_classes, softmax).

    Args:
        base: the pretrained base, a model from images (batch, 28, 28, 1) preprocessed by
            `pretrained.preprocess_input` to feature maps (batch, h, w, channels).
        num_classes: the number of classes of the new task.
        augmentation: a layer applied to the images while training (such as a RandomFlip),
            or `None`.

    Call arguments:
        images: (batch, 28, 28, 1), pixels in [0, 1].
        training: `False` (default) at inference, `True` in `fit`.

    Output: class probabilities, (batch, num_classes).
    """

    def __init__(self, base, num_classes, augmentation=None, **kwargs):
        super().__init__(**kwargs)
        self.base = base
        self.num_classes = num_classes
        self.augmentation = augmentation
        ### BEGIN SOLUTION
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.classifier = keras.layers.Dense(num_classes, activation="softmax")
        ### END SOLUTION

    def call(self, images, training=False):
        """Class probabilities of the images; the base's BatchNormalization stays in inference
        mode even while the model trains."""
        ### BEGIN SOLUTION
        x = images
        if self.augmentation is not None:
            x = self.augmentation(x, training=training)
        x = pretrained.preprocess_input(x)
        features = self.base(x, training=False)
        return self.classifier(self.pool(features))
        ### END SOLUTION


def train_head(model, x, y, epochs=10, batch_size=16, learning_rate=1e-2):
    """Compile `model` for integer labels and train it on (x, y); return the `History`.

    Compile with `keras.optimizers.Adam(learning_rate)`, the loss
    `"sparse_categorical_crossentropy"` (y holds class numbers 0, 1, ...) and the metric
    `"accuracy"`, then `fit` silently (`verbose=0`). Only the weights that are trainable when
    `compile` runs are trained: with a frozen base, that is the new head.
    """
    ### BEGIN SOLUTION
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    ### END SOLUTION


def unfreeze_from(base, layer_name):
    """Make the layers of `base` from `layer_name` on trainable; keep those before it frozen.

    Returns `base`. Raises ValueError when `base` has no layer called `layer_name`.
    """
    ### BEGIN SOLUTION
    names = [layer.name for layer in base.layers]
    if layer_name not in names:
        raise ValueError(f"The base has no layer {layer_name!r}; its layers are {names}.")
    base.trainable = True
    for layer in base.layers[: names.index(layer_name)]:
        layer.trainable = False
    return base
    ### END SOLUTION


def fine_tune(model, x, y, epochs=10, batch_size=16, learning_rate=1e-4):
    """Train `model` again after part of its base was unfrozen; return the `History`.

    Recompile first, with `keras.optimizers.Adam(learning_rate)` (a learning rate far below the
    head's) and the same loss and metric as `train_head`: a model trains the weights that were
    trainable when it was compiled, so a change of `trainable` needs a new `compile`.
    """
    ### BEGIN SOLUTION
    return train_head(
        model, x, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate
    )
    ### END SOLUTION


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {"RandomFlip": (RandomFlip, "random_flip_test.py")}
