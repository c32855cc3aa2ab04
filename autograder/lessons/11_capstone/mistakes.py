"""Known mistakes of lesson 11 (the capstone's residual block), and the trusted block they are
told apart with.

The trusted block (`reference_block`) is the residual block built from `keras.layers` in a
functional model: Conv2D, BatchNormalization, ReLU and Add, holding the case's weights. Each
catalogued mistake is the same model with one thing changed, so a student's output that
equals one of them names the mistake.
"""

from ...diagnosis import Mistake

SKIP_AFTER_RELU = Mistake(
    "skip_after_relu",
    "the skip connection added after the final ReLU",
    "The block's output is ReLU(main + skip): add the skip path to the second batch "
    "normalization's output, then apply the ReLU. Yours applies the ReLU first and adds the "
    "skip after it, so the output can be negative and the block no longer ends in a ReLU.",
)
PROJECTION_MISSING = Mistake(
    "projection_missing",
    "the projection missing when the channels change",
    "When the input has another number of channels than `filters`, x cannot be added to the "
    "main path as it is: the skip path needs a 1x1 convolution to `filters` channels (with the "
    "block's stride) and a batch normalization. Yours adds a projection only when the stride "
    "changes; test `input_shape[-1] != self.filters or self.strides != (1, 1)`.",
)
BN_ALWAYS_TRAINING = Mistake(
    "bn_always_training",
    "batch normalization in the wrong mode at evaluation",
    "At evaluation (training=False, model.predict, model.evaluate) batch normalization must "
    "use its moving mean and variance, not the statistics of the batch in front of it. Yours "
    "runs the batch normalizations in training mode when the block is called with "
    "training=False: pass the block's own `training` argument on to each of them, as it is.",
)
BN_ALWAYS_INFERENCE = Mistake(
    "bn_always_inference",
    "batch normalization in the wrong mode while training",
    "In training (training=True, model.fit) batch normalization must normalize with the "
    "statistics of the batch in front of it, and update its moving ones. Yours uses the moving "
    "mean and variance then, as at evaluation: pass the block's own `training` argument on to "
    "each batch normalization, as it is.",
)
STRIDE_SKIP_ONLY = Mistake(
    "stride_skip_only",
    "the stride applied to the skip path but not to the main path",
    "A block with strides=2 makes the image smaller on both paths: the first 3x3 convolution "
    "of the main path and the 1x1 projection of the skip path both take `strides`. Yours "
    "gives the stride to the projection only, so the two paths have different sizes.",
)
TRAINING_BY_DEFAULT = Mistake(
    "training_by_default",
    "batch statistics when the block is called without `training`",
    "Called without a `training` argument (`block(x)`, or `model(x)` outside `fit`), a Keras "
    "layer runs in inference mode: its batch normalizations use their moving mean and variance. "
    "Yours uses the statistics of the batch then: keep `training=None` as the default of `call` "
    "and pass `training` on to each batch normalization as it is.",
)
CATALOGUE = (
    SKIP_AFTER_RELU,
    PROJECTION_MISSING,
    BN_ALWAYS_TRAINING,
    BN_ALWAYS_INFERENCE,
    STRIDE_SKIP_ONLY,
    TRAINING_BY_DEFAULT,
)

SUBLAYERS = ("conv1", "bn1", "conv2", "bn2", "projection", "projection_bn")


def reference_block(
    input_shape,
    filters,
    kernel_size=3,
    strides=1,
    momentum=0.99,
    epsilon=1e-3,
    skip_after_relu=False,
):
    """The residual block as a functional Keras model from `keras.layers`, and its sublayers
    by the names the notebook gives them (`projection` only when the shape changes)."""
    import keras

    def pair(value):
        return (value, value) if isinstance(value, int) else tuple(value)

    strides = pair(strides)
    inputs = keras.Input(tuple(input_shape[1:]))

    def conv(size, step):
        return keras.layers.Conv2D(filters, size, strides=step, padding="same", use_bias=False)

    def bn():
        return keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)

    layers = {"conv1": conv(kernel_size, strides), "bn1": bn(), "conv2": conv(kernel_size, 1)}
    layers["bn2"] = bn()
    main = keras.layers.ReLU()(layers["bn1"](layers["conv1"](inputs)))
    main = layers["bn2"](layers["conv2"](main))
    skip = inputs
    if input_shape[-1] != filters or strides != (1, 1):
        layers["projection"], layers["projection_bn"] = conv(1, strides), bn()
        skip = layers["projection_bn"](layers["projection"](inputs))
    if skip_after_relu:
        outputs = keras.layers.Add()([keras.layers.ReLU()(main), skip])
    else:
        outputs = keras.layers.ReLU()(keras.layers.Add()([main, skip]))
    return keras.Model(inputs, outputs), layers
