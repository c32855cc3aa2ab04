"""Lesson 11, the capstone: a residual block, a residual network that learns the course's
digits, and the classic networks it is compared with.

The `### BEGIN SOLUTION` / `### END SOLUTION` comments mark what the released notebook
hides from students; `cnn-course sync` copies these objects into the lesson notebook.
The block is built from `keras.layers` Conv2D, BatchNormalization and ReLU: the capstone
uses the layers the course taught, in Keras's fast versions.
"""

import keras

from solutions.convolution import as_pair

# --- the residual block ------------------------------------------------------------------


class ResidualBlock(keras.layers.Layer):
    """A residual block (He et al., 2015): conv, batch normalization, ReLU, conv, batch
    normalization, plus the skip connection, then ReLU.

        main  = BN2(Conv2(ReLU(BN1(Conv1(x)))))        Conv1 has the stride
        skip  = x, or BN_p(Conv_p(x)) when the channels or the stride change
        out   = ReLU(main + skip)

    Conv1 and Conv2 are `filters` kernels of `kernel_size`, "same" padding, no bias (the batch
    normalization after each has its own offset); Conv1 has `strides`. The projection Conv_p
    is 1x1 with `strides` and `filters` kernels, no bias.

    Sublayers (created in `build`, in this order): `conv1`, `bn1`, `conv2`, `bn2`, and, only
    when the input's channels differ from `filters` or `strides` is not 1, `projection` and
    `projection_bn` (else both are None).

    Not supported: channels_first inputs (the block has no `data_format`), a bias in its
    convolutions, other activations than ReLU.
    """

    def __init__(self, filters, kernel_size=3, strides=1, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = as_pair(kernel_size, "kernel_size")
        self.strides = as_pair(strides, "strides")
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)

    def _conv(self, kernel_size, strides, name):
        return keras.layers.Conv2D(
            self.filters, kernel_size, strides=strides, padding="same", use_bias=False, name=name
        )

    def _bn(self, name):
        return keras.layers.BatchNormalization(
            momentum=self.momentum, epsilon=self.epsilon, name=name
        )

    def build(self, input_shape):
        """Create and build the sublayers; the projection only when the shape changes."""
        ### BEGIN SOLUTION
        channels = input_shape[-1]
        self.conv1 = self._conv(self.kernel_size, self.strides, "conv1")
        self.bn1 = self._bn("bn1")
        self.conv2 = self._conv(self.kernel_size, 1, "conv2")
        self.bn2 = self._bn("bn2")
        self.conv1.build(input_shape)
        inner = self.conv1.compute_output_shape(input_shape)
        self.bn1.build(inner)
        self.conv2.build(inner)
        self.bn2.build(inner)
        self.projection = self.projection_bn = None
        if channels != self.filters or self.strides != (1, 1):
            self.projection = self._conv(1, self.strides, "projection")
            self.projection_bn = self._bn("projection_bn")
            self.projection.build(input_shape)
            self.projection_bn.build(inner)
        ### END SOLUTION

    def call(self, inputs, training=None):
        """ReLU(main + skip), the batch normalizations in the mode `training` asks for."""
        ### BEGIN SOLUTION
        main = keras.ops.relu(self.bn1(self.conv1(inputs), training=training))
        main = self.bn2(self.conv2(main), training=training)
        skip = inputs
        if self.projection is not None:
            skip = self.projection_bn(self.projection(inputs), training=training)
        return keras.ops.relu(main + skip)
        ### END SOLUTION

    def compute_output_shape(self, input_shape):
        """(batch, H, W, C) -> (batch, ceil(H / sh), ceil(W / sw), filters); None stays None."""
        ### BEGIN SOLUTION
        batch, height, width, _ = input_shape
        sizes = [
            None if n is None else -(-n // s)
            for n, s in zip((height, width), self.strides, strict=True)
        ]
        return (batch, *sizes, self.filters)
        ### END SOLUTION

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
        }


# --- the student's residual network ------------------------------------------------------


def build_network(num_classes=10, input_shape=(28, 28, 1)):
    """Your residual network for 28x28 digits, compiled and ready for `train`.

    Returns a `keras.Model` compiled with a loss for integer labels and the accuracy metric.
    """
    ### BEGIN SOLUTION
    inputs = keras.Input(input_shape)
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9)(x)
    x = keras.layers.ReLU()(x)  # (14, 14, 16)
    x = ResidualBlock(24, momentum=0.9)(x)  # (14, 14, 24)
    x = ResidualBlock(48, strides=2, momentum=0.9)(x)  # (7, 7, 48)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs, name="residual_network")
    # 2 epochs of 4,000 images in batches of 50: the rate falls from 3e-3 to 1.5e-4 over them
    rate = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=2 * 4000 // 50, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=16,  # one Python call of the training loop per 16 batches
    )
    return model
    ### END SOLUTION


def train(model, x, y):
    """Train `model` (from `build_network`) on images `x` (n, 28, 28, 1) and labels `y` (n,);
    return the `keras.callbacks.History` of `model.fit`."""
    ### BEGIN SOLUTION
    return model.fit(x, y, epochs=2, batch_size=50, verbose=0)
    ### END SOLUTION


# --- the networks it is compared with ------------------------------------------------------


def lenet5(num_classes=10, input_shape=(28, 28, 1)):
    """LeNet-5 (LeCun et al., 1998) for 28x28 digits: 6 and 16 filters of 5x5, each followed
    by 2x2 average pooling, then 120, 84 and 10 units; tanh throughout, as in the paper (the
    first convolution pads to "same", as a 32x32 input with a 2-pixel border would)."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(6, 5, padding="same", activation="tanh"),
            keras.layers.AveragePooling2D(2),
            keras.layers.Conv2D(16, 5, activation="tanh"),
            keras.layers.AveragePooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(120, activation="tanh"),
            keras.layers.Dense(84, activation="tanh"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="lenet5",
    )


def lecture_network(num_classes=10, input_shape=(28, 28, 1)):
    """The lecture's 28x28 digit network: 4 filters of 5x5 (stride 1), 8 of 5x5 (stride 2),
    12 of 4x4 (stride 2), all "same" and ReLU, giving 3136, 1568 and 588 hidden units; then
    200 units and 10 outputs."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(4, 5, padding="same", activation="relu"),
            keras.layers.Conv2D(8, 5, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2D(12, 4, strides=2, padding="same", activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(200, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="lecture_network",
    )


# What this lesson gives the library (`solutions.layers`): exported name -> (layer, the
# Keras test module of its namesake); the residual block has no Keras namesake.
LIBRARY = {"ResidualBlock": (ResidualBlock, None)}
