"""Lesson 08, dropout: the shape of a dropout mask, and the layers Dropout and SpatialDropout2D.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
"""

import keras
from keras import ops


def mask_shape(input_shape, noise_shape):
    """The shape of the keep/drop mask that dropout draws for inputs of shape `input_shape`.

    Args:
        input_shape: the shape of the inputs, a tuple whose entries are ints (or, inside a
            compiled function, scalar tensors for sizes known only when data arrives).
        noise_shape: `None` (one decision per input value) or a tuple as long as
            `input_shape`: an int entry is the mask's size along that axis (1 shares one
            decision along the whole axis), a `None` entry takes the input's size.

    Returns:
        A tuple as long as `input_shape`: `input_shape` itself when `noise_shape` is None,
        else `noise_shape` with every `None` replaced by the input's size on that axis.
    """
    ### BEGIN SOLUTION
    if noise_shape is None:
        return tuple(input_shape)
    pairs = zip(input_shape, noise_shape, strict=True)
    return tuple(size if wanted is None else wanted for size, wanted in pairs)
    ### END SOLUTION


def standardize_data_format(data_format):
    """`"channels_last"` or `"channels_first"`; `None` means Keras's configured default
    (`keras.config.image_data_format()`, normally `"channels_last"`)."""
    value = keras.config.image_data_format() if data_format is None else str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            "`data_format` must be 'channels_last' or 'channels_first'. "
            f"Received: data_format={data_format!r}"
        )
    return value


class Dropout(keras.layers.Layer):
    """Inverted dropout, a drop-in for `keras.layers.Dropout`.

    While training, every input value is kept with probability `1 - rate` and then scaled by
    `1 / (1 - rate)`, or set to 0 with probability `rate`, with a fresh random mask at every
    call. At inference (`training` false or not given) the layer returns its inputs unchanged:
    the scaling during training already made the expected output equal to the input.

    Args:
        rate: float in [0, 1], the fraction of the input values to drop.
        noise_shape: `None` (one decision per value) or a tuple, the shape of the mask that is
            broadcast over the inputs; `None` entries take the input's size
            (`noise_shape=(None, 1, None)` on `(batch, steps, features)` drops the same
            features at every step).
        seed: int or `None`, the seed of the layer's `keras.random.SeedGenerator`: two layers
            with the same seed draw the same sequence of masks, call after call.

    Call arguments:
        inputs: a tensor of any shape.
        training: `True` to drop; `False` or `None` (default) to pass the inputs through.

    Everything `keras.layers.Dropout` offers is supported.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        ### BEGIN SOLUTION
        if not 0 <= rate <= 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate}"
            )
        self.rate = rate
        if noise_shape is not None:  # Keras's checks and messages
            invalid = "Invalid value received for argument `noise_shape`. Expected {}. Received: "
            if isinstance(noise_shape, str):
                expected = "a tuple or list of integers"
            elif not all(size is None or isinstance(size, int) for size in noise_shape):
                expected = "all elements to be integers or None"
            elif not all(size is None or size > 0 for size in noise_shape):
                expected = "all dimensions to be positive integers or None"
            else:
                expected = None
            if expected:
                raise ValueError(invalid.format(expected) + f"noise_shape={noise_shape}")
            noise_shape = tuple(noise_shape)
        self.noise_shape = noise_shape
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        ### END SOLUTION
        self.supports_masking = True
        self._build_at_init()  # no weights to create: built now, as Keras's Dropout is

    def call(self, inputs, training=None):
        """Keep each value with probability 1 - rate and scale it by 1 / (1 - rate) when
        training; return the inputs unchanged otherwise."""
        ### BEGIN SOLUTION
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return ops.zeros_like(inputs)
        shape = mask_shape(ops.shape(inputs), self.noise_shape)
        keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": self.noise_shape,
        }


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps, a drop-in for `keras.layers.SpatialDropout2D`.

    Neighbouring values of a feature map are strongly correlated, so dropping single values
    hardly removes any information. This layer makes one keep/drop decision per sample and
    channel: a channel of an image is either kept entirely (and scaled by 1 / (1 - rate)) or
    set to 0 entirely.

    Args:
        rate: float in [0, 1], the fraction of the feature maps to drop.
        data_format: `"channels_last"` (batch, H, W, C), `"channels_first"` (batch, C, H, W),
            or `None` for Keras's default (`keras.config.image_data_format()`).
        seed: int or `None`, the seed of the layer's random masks.

    Call arguments:
        inputs: a tensor of shape (batch, H, W, C) or (batch, C, H, W).
        training: `True` to drop; `False` or `None` (default) to pass the inputs through.

    Everything `keras.layers.SpatialDropout2D` offers is supported.
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        ### BEGIN SOLUTION
        data_format = standardize_data_format(data_format)
        if data_format == "channels_last":
            noise_shape = (None, 1, 1, None)
        else:
            noise_shape = (None, None, 1, 1)
        ### END SOLUTION
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.data_format = data_format
        self.input_spec = keras.InputSpec(ndim=4)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]  # fixed by data_format; not an argument of this layer
        return {**config, "data_format": self.data_format}


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module under keras/src/layers that tests its namesake). A later lesson's
# entry of the same name replaces it.
LIBRARY = {
    "Dropout": (Dropout, "dropout_test.py"),
    "SpatialDropout2D": (SpatialDropout2D, "spatial_dropout_test.py"),
}
