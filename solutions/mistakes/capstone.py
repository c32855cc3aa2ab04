"""Wrong versions of lesson 11's residual block, each making one catalogued mistake.

Written as students write them: the block's methods with one thing done the way it first
comes to mind. They call the block's given helpers (`_conv`, `_bn`) as the notebook's do.
"""

import keras

from solutions.mistakes import WrongVersion


def call_skip_after_relu(self, inputs, training=None):
    """Both ReLUs on the main path, then the skip added: ReLU(main) + skip."""
    main = keras.ops.relu(self.bn1(self.conv1(inputs), training=training))
    main = keras.ops.relu(self.bn2(self.conv2(main), training=training))
    skip = inputs
    if self.projection is not None:
        skip = self.projection_bn(self.projection(inputs), training=training)
    return main + skip


def call_bn_always_training(self, inputs, training=None):
    """Every batch normalization told training=True, whatever the block is called with."""
    main = keras.ops.relu(self.bn1(self.conv1(inputs), training=True))
    main = self.bn2(self.conv2(main), training=True)
    skip = inputs
    if self.projection is not None:
        skip = self.projection_bn(self.projection(inputs), training=True)
    return keras.ops.relu(main + skip)


def call_bn_always_inference(self, inputs, training=None):
    """Every batch normalization told training=False: "the block is not what is trained"."""
    main = keras.ops.relu(self.bn1(self.conv1(inputs), training=False))
    main = self.bn2(self.conv2(main), training=False)
    skip = inputs
    if self.projection is not None:
        skip = self.projection_bn(self.projection(inputs), training=False)
    return keras.ops.relu(main + skip)


def call_training_by_default(self, inputs, training=True):
    """Batch statistics unless told otherwise: training defaults to True."""
    main = keras.ops.relu(self.bn1(self.conv1(inputs), training=training))
    main = self.bn2(self.conv2(main), training=training)
    skip = inputs
    if self.projection is not None:
        skip = self.projection_bn(self.projection(inputs), training=training)
    return keras.ops.relu(main + skip)


def build_projection_for_stride_only(self, input_shape):
    """A projection only when the stride changes: a change of channels alone keeps x."""
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
    if self.strides != (1, 1):
        self.projection = self._conv(1, self.strides, "projection")
        self.projection_bn = self._bn("projection_bn")
        self.projection.build(input_shape)
        self.projection_bn.build(inner)


def build_stride_on_skip_only(self, input_shape):
    """The stride given to the projection, the main path's convolutions left at stride 1."""
    self.conv1 = self._conv(self.kernel_size, 1, "conv1")
    self.bn1 = self._bn("bn1")
    self.conv2 = self._conv(self.kernel_size, 1, "conv2")
    self.bn2 = self._bn("bn2")
    self.conv1.build(input_shape)
    inner = self.conv1.compute_output_shape(input_shape)
    self.bn1.build(inner)
    self.conv2.build(inner)
    self.bn2.build(inner)
    self.projection = self.projection_bn = None
    if input_shape[-1] != self.filters or self.strides != (1, 1):
        self.projection = self._conv(1, self.strides, "projection")
        self.projection_bn = self._bn("projection_bn")
        self.projection.build(input_shape)
        self.projection_bn.build(self.projection.compute_output_shape(input_shape))


M = "solutions.mistakes.capstone"
NETWORK = "test_network"

WRONG_VERSIONS = (
    WrongVersion(
        "skip_after_relu",
        {"ResidualBlock.call": f"{M}:call_skip_after_relu"},
        ("test_residual_block_training", "test_residual_block_inference", NETWORK),
    ),
    WrongVersion(
        "projection_missing",
        {"ResidualBlock.build": f"{M}:build_projection_for_stride_only"},
        (
            "test_residual_block_contract",
            "test_residual_block_training",
            "test_residual_block_inference",
            NETWORK,
        ),
    ),
    WrongVersion(
        "bn_always_training",
        {"ResidualBlock.call": f"{M}:call_bn_always_training"},
        ("test_residual_block_inference", NETWORK),
    ),
    WrongVersion(
        "bn_always_inference",
        {"ResidualBlock.call": f"{M}:call_bn_always_inference"},
        ("test_residual_block_training", NETWORK),
    ),
    WrongVersion(
        "training_by_default",
        {"ResidualBlock.call": f"{M}:call_training_by_default"},
        ("test_residual_block_inference", NETWORK),
    ),
    WrongVersion(
        "stride_skip_only",
        {"ResidualBlock.build": f"{M}:build_stride_on_skip_only"},
        (
            "test_residual_block_contract",
            "test_residual_block_training",
            "test_residual_block_inference",
            NETWORK,
        ),
    ),
)
