"""Wrong versions of lesson 08's code, each making one catalogued mistake.

Written the way students write them (masks of floats multiplied in, comparisons the other way
round, NumPy where TensorFlow belongs), not as edits of the reference.
"""

import keras
from keras import ops

from solutions.dropout import mask_shape, standardize_data_format
from solutions.mistakes import WrongVersion


def call_no_rescaling(self, inputs, training=None):
    """Zeroes the dropped values and leaves the kept ones as they are."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    mask = ops.cast(keras.random.uniform(shape, seed=self.seed_generator) >= self.rate, "float32")
    return inputs * mask


def call_rescaled_at_inference(self, inputs, training=None):
    """Scales by 1 / (1 - rate) in both modes; drops only while training."""
    scaled = inputs / (1 - self.rate) if self.rate < 1 else ops.zeros_like(inputs)
    if not training or self.rate == 0:
        return scaled
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
    return ops.where(keep, scaled, ops.zeros_like(inputs))


def call_rate_as_keep(self, inputs, training=None):
    """Keeps a value when the uniform draw is below rate: rate read as the keep probability
    (the scaling by 1 / (1 - rate) is right)."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    keep = keras.random.uniform(shape, seed=self.seed_generator) < self.rate
    return ops.where(keep, inputs / (1 - self.rate), 0.0)


def call_rate_as_keep_scaled(self, inputs, training=None):
    """Consistently wrong: keeps with probability rate and scales by 1 / rate."""
    if not training or self.rate == 0:
        return inputs
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    mask = keras.random.uniform(shape, seed=self.seed_generator) < self.rate
    return inputs * ops.cast(mask, inputs.dtype) / self.rate


def call_drops_when_training_none(self, inputs, training=None):
    """Only training=False counts as inference: training=None (not given) drops."""
    if training is False or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_always_drops(self, inputs, training=None):
    """Forgets `training` altogether."""
    if self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_batch_shared(self, inputs, training=None):
    """Draws the mask for one sample and lets it broadcast over the batch."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    keep = keras.random.uniform((1, *shape[1:]), seed=self.seed_generator) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_noise_shape_ignored(self, inputs, training=None):
    """One decision per value, whatever noise_shape says."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_none_as_one(self, inputs, training=None):
    """Reads None in noise_shape as 1, thinking of None as "no axis of its own"."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = ops.shape(inputs)
    if self.noise_shape is not None:
        shape = tuple(1 if size is None else size for size in self.noise_shape)
    keep = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_numpy_mask(self, inputs, training=None):
    """Draws the mask with NumPy: right in eager mode, frozen (or impossible) when traced."""
    import numpy as np  # the notebook imports it at the top

    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(inputs.shape, self.noise_shape)
    keep = np.random.random_sample(shape) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_integer_seed(self, inputs, training=None):
    """Passes the integer seed to keras.random at every call: the same numbers every time."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    seed = 1337 if self.seed is None else self.seed
    keep = keras.random.uniform(shape, seed=seed) >= self.rate
    return ops.where(keep, inputs / (1 - self.rate), ops.zeros_like(inputs))


def call_mask_drawn_once(self, inputs, training=None):
    """Draws the mask from the generator at the first call, keeps it on self and reuses it."""
    if not training or self.rate == 0:
        return inputs
    if self.rate == 1:
        return ops.zeros_like(inputs)
    if getattr(self, "mask", None) is None:
        shape = mask_shape(ops.shape(inputs), self.noise_shape)
        self.mask = keras.random.uniform(shape, seed=self.seed_generator) >= self.rate
    return ops.where(self.mask, inputs / (1 - self.rate), ops.zeros_like(inputs))


def init_seed_ignored(self, rate, noise_shape=None, seed=None, **kwargs):
    """Stores the seed but builds the generator without it."""
    super().__init__(**kwargs)
    if not 0 <= rate <= 1:
        raise ValueError(
            "Invalid value received for argument `rate`. Expected a float value between "
            f"0 and 1. Received: rate={rate}"
        )
    self.rate = rate
    self.noise_shape = None if noise_shape is None else tuple(noise_shape)
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator()
    self.supports_masking = True


def call_rate_one_nan(self, inputs, training=None):
    """Multiplies by a float mask and divides by 1 - rate, with no special case for rate=1."""
    if not training:
        return inputs
    shape = mask_shape(ops.shape(inputs), self.noise_shape)
    draws = keras.random.uniform(shape, seed=self.seed_generator)
    mask = ops.cast(draws >= self.rate, inputs.dtype)
    return inputs * mask / ops.convert_to_tensor(1 - self.rate, inputs.dtype)


def init_rate_not_validated(self, rate, noise_shape=None, seed=None, **kwargs):
    """Takes any rate."""
    super().__init__(**kwargs)
    self.rate = rate
    self.noise_shape = None if noise_shape is None else tuple(noise_shape)
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)
    self.supports_masking = True


def spatial_init_elements(self, rate, data_format=None, seed=None, **kwargs):
    """Forgets to ask Dropout for whole feature maps: one decision per value."""
    data_format = standardize_data_format(data_format)
    super().__init__(rate, seed=seed, **kwargs)
    self.data_format = data_format
    self.input_spec = keras.InputSpec(ndim=4)


def spatial_init_batch_shared(self, rate, data_format=None, seed=None, **kwargs):
    """One decision per channel, shared by every sample of the batch."""
    data_format = standardize_data_format(data_format)
    noise_shape = (1, 1, 1, None) if data_format == "channels_last" else (1, None, 1, 1)
    super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
    self.data_format = data_format
    self.input_spec = keras.InputSpec(ndim=4)


def spatial_init_data_format_ignored(self, rate, data_format=None, seed=None, **kwargs):
    """Stores data_format but always takes the last axis as the channels."""
    data_format = standardize_data_format(data_format)
    super().__init__(rate, noise_shape=(None, 1, 1, None), seed=seed, **kwargs)
    self.data_format = data_format
    self.input_spec = keras.InputSpec(ndim=4)


def spatial_init_default_first(self, rate, data_format=None, seed=None, **kwargs):
    """Chooses noise_shape before standardizing data_format: None gets channels_first's."""
    noise_shape = (None, 1, 1, None) if data_format == "channels_last" else (None, None, 1, 1)
    data_format = standardize_data_format(data_format)
    super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
    self.data_format = data_format
    self.input_spec = keras.InputSpec(ndim=4)


M = "solutions.mistakes.dropout"
SPATIAL = "test_spatial_dropout_maps"

WRONG_VERSIONS = (
    WrongVersion(
        "no_rescaling",
        {"Dropout.call": f"{M}:call_no_rescaling"},
        ("test_dropout_kept_values", "test_dropout_gradient", SPATIAL),
    ),
    WrongVersion(
        "rescaled_at_inference",
        {"Dropout.call": f"{M}:call_rescaled_at_inference"},
        ("test_dropout_inference", SPATIAL),
    ),
    WrongVersion(
        "rate_as_keep_probability",
        {"Dropout.call": f"{M}:call_rate_as_keep"},
        ("test_dropout_keep_rate", SPATIAL),
        variant="kept_rescaled",
    ),
    WrongVersion(
        "rate_as_keep_probability",
        {"Dropout.call": f"{M}:call_rate_as_keep_scaled"},
        ("test_dropout_kept_values", "test_dropout_keep_rate", "test_dropout_gradient", SPATIAL),
        variant="scaled_by_rate",
    ),
    WrongVersion(
        "drops_at_inference",
        {"Dropout.call": f"{M}:call_drops_when_training_none"},
        ("test_dropout_inference", SPATIAL),
        variant="training_none",
    ),
    WrongVersion(
        "drops_at_inference",
        {"Dropout.call": f"{M}:call_always_drops"},
        ("test_dropout_inference", SPATIAL),
        variant="always",
    ),
    WrongVersion(
        "batch_shared_mask",
        {"Dropout.call": f"{M}:call_batch_shared"},
        ("test_dropout_fresh_masks", "test_dropout_noise_shape", SPATIAL),
    ),
    WrongVersion(
        "noise_shape_ignored",
        {"Dropout.call": f"{M}:call_noise_shape_ignored"},
        ("test_dropout_noise_shape", SPATIAL),
    ),
    WrongVersion(
        "none_read_as_one",
        {"Dropout.call": f"{M}:call_none_as_one"},
        ("test_dropout_noise_shape", SPATIAL),
    ),
    WrongVersion(
        "numpy_mask",
        {"Dropout.call": f"{M}:call_numpy_mask"},
        ("test_dropout_seed", "test_dropout_compiled"),
    ),
    WrongVersion(
        "same_mask_every_call",
        {"Dropout.call": f"{M}:call_integer_seed"},
        ("test_dropout_fresh_masks", "test_dropout_seed", "test_dropout_compiled"),
    ),
    WrongVersion(
        "mask_kept_on_self",
        {"Dropout.call": f"{M}:call_mask_drawn_once"},
        ("test_dropout_fresh_masks", "test_dropout_compiled"),
    ),
    WrongVersion(
        "seed_ignored",
        {"Dropout.__init__": f"{M}:init_seed_ignored"},
        ("test_dropout_seed",),
    ),
    WrongVersion(
        "rate_one_nan",
        {"Dropout.call": f"{M}:call_rate_one_nan"},
        ("test_dropout_kept_values", "test_dropout_gradient"),
    ),
    WrongVersion(
        "rate_not_validated",
        {"Dropout.__init__": f"{M}:init_rate_not_validated"},
        ("test_dropout_contract", "test_spatial_dropout_contract"),
    ),
    WrongVersion(
        "spatial_drops_elements",
        {"SpatialDropout2D.__init__": f"{M}:spatial_init_elements"},
        (SPATIAL,),
    ),
    WrongVersion(
        "batch_shared_mask",
        {"SpatialDropout2D.__init__": f"{M}:spatial_init_batch_shared"},
        (SPATIAL,),
    ),
    WrongVersion(
        "data_format_ignored",
        {"SpatialDropout2D.__init__": f"{M}:spatial_init_data_format_ignored"},
        (SPATIAL,),
    ),
    WrongVersion(
        "default_format_as_channels_first",
        {"SpatialDropout2D.__init__": f"{M}:spatial_init_default_first"},
        (SPATIAL,),
    ),
)
